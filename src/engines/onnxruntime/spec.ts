/** The onnxruntime family's spec and config keys (the one definition; the worker validates `open` with it). */
import { z } from 'zod';
import { commonSpecShape } from '../spec.js';

export const ORT_PROVIDERS = ['cpu', 'cuda', 'tensorrt'] as const;
export type OrtProvider = (typeof ORT_PROVIDERS)[number];

/**
 * Which process runs ONNX Runtime. node: onnxruntime-node (its session.run copies the logits to the host inside the
 * timer); python: the native/ worker with the onnxruntime Python package, whose IO binding keeps inputs and logits
 * on the device, so a GPU provider's gated figure is the forward pass and not the copy (docs/design.md).
 */
export const ORT_WORKERS = ['node', 'python'] as const;
export type OrtWorker = (typeof ORT_WORKERS)[number];

export const GRAPH_OPTIMIZATION_LEVELS = ['disabled', 'basic', 'extended', 'all'] as const;
export type GraphOptimizationLevel = (typeof GRAPH_OPTIMIZATION_LEVELS)[number];

/**
 * Precision variants derived from the fp32 ONNX file before the matrix (variant.ts): dynamic int8 quantization of
 * the MatMul weights, or float16 with fp32 inputs and outputs kept.
 */
export const ORT_VARIANTS = ['int8-dynamic', 'fp16'] as const;
export type OrtVariant = (typeof ORT_VARIANTS)[number];
/** The precision each variant runs at: its perplexity threshold (thresholds.perplexity_delta_fraction) gates it. */
export const VARIANT_PRECISION = { 'int8-dynamic': 'int8', fp16: 'fp16' } as const;

/**
 * Graph optimizations of the file itself, made before the matrix like the variants (variant.ts): `transformers` is
 * ONNX Runtime's transformer fusions for the checkpoint's model type (SkipLayerNormalization, FastGelu, attention
 * where it matches), applied before a variant's precision transform; `none` runs the file as exported.
 */
export const ORT_OPTIMIZATIONS = ['none', 'transformers'] as const;
export type OrtOptimization = (typeof ORT_OPTIMIZATIONS)[number];

export const ortSpecSchema = z.object({
  ...commonSpecShape,
  engine: z.literal('onnxruntime'),
  provider: z.enum(ORT_PROVIDERS),
  /** Results made before the key existed ran in Node. */
  worker: z.enum(ORT_WORKERS).default('node'),
  graphOptimization: z.enum(GRAPH_OPTIMIZATION_LEVELS),
  /** Absent: the file as given (results made before variants existed have none). */
  variant: z.enum(ORT_VARIANTS).optional(),
  /** Results made before the key existed ran the file as given. */
  optimize: z.enum(ORT_OPTIMIZATIONS).default('none'),
});
export type OrtSpec = Readonly<z.infer<typeof ortSpecSchema>>;

/** The backend keys only onnxruntime reads. */
export const ortConfigKeys = {
  provider: z.enum(ORT_PROVIDERS).optional(),
  /** Default python for the GPU providers (device-side timer), node for cpu. */
  worker: z.enum(ORT_WORKERS).optional(),
  graph_optimization: z.enum(GRAPH_OPTIMIZATION_LEVELS).optional(),
  /** A precision variant of the fp32 file, derived and cached before the matrix (int8-dynamic, fp16). */
  variant: z.enum(ORT_VARIANTS).optional(),
  /** ONNX Runtime's transformer fusions of the file (before the variant's transform, if any); default none. */
  optimize: z.enum(ORT_OPTIMIZATIONS).optional(),
};

/** Whether a backend opens a file derived before the matrix (a precision variant, transformer fusions, or both). */
export function isDerived(spec: Pick<OrtSpec, 'variant' | 'optimize'>): boolean {
  return spec.variant !== undefined || spec.optimize === 'transformers';
}

/**
 * The GPU providers run in the Python worker by default: its IO binding keeps the logits on the device, so the gated
 * figure is the forward pass. From Node, session.run copies the logits to the host inside the timer: at a real
 * vocabulary that copy is most of the figure (issue 11: 85 of 87 ms for GPT-2-small at 4×128 on an H200).
 */
export function defaultOrtWorker(provider: OrtProvider): OrtWorker {
  return provider === 'cpu' ? 'node' : 'python';
}
