/**
 * Backend names users already have in their matrix files (the seed report's names) and what each one means.
 * A backend entry in the config is either one of these names or an object that overrides one / defines a new one.
 */
import type { OrtProvider, OrtWorker } from '../config/schema.js';
import type { BackendSpec } from './protocol.js';

export type { BackendSpec } from './protocol.js';

type Preset = Pick<BackendSpec, 'engine' | 'provider' | 'precision' | 'device' | 'compile'>;

export const BACKEND_PRESETS: Readonly<Record<string, Preset>> = {
  'onnxruntime-cpu': { engine: 'onnxruntime', provider: 'cpu', precision: 'fp32' },
  'onnxruntime-gpu': { engine: 'onnxruntime', provider: 'cuda', precision: 'fp32' },
  'onnxruntime-cuda': { engine: 'onnxruntime', provider: 'cuda', precision: 'fp32' },
  // ONNX Runtime's TensorRT provider from Node takes only deviceId: fp32, engines not cached (DESIGN.md).
  'onnxruntime-tensorrt': { engine: 'onnxruntime', provider: 'tensorrt', precision: 'fp32' },
  'tensorrt-fp32': { engine: 'tensorrt', provider: undefined, precision: 'fp32' },
  'tensorrt-fp16': { engine: 'tensorrt', provider: undefined, precision: 'fp16' },
  'tensorrt-int8': { engine: 'tensorrt', provider: undefined, precision: 'int8' },
  // The seed's Hugging Face transformers backends: the checkpoint (model.hf) in the native/ PyTorch worker.
  'transformers-cpu': { engine: 'pytorch', provider: undefined, precision: 'fp32', device: 'cpu', compile: 'off' },
  'transformers-gpu': { engine: 'pytorch', provider: undefined, precision: 'fp32', device: 'cuda', compile: 'off' },
  'transformers-gpu-compile': {
    engine: 'pytorch',
    provider: undefined,
    precision: 'fp32',
    device: 'cuda',
    compile: 'default',
  },
};

/** What exports name the logits output (Hugging Face, torch.onnx with output_names=['logits'], the fixture). */
export const DEFAULT_LOGITS_OUTPUT = 'logits';

export const DEFAULT_BACKEND_SETTINGS = {
  deviceId: 0,
  intraOpThreads: 0,
  interOpThreads: 0,
  graphOptimization: 'all',
} as const satisfies Partial<BackendSpec>;

/**
 * The GPU providers run in the Python worker by default: its IO binding keeps the logits on the device, so the gated
 * figure is the forward pass. From Node, session.run copies the logits to the host inside the timer: at a real
 * vocabulary that copy is most of the figure (issue 11: 85 of 87 ms for GPT-2-small at 4×128 on an H200).
 */
export function defaultOrtWorker(provider: OrtProvider): OrtWorker {
  return provider === 'cpu' ? 'node' : 'python';
}
