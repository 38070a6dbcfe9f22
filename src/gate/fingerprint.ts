/**
 * What must be the same for two measurements of a cell to be comparable: the machine, the runtime and every setting
 * of the cell except the model itself (which is what a comparison is about). Pure.
 */
import type { BackendSpec } from '../backends/presets.js';
import type { Environment } from '../env/collect.js';
import { configHash } from '../report/manifest.js';

export interface CellFingerprint {
  readonly cpuModel: string;
  readonly cpuCount: number;
  readonly gpus: string;
  readonly gpuDriver: string;
  readonly nodeVersion: string;
  readonly onnxruntimeVersion: string;
  readonly engine: string;
  readonly provider: string;
  readonly precision: string;
  readonly intraOpThreads: number;
  readonly interOpThreads: number;
  readonly graphOptimization: string;
  readonly batch: number;
  readonly seqLen: number;
  readonly warmup: number;
  readonly iterations: number;
  /** plain: one model per worker; paired: same-run A/B, two sessions alternating, thread pools not spinning. */
  readonly timing: 'plain' | 'paired';
  /** sha256 of all the fields above: equal hashes, comparable cells. */
  readonly hash: string;
}

export function cellFingerprint(
  env: Environment,
  spec: BackendSpec,
  cell: {
    readonly batch: number;
    readonly seqLen: number;
    readonly warmup: number;
    readonly iterations: number;
    readonly timing: 'plain' | 'paired';
  },
): CellFingerprint {
  const fields = {
    cpuModel: env.cpuModel,
    cpuCount: env.cpuCount,
    gpus: env.gpus.map((g) => g.name).join(', '),
    gpuDriver: env.gpus[0]?.driverVersion ?? '',
    nodeVersion: env.nodeVersion,
    onnxruntimeVersion: env.onnxruntimeVersion,
    engine: spec.engine,
    provider: spec.provider ?? '',
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
