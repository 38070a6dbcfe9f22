/**
 * Backend names users already have in their matrix files (the seed report's names) and what each one means.
 * A backend entry in the config is either one of these names or an object that overrides one / defines a new one.
 */
import type { Engine, GraphOptimizationLevel, OrtProvider, Precision } from '../config/schema.js';

export interface BackendSpec {
  readonly name: string;
  readonly engine: Engine;
  /** Only for engine onnxruntime. */
  readonly provider: OrtProvider | undefined;
  readonly precision: Precision;
  readonly deviceId: number;
  /** 0 = ONNX Runtime's default (one per physical core). */
  readonly intraOpThreads: number;
  readonly interOpThreads: number;
  readonly graphOptimization: GraphOptimizationLevel;
  /** The ONNX file this backend measures: model.onnx, or the backend's own `model`. */
  readonly modelPath: string;
  /** The output of that file which holds the logits [batch, seq, vocab] (model.logits_output). */
  readonly logitsOutput: string;
}

type Preset = Pick<BackendSpec, 'engine' | 'provider' | 'precision'>;

export const BACKEND_PRESETS: Readonly<Record<string, Preset>> = {
  'onnxruntime-cpu': { engine: 'onnxruntime', provider: 'cpu', precision: 'fp32' },
  'onnxruntime-gpu': { engine: 'onnxruntime', provider: 'cuda', precision: 'fp32' },
  'onnxruntime-cuda': { engine: 'onnxruntime', provider: 'cuda', precision: 'fp32' },
  // ONNX Runtime's TensorRT provider from Node takes only deviceId: fp32, engines not cached (DESIGN.md).
  'onnxruntime-tensorrt': { engine: 'onnxruntime', provider: 'tensorrt', precision: 'fp32' },
  'tensorrt-fp32': { engine: 'tensorrt', provider: undefined, precision: 'fp32' },
  'tensorrt-fp16': { engine: 'tensorrt', provider: undefined, precision: 'fp16' },
  'tensorrt-int8': { engine: 'tensorrt', provider: undefined, precision: 'int8' },
  'transformers-cpu': { engine: 'pytorch', provider: undefined, precision: 'fp32' },
  'transformers-gpu': { engine: 'pytorch', provider: undefined, precision: 'fp32' },
  'transformers-gpu-compile': { engine: 'pytorch', provider: undefined, precision: 'fp32' },
};

/** What exports name the logits output (Hugging Face, torch.onnx with output_names=['logits'], the fixture). */
export const DEFAULT_LOGITS_OUTPUT = 'logits';

export const DEFAULT_BACKEND_SETTINGS = {
  deviceId: 0,
  intraOpThreads: 0,
  interOpThreads: 0,
  graphOptimization: 'all',
} as const satisfies Partial<BackendSpec>;
