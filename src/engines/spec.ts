/**
 * What every backend has, whatever its engine family: the fields of a resolved backend (its spec) that the runner,
 * the statistics and the gates read, and the config keys every backend object may carry. Each family's folder
 * (engines/<family>/) extends both with its own; engines/registry.ts puts the families together. Pure.
 */
import { z } from 'zod';

export const PRECISIONS = ['fp32', 'fp16', 'bf16', 'int8'] as const;
export type Precision = (typeof PRECISIONS)[number];

/** Bounds of the backend keys (config/schema.ts LIMITS holds them with the rest). */
export const BACKEND_LIMITS = { threads: 1_024, deviceId: 1_023 } as const;

/** What exports name the logits output (Hugging Face, torch.onnx with output_names=['logits'], the fixture). */
export const DEFAULT_LOGITS_OUTPUT = 'logits';

export const DEFAULT_BACKEND_SETTINGS = { deviceId: 0, intraOpThreads: 0, interOpThreads: 0 } as const;

/** The fields of every family's spec (as the worker receives it in `open`). */
export const commonSpecShape = {
  name: z.string(),
  /** Picks the accuracy threshold; for pytorch, the dtype the checkpoint is loaded in. */
  precision: z.enum(PRECISIONS),
  deviceId: z.int().min(0),
  /** 0 = the runtime's default (ONNX Runtime: one per physical core; torch: its own). */
  intraOpThreads: z.int().min(0),
  interOpThreads: z.int().min(0),
  /** The ONNX file this backend measures (or builds from): model.onnx, or the backend's own `model`. */
  modelPath: z.string(),
  /** The output of that file which holds the logits [batch, seq, vocab] (model.logits_output). */
  logitsOutput: z.string().min(1),
};

const count = (min: number, max: number) => z.int().min(min).max(max);

export const backendName = z
  .string()
  .regex(/^[a-z0-9][a-z0-9._-]*$/, 'a name of lower-case letters, digits, ".", "_" or "-"');

/** The keys of a backend object in the config that every family reads (`engine` is the registry's). */
export const commonBackendKeys = {
  name: backendName,
  precision: z.enum(PRECISIONS).optional(),
  device_id: count(0, BACKEND_LIMITS.deviceId).optional(),
  /** 0 lets the runtime choose. */
  intra_op_threads: count(0, BACKEND_LIMITS.threads).optional(),
  inter_op_threads: count(0, BACKEND_LIMITS.threads).optional(),
  /**
   * This backend measures another model instead of the config's: an ONNX file (e.g. a new export or a quantized copy)
   * for the families that run ONNX, a checkpoint folder instead of model.hf for pytorch.
   */
  model: z.string().min(1).optional(),
};
