/**
 * Raw records → the complete result of a run (what results.json holds): statistics per cell, per-backend geometric
 * means, the accuracy gate and the verdict. Pure: the same records always give the same results.
 */
import type { BackendSpec } from '../backends/presets.js';
import type { SessionInfo } from '../backends/protocol.js';
import type { Config } from '../config/load.js';
import type { RawConfig } from '../config/schema.js';
import type { Environment, GitState } from '../env/collect.js';
import { evaluateAccuracy, type AccuracyGate } from '../gate/accuracy.js';
import { cellFingerprint, type CellFingerprint } from '../gate/fingerprint.js';
import { decide, type Verdict } from '../gate/verdict.js';
import type { Comparison } from '../gate/compare.js';
import type { BackendStatus, RunRecord } from '../measure/records.js';
import type { Measurement } from '../measure/records.js';
import { geomeanAcrossScenarios, summarizeCell, type CellStats, type GeomeanSummary } from '../stats/summary.js';

export const RESULTS_SCHEMA_VERSION = 1;

/** Said in every report: what one latency sample is. */
export const TIMER_COVERS =
  'one session.run() call: binding the prepared int64 input tensors, the forward pass, and copying the float32 ' +
  'logits [batch, seq_len, vocab] into a JavaScript buffer; input tensors are built before the timer starts';

export interface CellResult {
  readonly backend: string;
  readonly scenario: string;
  readonly batch: number;
  readonly seqLen: number;
  readonly realTokens: number;
  readonly status: BackendStatus;
  readonly runs: number;
  readonly degradedRuns: number;
  readonly degradedRate: number;
  readonly firstReason: string | null;
  readonly stats: CellStats | null;
  /** Every timed pass of every ok run, per repetition: what a later comparison resamples. */
  readonly repetitionLatenciesMs: readonly (readonly number[])[];
  readonly fingerprint: CellFingerprint;
}

export interface BackendResult {
  readonly spec: BackendSpec;
  readonly status: BackendStatus;
  readonly reason: string | null;
  readonly session: SessionInfo | null;
  readonly runs: number;
  readonly okRuns: number;
  readonly degradedRate: number | null;
  /** Geometric mean across scenarios of per-cell medians. */
  readonly geomean: GeomeanSummary | null;
}

export interface ModelInfo {
  readonly name: string;
  readonly path: string;
  readonly sha256: string;
  readonly bytes: number;
}

export interface AccuracyResult extends AccuracyGate {
  readonly windowTokens: number;
  readonly strideTokens: number;
  readonly evaluatedTokens: number;
  /** Where the evaluation tokens came from, and how they were made. */
  readonly tokensFrom: string;
  readonly tokenizer: 'ids' | 'bytes' | 'tokenizer.json';
  readonly parityProbe: { readonly batch: number; readonly seqLen: number } | null;
}

export interface Results {
  readonly schemaVersion: typeof RESULTS_SCHEMA_VERSION;
  readonly tool: { readonly name: 'tr118'; readonly version: string };
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly durationSeconds: number;
  readonly configSource: string;
  readonly config: RawConfig;
  readonly model: ModelInfo;
  readonly backendModels: readonly Omit<ModelInfo, 'name'>[];
  readonly method: {
    readonly timerCovers: string;
    readonly repetitions: number;
    readonly warmup: number;
    readonly iterations: number;
    readonly timeoutSeconds: number;
    readonly seed: number;
    readonly order: string;
  };
  readonly backends: readonly BackendResult[];
  readonly cells: readonly CellResult[];
  readonly accuracy: AccuracyResult | null;
  readonly verdict: Verdict;
  /** The comparison with the baseline or the same-run base model; null without one. */
  readonly comparison: Comparison | null;
  /** In same-run A/B, the base model's own results from this run. */
  readonly sameRunBase: Results | null;
  /** What the user should know about how this run was set up (warnings printed during the run). */
  readonly notes: readonly string[];
  readonly environment: Environment;
  readonly git: GitState | null;
}

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
  readonly evalTokens: { readonly file: string; readonly tokenizer: 'ids' | 'bytes' | 'tokenizer.json' } | undefined;
  readonly notes?: readonly string[];
}

export function buildResults(input: BuildInput): Results {
  const { config, measurement } = input;
  const backendRecord = new Map(measurement.backends.map((b) => [b.backend, b]));
  const runsByCell = new Map<string, RunRecord[]>();
  for (const run of measurement.runs) {
    const key = `${run.backend}\u0000${run.scenario}`;
    runsByCell.set(key, [...(runsByCell.get(key) ?? []), run]);
  }

  const cells: CellResult[] = config.backends.flatMap((spec, b) =>
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
        fingerprint: cellFingerprint(input.environment, spec, {
          batch: scenario.batch,
          seqLen: scenario.seqLen,
          warmup: config.warmup,
          iterations: config.iterations,
          timing: config.compare.baseModelPath ? 'paired' : 'plain',
        }),
        // Each cell's bootstrap has its own seed, so adding a cell does not change the others' intervals.
        stats: summarizeCell(
          ok.map((r) => ({ latenciesMs: r.latenciesMs, realTokens: r.realTokens })),
          config.seed + 1000 * b + s,
        ),
      };
    }),
  );

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
    ? evaluateAccuracy({
        specs: config.backends,
        backends: measurement.backends,
        records: measurement.accuracy,
        parity: measurement.parity,
        reference: config.accuracy.reference,
        thresholds: config.thresholds,
      })
    : null;
  const verdict = decide({
    cells,
    accuracy: accuracyGate,
    maxDegradedRate: config.thresholds.maxDegradedRate,
    unavailableBackendDecision: config.unavailableBackend,
  });

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
    },
    backends,
    cells,
    accuracy: accuracyGate
      ? {
          ...accuracyGate,
          windowTokens: config.accuracy.windowTokens,
          strideTokens: config.accuracy.strideTokens,
          evaluatedTokens: input.evaluatedTokens,
          tokensFrom: input.evalTokens?.file ?? '',
          tokenizer: input.evalTokens?.tokenizer ?? 'ids',
          parityProbe: config.accuracy.parity ?? null,
        }
      : null,
    verdict,
    comparison: null,
    sameRunBase: null,
    notes: input.notes ?? [],
    environment: input.environment,
    git: input.git,
  };
}

/** The results with a comparison attached and the verdict decided again with it. */
export function withComparison(
  results: Results,
  config: Config,
  comparison: Comparison | null,
  extra: { readonly baselineProblem?: string | undefined; readonly sameRunBase?: Results | undefined } = {},
): Results {
  const verdict = decide({
    cells: results.cells,
    accuracy: results.accuracy,
    maxDegradedRate: config.thresholds.maxDegradedRate,
    comparison: comparison ?? undefined,
    baselineProblem: extra.baselineProblem,
    missingCellDecision: config.compare.missingCell,
    storedRegressionDecision: config.compare.storedRegression,
    unavailableBackendDecision: config.unavailableBackend,
  });
  return { ...results, verdict, comparison, sameRunBase: extra.sameRunBase ?? null };
}
