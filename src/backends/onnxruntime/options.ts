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

export function sessionOptions(spec: BackendSpec): InferenceSession.SessionOptions {
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
  if (gpu) {
    // A GPU backend whose nodes would silently run on the CPU must not be reported as a GPU number:
    // session creation then fails, and the backend is recorded as degraded with ONNX Runtime's reason.
    options.extra = { session: { disable_cpu_ep_fallback: '1' } };
  }
  return options;
}
