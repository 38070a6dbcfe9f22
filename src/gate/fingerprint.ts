/**
 * What must be the same for two measurements of a cell to be comparable: the machine, the pass (shape, warm-up,
 * timed passes, plain or paired timing), the ONNX export it measures when the run exported one, and whatever the
 * backend's engine family declares changes its numbers (engines/<family>/ comparability: runtime versions, device,
 * compile mode, provider, threads, engine build, …). Nothing here names a family. Pure.
 */
import { z } from 'zod';
import type { DeepReadonly } from '../deep-readonly.js';
import type { Environment } from '../env/collect.js';
import { gpuStateLines } from '../env/gpu-state.js';
import type { ArtifactRecord, SessionView } from '../engines/family.js';
import { comparabilityOf, type BackendSpec } from '../engines/registry.js';
import { configHash } from '../hash.js';

/** plain: one model per worker; paired: same-run A/B, two sessions alternating, thread pools not spinning. */
export const TIMINGS = ['plain', 'paired'] as const;
export type Timing = (typeof TIMINGS)[number];

const commonShape = {
  cpuModel: z.string(),
  cpuCount: z.number(),
  gpus: z.string(),
  gpuDriver: z.string(),
  nodeVersion: z.string(),
  engine: z.string(),
  batch: z.number(),
  seqLen: z.number(),
  warmup: z.number(),
  iterations: z.number(),
  timing: z.enum(TIMINGS),
  /**
   * What the machine was like, not what it is (the GPUs' clocks, heat and throttling around the matrix): shown
   * beside a comparison, never part of the hash or of the differences, since two runs on one GPU never read alike.
   */
  notes: z.string().optional(),
  /** sha256 of every other field but notes: equal hashes, comparable cells. */
  hash: z.string(),
};

/** The common fields, and the family's own (any name, a string or a number). */
export const cellFingerprintSchema = z.object(commonShape).catchall(z.union([z.string(), z.number()]));
export type CellFingerprint = DeepReadonly<z.infer<typeof cellFingerprintSchema>>;

/** The export a run made of model.hf (model/onnx-export.ts): a different exporter writes a different graph. */
export interface ExportIdentity {
  readonly onnxPath: string;
  readonly exporter: string;
  readonly opset: number;
  readonly dynamic: boolean;
  readonly int32Inputs: boolean;
}

export interface CellContext {
  readonly batch: number;
  readonly seqLen: number;
  readonly warmup: number;
  readonly iterations: number;
  readonly timing: Timing;
  /** What the backend's worker said when it opened (null when it did not open). */
  readonly session: SessionView | null;
  /** What its family prepared for it (a TensorRT engine), if anything. */
  readonly artifact?: ArtifactRecord | undefined;
  /** The run's export of model.hf, if it made one. */
  readonly export?: ExportIdentity | undefined;
}

export function cellFingerprint(env: Environment, spec: BackendSpec, cell: CellContext): CellFingerprint {
  const family = comparabilityOf(spec, cell.session, cell.artifact);
  const ex = cell.export;
  const fields = {
    ...family,
    cpuModel: env.cpuModel,
    cpuCount: env.cpuCount,
    gpus: env.gpus.map((g) => g.name).join(', '),
    gpuDriver: env.gpus[0]?.driverVersion ?? '',
    nodeVersion: env.nodeVersion,
    engine: spec.engine,
    // Only for a backend that measures the run's export, so results measured from a given ONNX file keep theirs.
    ...(ex && spec.modelPath === ex.onnxPath
      ? {
          export: `${ex.exporter} opset ${ex.opset}${ex.dynamic ? ' dynamic' : ' static'}${ex.int32Inputs ? ' int32' : ''}`,
        }
      : {}),
    batch: cell.batch,
    seqLen: cell.seqLen,
    warmup: cell.warmup,
    iterations: cell.iterations,
    timing: cell.timing,
  };
  // A CPU machine (no nvidia-smi) has no notes: its fingerprints stay as they were.
  const notes = env.gpuState ? gpuStateLines(env.gpuState).join('; ') : '';
  return { ...fields, ...(notes ? { notes } : {}), hash: configHash(fields) };
}

/** Fields that describe a cell's conditions without deciding whether two cells are comparable. */
const NOT_COMPARED: readonly string[] = ['hash', 'notes'];

/**
 * The fields in which two fingerprints differ, as "field: base → candidate": every field either has, so a field
 * only one side declares (another family, a newer tr118) is a difference too.
 */
export function fingerprintDifferences(base: CellFingerprint, candidate: CellFingerprint): string[] {
  const keys = [...new Set([...Object.keys(base), ...Object.keys(candidate)])].filter(
    (key) => !NOT_COMPARED.includes(key),
  );
  const show = (value: unknown): string => (value === undefined ? '(none)' : JSON.stringify(value));
  return keys
    .filter((key) => base[key] !== candidate[key])
    .map((key) => `${key}: ${show(base[key])} → ${show(candidate[key])}`);
}
