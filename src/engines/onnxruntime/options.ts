/** OrtSpec → ONNX Runtime session options. Pure, so the GPU paths are tested on machines without a GPU. */
import type { InferenceSession } from 'onnxruntime-node';
import type { OrtSpec } from './spec.js';

export function executionProviders(spec: OrtSpec): string[] {
  switch (spec.provider) {
    case 'cuda':
      return ['cuda'];
    // TensorRT cannot take every node; CUDA takes the rest; the CPU only what both leave (judged: placement.ts).
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
export function sessionOptions(spec: OrtSpec, paired = false): InferenceSession.SessionOptions {
  const options: InferenceSession.SessionOptions = {
    // The Node binding passes only deviceId to the CUDA and TensorRT providers (docs/design.md).
    executionProviders: executionProviders(spec).map((name) =>
      name === 'cpu' ? 'cpu' : { name: name as 'cuda' | 'tensorrt', deviceId: spec.deviceId },
    ),
    graphOptimizationLevel: spec.graphOptimization,
    executionMode: 'sequential',
    ...(spec.intraOpThreads > 0 ? { intraOpNumThreads: spec.intraOpThreads } : {}),
    ...(spec.interOpThreads > 0 ? { interOpNumThreads: spec.interOpThreads } : {}),
  };
  // CPU fallback stays allowed (ONNX Runtime's default): the CUDA provider itself leaves shape computations to the
  // CPU, so forbidding fallback fails every real export. Where nodes ran is judged from a profile instead
  // (placement.ts), and a GPU backend whose compute ran on the CPU is degraded there.
  if (paired) {
    options.extra = { session: { 'intra_op.allow_spinning': '0', 'inter_op.allow_spinning': '0' } };
  }
  return options;
}
