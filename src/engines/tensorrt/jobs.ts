/**
 * The tensorrt family's one-shot jobs in the native worker (backends/one-shot.ts): `probe` (what an engine key needs:
 * the worker Python's TensorRT version and the GPU's compute capability) and `build` (an engine from an ONNX file).
 * The one definition of those messages; native/README.md documents them for the Python side.
 */
import { z } from 'zod';

const tokenIds = z.array(z.int().min(0));

/** [batch, sequence] of one input. */
const inputShape = z.tuple([z.int().min(1), z.int().min(1)]);
/** A TensorRT optimization profile for one input: every shape the engine is given lies between min and max. */
export const optimizationProfileSchema = z.object({ min: inputShape, opt: inputShape, max: inputShape });
export type OptimizationProfile = z.infer<typeof optimizationProfileSchema>;

/** The precisions a TensorRT engine is built at (tensorrt-fp32, -fp16, -int8). */
export const TENSORRT_PRECISIONS = ['fp32', 'fp16', 'int8'] as const;

/** An `unavailable` error when TensorRT or the GPU is missing. */
export const probeRequestSchema = z.object({
  type: z.literal('probe'),
  engine: z.literal('tensorrt'),
  deviceId: z.int().min(0),
});
export type ProbeRequest = z.infer<typeof probeRequestSchema>;

/** Build a serialized TensorRT engine from an ONNX file with one optimization profile. */
export const buildRequestSchema = z.object({
  type: z.literal('build'),
  onnxPath: z.string(),
  /** The engine file to write (in the artifact store's temporary folder); an int8 calibration cache beside it. */
  outPath: z.string(),
  precision: z.enum(TENSORRT_PRECISIONS),
  /**
   * How the precision is reached (engines.ts precisionPath): decided by the runner, as part of
   * the engine key; the worker refuses a path its TensorRT cannot take.
   */
  precisionPath: z.string().min(1),
  /** Per input name (input_ids, attention_mask). */
  profiles: z.record(z.string(), optimizationProfileSchema),
  /** The GPU the engine is built on (and tuned for): the backend's device_id. */
  deviceId: z.int().min(0),
  /** Builder settings, part of the engine key. */
  builder: z.object({
    workspaceBytes: z.int().positive(),
    /** int8 on TensorRT 10: how many opt-shaped batches of calibrationTokens the calibrator reads. */
    calibrationBatches: z.int().min(1).optional(),
  }),
  /** int8 on TensorRT 10: the evaluation tokens the entropy calibrator reads. */
  calibrationTokens: tokenIds.optional(),
});
export type BuildRequest = z.infer<typeof buildRequestSchema>;

export const probedReplySchema = z.object({
  type: z.literal('probed'),
  id: z.int(),
  tensorrtVersion: z.string().min(1),
  /** "9.0" for an H100/H200, from nvidia-smi: an engine runs only on the compute capability it was built on. */
  computeCapability: z.string().regex(/^\d+\.\d+$/),
  gpu: z.string(),
});

export const builtReplySchema = z.object({
  type: z.literal('built'),
  id: z.int(),
  file: z.string(),
  bytes: z.int().positive(),
  buildMs: z.number().nonnegative(),
  tensorrtVersion: z.string(),
  /** "9.0" for an H100/H200: an engine runs only on the compute capability it was built on. */
  computeCapability: z.string().regex(/^\d+\.\d+$/),
  /** e.g. tensorrt10-builder-flag-fp16, tensorrt10-builder-flag-int8-entropy-calibrated, tensorrt11-strongly-typed-fp16. */
  precisionPath: z.string().min(1),
});
