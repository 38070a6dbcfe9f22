/**
 * What must be the same for two measurements of a cell to be comparable: the machine, the runtime and every setting
 * of the cell except the model itself (which is what a comparison is about). Pure.
 */
import { z } from 'zod';
import type { BackendSpec } from '../backends/presets.js';
import type { DeepReadonly } from '../deep-readonly.js';
import type { Environment } from '../env/collect.js';
import { configHash } from '../model/hash.js';

/** plain: one model per worker; paired: same-run A/B, two sessions alternating, thread pools not spinning. */
export const TIMINGS = ['plain', 'paired'] as const;
export type Timing = (typeof TIMINGS)[number];

export const cellFingerprintSchema = z.object({
  cpuModel: z.string(),
  cpuCount: z.number(),
  gpus: z.string(),
  gpuDriver: z.string(),
  nodeVersion: z.string(),
  onnxruntimeVersion: z.string(),
  engine: z.string(),
  provider: z.string(),
  /** ONNX Runtime in the Python worker (IO binding); absent for Node, as in results made before the key existed. */
  worker: z.literal('python').optional(),
  /**
   * tensorrt engines: the TensorRT version, precision path and profile the engine was built with (its kernels are
   * chosen for them); absent for other engines.
   */
  tensorrtEngine: z.string().optional(),
  precision: z.string(),
  intraOpThreads: z.number(),
  interOpThreads: z.number(),
  graphOptimization: z.string(),
  batch: z.number(),
  seqLen: z.number(),
  warmup: z.number(),
  iterations: z.number(),
  timing: z.enum(TIMINGS),
  /** sha256 of all the fields above: equal hashes, comparable cells. */
  hash: z.string(),
});
export type CellFingerprint = DeepReadonly<z.infer<typeof cellFingerprintSchema>>;

export function cellFingerprint(
  env: Environment,
  spec: BackendSpec,
  cell: {
    readonly batch: number;
    readonly seqLen: number;
    readonly warmup: number;
    readonly iterations: number;
    readonly timing: Timing;
    /** The tensorrt backend's engine (artifacts/tensorrt-engine.ts). */
    readonly engine?: {
      readonly tensorrtVersion: string;
      readonly precisionPath: string;
      readonly profile: {
        readonly min: readonly number[];
        readonly opt: readonly number[];
        readonly max: readonly number[];
      };
    };
  },
): CellFingerprint {
  const engine = cell.engine;
  const fields = {
    cpuModel: env.cpuModel,
    cpuCount: env.cpuCount,
    gpus: env.gpus.map((g) => g.name).join(', '),
    gpuDriver: env.gpus[0]?.driverVersion ?? '',
    nodeVersion: env.nodeVersion,
    onnxruntimeVersion: env.onnxruntimeVersion,
    engine: spec.engine,
    provider: spec.provider ?? '',
    // Only when it is not node, so that results measured before the key existed keep their fingerprint.
    ...(spec.worker === 'python' ? { worker: spec.worker } : {}),
    ...(engine
      ? {
          tensorrtEngine: `TensorRT ${engine.tensorrtVersion} ${engine.precisionPath} profile ${engine.profile.min.join('x')}/${engine.profile.opt.join('x')}/${engine.profile.max.join('x')}`,
        }
      : {}),
    precision: spec.precision,
    intraOpThreads: spec.intraOpThreads,
    interOpThreads: spec.interOpThreads,
    graphOptimization: spec.graphOptimization,
    batch: cell.batch,
    seqLen: cell.seqLen,
    warmup: cell.warmup,
    iterations: cell.iterations,
    timing: cell.timing,
  };
  return { ...fields, hash: configHash(fields) };
}

/** The fields in which two fingerprints differ, as "field: base → candidate". */
export function fingerprintDifferences(base: CellFingerprint, candidate: CellFingerprint): string[] {
  return (Object.keys(base) as (keyof CellFingerprint)[])
    .filter((key) => key !== 'hash' && base[key] !== candidate[key])
    .map((key) => `${key}: ${JSON.stringify(base[key])} → ${JSON.stringify(candidate[key])}`);
}
