/**
 * Raw records of one side of a run → its results (what results.json holds, but for the verdict): statistics per
 * cell, per-backend geometric means and the accuracy gate. The verdict is decided once, after any comparison
 * (results/judgement.ts). Pure: the same records always give the same results.
 */
import type { ArtifactRecord } from '../engines/family.js';
import { artifactResults } from '../engines/registry.js';
import type { ExportRecord } from '../model/onnx-export.js';
import { median, quantile } from 'simple-statistics';
import { isSameRun, type Config } from '../config/load.js';
import type { Environment, GitState } from '../env/collect.js';
import { decideAccuracy } from '../gate/accuracy-gate.js';
import { cellFingerprint } from '../gate/fingerprint.js';
import type { Side } from '../backends/types.js';
import type { Measurement, RunRecord } from '../measure/records.js';
import { geomeanAcrossScenarios, summarizeCell } from '../stats/summary.js';
import {
  RESULTS_SCHEMA_VERSION,
  type BackendResult,
  type CellResult,
  type MeasuredResults,
  type ModelInfo,
  type SequentialStop,
} from './schema.js';

/** Said in every report: what one latency sample is. */
export const TIMER_COVERS =
  'one session.run() call: binding the prepared int64 input tensors, the forward pass, and copying the float32 ' +
  'logits [batch, seq_len, vocab] into a JavaScript buffer; input tensors are built before the timer starts';

export interface BuildInput {
  readonly config: Config;
  readonly measurement: Measurement;
  readonly model: ModelInfo;
  /** Other ONNX files that some backends measure instead of model.onnx (their own `model`). */
  readonly backendModels: readonly Omit<ModelInfo, 'name'>[];
  readonly environment: Environment;
  readonly git: GitState | null;
  readonly startedAt: Date;
  readonly finishedAt: Date;
  readonly evaluatedTokens: number;
  /** hash.ts tokensSha256 of the ids scored (undefined: accuracy off). */
  readonly evaluatedTokensSha256?: string | undefined;
  readonly evalTokens: { readonly file: string; readonly tokenizer: 'ids' | 'bytes' | 'tokenizer.json' } | undefined;
  readonly notes?: readonly string[];
  /** model.hf exported for this run (model/onnx-export.ts). */
  readonly export?: ExportRecord | undefined;
  /**
   * What the engine families prepared before the matrix (TensorRT engines), both sides' in same-run A/B: all go into
   * results.json under their family's key; a cell's fingerprint takes its own side's.
   */
  readonly artifacts?: readonly ArtifactRecord[] | undefined;
  /** Whose results these are: the candidate's, or the same-run base model's. */
  readonly side?: Side;
}

export function buildResults(input: BuildInput): MeasuredResults {
  const { config, measurement } = input;
  const backendRecord = new Map(measurement.backends.map((b) => [b.backend, b]));
  const runsByCell = new Map<string, RunRecord[]>();
  for (const run of measurement.runs) {
    const key = `${run.backend}\u0000${run.scenario}`;
    runsByCell.set(key, [...(runsByCell.get(key) ?? []), run]);
  }

  const cells = cellResults(input, backendRecord, runsByCell);

  const backends: BackendResult[] = config.backends.map((spec, b) => {
    const record = backendRecord.get(spec.name);
    const own = cells.filter((c) => c.backend === spec.name);
    const measured = own.flatMap((c) => {
      const runs = (runsByCell.get(`${c.backend}\u0000${c.scenario}`) ?? []).filter((r) => r.status === 'ok');
      return c.stats
        ? [{ reps: runs.map((r) => ({ latenciesMs: r.latenciesMs, realTokens: r.realTokens })), stats: c.stats }]
        : [];
    });
    const runs = own.reduce((n, c) => n + c.runs, 0);
    const degradedRuns = own.reduce((n, c) => n + c.degradedRuns, 0);
    return {
      spec,
      status: record?.status ?? 'unavailable',
      reason: record?.reason ?? null,
      session: record?.info ?? null,
      runs,
      okRuns: runs - degradedRuns,
      degradedRate: runs > 0 ? degradedRuns / runs : null,
      geomean: geomeanAcrossScenarios(measured, config.seed + 100_000 + b),
    };
  });

  const accuracyGate = config.accuracy.enabled
    ? decideAccuracy({
        specs: config.backends,
        backends: measurement.backends,
        records: measurement.accuracy,
        parity: measurement.parity,
        reference: config.accuracy.reference,
        thresholds: config.thresholds,
      })
    : null;
  return {
    schemaVersion: RESULTS_SCHEMA_VERSION,
    tool: { name: 'tr118', version: input.environment.toolVersion },
    startedAt: input.startedAt.toISOString(),
    finishedAt: input.finishedAt.toISOString(),
    durationSeconds: (input.finishedAt.getTime() - input.startedAt.getTime()) / 1000,
    configSource: config.source,
    config: config.raw,
    model: input.model,
    backendModels: input.backendModels,
    method: {
      timerCovers: TIMER_COVERS,
      repetitions: config.repetitions,
      warmup: config.warmup,
      iterations: config.iterations,
      timeoutSeconds: config.timeoutSeconds,
      seed: config.seed,
      order: 'each repetition runs every cell once, in a seeded shuffled order',
      stopping: stoppingMethod(config, measurement),
    },
    backends,
    cells,
    accuracy: accuracyGate
      ? {
          ...accuracyGate,
          windowTokens: config.accuracy.windowTokens,
          strideTokens: config.accuracy.strideTokens,
          evaluatedTokens: input.evaluatedTokens,
          ...(input.evaluatedTokensSha256 !== undefined ? { evaluatedTokensSha256: input.evaluatedTokensSha256 } : {}),
          vocabSize: scoringVocabSize(measurement, accuracyGate.reference),
          tokensFrom: input.evalTokens?.file ?? '',
          tokenizer: input.evalTokens?.tokenizer ?? 'ids',
          parityProbe: config.accuracy.parity ?? null,
        }
      : null,
    notes: input.notes ?? [],
    ...(input.export ? { export: input.export } : {}),
    ...artifactResults(config.backends, input.artifacts ?? []),
    environment: input.environment,
    git: input.git,
  };
}

