/** BackendSpec → ONNX Runtime session options. Pure, so the GPU paths are tested on machines without a GPU. */
import type { InferenceSession } from 'onnxruntime-node';
import type { BackendSpec } from '../presets.js';

export function executionProviders(spec: BackendSpec): string[] {
  switch (spec.provider) {
    case 'cuda':
      return ['cuda'];
    // TensorRT cannot take every node; CUDA takes the rest. CPU is never a silent third (see fallback below).
    case 'tensorrt':
      return ['tensorrt', 'cuda'];
    case 'cpu':
    case undefined:
      return ['cpu'];
  }
}

/**
 * `paired`: this session shares its process with a second one (same-run A/B). Their thread pools must not spin
 * while the other runs (a spinning pool steals the cores the other needs), so spinning is off for both.
 */
export function sessionOptions(spec: BackendSpec, paired = false): InferenceSession.SessionOptions {
  const gpu = spec.provider === 'cuda' || spec.provider === 'tensorrt';
  const options: InferenceSession.SessionOptions = {
    // The Node binding passes only deviceId to the CUDA and TensorRT providers (DESIGN.md).
    executionProviders: executionProviders(spec).map((name) =>
      name === 'cpu' ? 'cpu' : { name: name as 'cuda' | 'tensorrt', deviceId: spec.deviceId },
    ),
    graphOptimizationLevel: spec.graphOptimization,
    executionMode: 'sequential',
    ...(spec.intraOpThreads > 0 ? { intraOpNumThreads: spec.intraOpThreads } : {}),
    ...(spec.interOpThreads > 0 ? { interOpNumThreads: spec.interOpThreads } : {}),
  };
  const session: Record<string, string> = {};
  // A GPU backend whose nodes would silently run on the CPU must not be reported as a GPU number:
  // session creation then fails, and the backend is recorded as degraded with ONNX Runtime's reason.
  if (gpu) session.disable_cpu_ep_fallback = '1';
  if (paired) {
    session['intra_op.allow_spinning'] = '0';
    session['inter_op.allow_spinning'] = '0';
  }
  if (Object.keys(session).length > 0) options.extra = { session };
  return options;
}