/** Every cell of the matrix: its runs' statistics, status and fingerprint (with its own side's artifact). */
function cellResults(
  input: BuildInput,
  backendRecord: ReadonlyMap<string, Measurement['backends'][number]>,
  runsByCell: ReadonlyMap<string, readonly RunRecord[]>,
): CellResult[] {
  const { config } = input;
  const side = input.side ?? 'candidate';
  const artifacts = new Map((input.artifacts ?? []).filter((a) => a.side === side).map((a) => [a.backend, a]));
  return config.backends.flatMap((spec, b) =>
    config.scenarios.map((scenario, s): CellResult => {
      const runs = runsByCell.get(`${spec.name}\u0000${scenario.name}`) ?? [];
      const ok = runs.filter((r) => r.status === 'ok');
      const degraded = runs.filter((r) => r.status === 'degraded');
      const status = backendRecord.get(spec.name)?.status ?? 'unavailable';
      return {
        backend: spec.name,
        scenario: scenario.name,
        batch: scenario.batch,
        seqLen: scenario.seqLen,
        realTokens: runs[0]?.realTokens ?? scenario.batch * scenario.seqLen,
        status: status === 'ok' && degraded.length > 0 ? 'degraded' : status,
        runs: runs.length,
        degradedRuns: degraded.length,
        degradedRate: runs.length > 0 ? degraded.length / runs.length : 0,
        firstReason: degraded[0]?.reason ?? (status !== 'ok' ? (backendRecord.get(spec.name)?.reason ?? null) : null),
        repetitionLatenciesMs: ok.map((r) => r.latenciesMs),
        sequential: sequentialStop(input.measurement, spec.name, scenario.name),
        endToEnd: endToEndSummary(ok.flatMap((r) => r.endToEndLatenciesMs ?? [])),
        fingerprint: cellFingerprint(input.environment, spec, {
          batch: scenario.batch,
          seqLen: scenario.seqLen,
          warmup: config.warmup,
          iterations: config.iterations,
          timing: isSameRun(config) ? 'paired' : 'plain',
          session: backendRecord.get(spec.name)?.info ?? null,
          artifact: artifacts.get(spec.name),
          export: input.export,
        }),
        // Each cell's bootstrap has its own seed, so adding a cell does not change the others' intervals.
        stats: summarizeCell(
          ok.map((r) => ({ latenciesMs: r.latenciesMs, realTokens: r.realTokens })),
          config.seed + 1000 * b + s,
        ),
      };
    }),
  );
}

/** The cell's sequential stop, without the raw record's bookkeeping; null in a fixed run. */
function sequentialStop(measurement: Measurement, backend: string, scenario: string): SequentialStop | null {
  const stop = (measurement.stops ?? []).find((s) => s.backend === backend && s.scenario === scenario);
  if (!stop) return null;
  return {
    method: stop.method,
    repetitions: stop.repetitions,
    why: stop.why,
    decision: stop.decision,
    ratio: stop.ratio,
    ratioCi: stop.ratioCi ? [stop.ratioCi[0], stop.ratioCi[1]] : null,
    achievableFraction: stop.achievableFraction,
    budgetSeconds: stop.budgetSeconds,
    reason: stop.reason,
  };
}

/** What stopped the repetitions: the sequential method when any cell stopped by it, else fixed. */
function stoppingMethod(config: Config, measurement: Measurement): string {
  const stop = measurement.stops?.[0];
  return stop ? `sequential: ${stop.method}` : `fixed: ${config.repetitions} repetitions`;
}

/** Median and 95th percentile of the pooled end-to-end passes (null when the worker reported none). */
function endToEndSummary(latenciesMs: readonly number[]): CellResult['endToEnd'] {
  if (latenciesMs.length === 0) return null;
  return { medianMs: median([...latenciesMs]), p95Ms: quantile([...latenciesMs], 0.95), passes: latenciesMs.length };
}

/**
 * The vocabulary the perplexity was scored over: the reference backend's, else the first open backend that reported
 * one (backends that differ from it fail parity on their own). null: no backend reported it.
 */
function scoringVocabSize(measurement: Measurement, reference: string | null): number | null {
  const open = measurement.backends.filter((b) => b.status === 'ok' && b.info?.vocabSize !== undefined);
  const chosen = open.find((b) => b.backend === reference) ?? open[0];
  return chosen?.info?.vocabSize ?? null;
}
