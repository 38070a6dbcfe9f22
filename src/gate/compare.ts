/**
 * A candidate result against a base result, cell by cell: the change of median latency with a bootstrap interval
 * on the ratio, decided by rules that need a change to be large (fail/warn thresholds), real (significant at the
 * configured confidence) and not trivial (an absolute floor in ms) before it fails. Pure.
 */
import { median, probit } from 'simple-statistics';
import { z } from 'zod';
import { PRECISIONS, type LatencyThresholds, type Precision } from '../config/schema.js';
import type { DeepReadonly } from '../deep-readonly.js';
import { bootstrapRatio } from '../stats/ratio.js';
import { intervalSchema } from '../stats/summary.js';
import { fingerprintDifferences, type CellFingerprint } from './fingerprint.js';
import { STOP_REASONS, type StopRecord } from '../measure/records.js';

/** What a comparison reads of a cell's sequential stop (results.json's cells[].sequential). */
export type SequentialStopFields = Omit<StopRecord, 'kind' | 'backend' | 'side' | 'scenario' | 'at'>;

export const COMPARISON_MODES = ['same-run', 'stored'] as const;
export type ComparisonMode = (typeof COMPARISON_MODES)[number];

export interface CompareOptions {
  readonly mode: ComparisonMode;
  readonly latency: LatencyThresholds;
  readonly perplexityDeltaFraction: Readonly<Record<Precision, number>>;
  readonly maxDegradedRateIncrease: number;
  readonly allowEnvironmentChange: boolean;
  readonly missingCell: 'warn' | 'fail';
  readonly seed: number;
}

export const CELL_DECISIONS = [
  'pass',
  'improvement',
  'warn',
  'fail',
  'inconclusive',
  'incomparable',
  'missing',
  'new',
] as const;
export type CellDecision = (typeof CELL_DECISIONS)[number];

export const cellComparisonSchema = z.object({
  backend: z.string(),
  scenario: z.string(),
  decision: z.enum(CELL_DECISIONS),
  reason: z.string(),
  baseMedianMs: z.number().nullable(),
  candidateMedianMs: z.number().nullable(),
  /** The change the gate decides on, as a ratio (see ratioDefinitions: paired in same-run A/B). */
  ratio: z.number().nullable(),
  ratioCi: intervalSchema.nullable(),
  /** candidate median ÷ base median: the two sides' medians, for reference (equals `ratio` for stored baselines). */
  medianRatio: z.number().nullable(),
  /** candidate median − base median. */
  deltaMs: z.number().nullable(),
  /** Smallest relative slowdown this comparison would detect with 80% power at the configured confidence. */
  minDetectableFraction: z.number().nullable(),
  baseTokensPerSecond: z.number().nullable(),
  candidateTokensPerSecond: z.number().nullable(),
  differences: z.array(z.string()),
  /** Same-run A/B under sequential stopping: after how many repetitions the cell stopped, why, and by what method. */
  stopping: z.object({ method: z.string(), repetitions: z.number(), why: z.enum(STOP_REASONS) }).optional(),
});
export type CellComparison = DeepReadonly<z.infer<typeof cellComparisonSchema>>;

export const accuracyComparisonSchema = z.object({
  backend: z.string(),
  precision: z.enum(PRECISIONS),
  basePerplexity: z.number(),
  candidatePerplexity: z.number(),
  deltaFraction: z.number(),
  thresholdFraction: z.number(),
  /** incomparable: the two perplexities were scored on different tokens or vocabularies (evaluationDifferences). */
  decision: z.enum(['pass', 'improvement', 'fail', 'incomparable']),
  reason: z.string(),
});
export type AccuracyComparison = DeepReadonly<z.infer<typeof accuracyComparisonSchema>>;

export const comparisonSchema = z.object({
  mode: z.enum(COMPARISON_MODES),
  base: z.object({ label: z.string(), startedAt: z.string(), modelSha256: z.string() }),
  cells: z.array(cellComparisonSchema),
  accuracy: z.array(accuracyComparisonSchema),
});
export type Comparison = DeepReadonly<z.infer<typeof comparisonSchema>>;

/**
 * What a comparison needs of a result, on either side: a fresh run's results satisfy it, and so does a results.json
 * read back and validated (results/read.ts). The comparison defines the input it needs.
 */
export interface ComparableResults {
  readonly schemaVersion: number;
  readonly startedAt: string;
  readonly model: { readonly name: string; readonly sha256: string };
  readonly cells: readonly {
    readonly backend: string;
    readonly scenario: string;
    readonly batch: number;
    readonly seqLen: number;
    readonly realTokens: number;
    readonly status: 'ok' | 'unavailable' | 'degraded';
    readonly runs: number;
    readonly degradedRuns: number;
    readonly degradedRate: number;
    readonly repetitionLatenciesMs: readonly (readonly number[])[];
    readonly fingerprint: CellFingerprint;
    /** Same-run A/B under sequential stopping: the cell's stop (absent or null: a fixed run). */
    readonly sequential?: SequentialStopFields | null;
  }[];
  readonly accuracy:
    | (EvaluationIdentity & {
        readonly rows: readonly {
          readonly backend: string;
          readonly precision: Precision;
          readonly perplexity: number | null;
        }[];
      })
    | null;
}

/** What a perplexity was scored on: two perplexities are comparable only when all of it matches. */
export interface EvaluationIdentity {
  readonly evaluatedTokens: number;
  readonly windowTokens: number;
  readonly strideTokens: number;
  readonly tokenizer: string;
  /** Absent in results made before the digest was recorded: then nothing says the tokens were the same. */
  readonly evaluatedTokensSha256?: string | undefined;
  readonly vocabSize?: number | null | undefined;
}

/**
 * Why two perplexities were not scored on the same thing, one phrase each (none: comparable). A perplexity over
 * other tokens, another window or another vocabulary is another number, not a change: a byte-level model against a
 * BPE baseline once "improved" by 94.7%.
 */
export function evaluationDifferences(base: EvaluationIdentity, candidate: EvaluationIdentity): string[] {
  const differences: string[] = [];
  const differs = (what: string, b: unknown, c: unknown) => {
    if (b !== c) differences.push(`${what} ${String(b)} → ${String(c)}`);
  };
  if (base.evaluatedTokensSha256 === undefined || candidate.evaluatedTokensSha256 === undefined) {
    const which = base.evaluatedTokensSha256 === undefined ? 'the base' : 'the candidate';
    differences.push(`${which} records no digest of its evaluation tokens (made by an older tr118)`);
  } else if (base.evaluatedTokensSha256 !== candidate.evaluatedTokensSha256) {
    differences.push(
      `evaluation tokens sha256 ${base.evaluatedTokensSha256.slice(0, 12)}… → ${candidate.evaluatedTokensSha256.slice(0, 12)}…`,
    );
  }
  differs('evaluated tokens', base.evaluatedTokens, candidate.evaluatedTokens);
  differs('window', base.windowTokens, candidate.windowTokens);
  differs('stride', base.strideTokens, candidate.strideTokens);
  differs('tokenizer', base.tokenizer, candidate.tokenizer);
  // An unknown vocabulary on either side (no backend reported one) is not evidence of a difference.
  if (base.vocabSize != null && candidate.vocabSize != null) differs('vocabulary', base.vocabSize, candidate.vocabSize);
  return differences;
}

/**
 * What `ratio` and `medianRatio` of a cell are, in words: said in the report, the PR comment and verdict.json, so a
 * paired change is never shown under the name of a ratio of medians (they differ when latencies are skewed).
 */
export function ratioDefinitions(mode: ComparisonMode): { readonly ratio: string; readonly medianRatio: string } {
  return mode === 'same-run'
    ? {
        ratio:
          'the paired change the gate decides on: exp(median over all passes of log(candidate pass ÷ the base pass timed next to it)), with a bootstrap interval resampling (repetition, pass) pairs',
        medianRatio: "candidate median ÷ base median: the ratio of the two sides' medians, unpaired, for reference",
      }
    : {
        ratio:
          "candidate median ÷ base median (what the gate decides on), with a bootstrap interval resampling each side's repetitions and passes, widened by thresholds.latency.between_runs_fraction",
        medianRatio: 'candidate median ÷ base median (the same figure as ratio for a stored baseline)',
      };
}

const pct = (fraction: number): string => `${(fraction * 100).toFixed(1)}%`;
const signedPct = (fraction: number): string => `${fraction >= 0 ? '+' : ''}${pct(fraction)}`;
const ms = (value: number): string => `${value >= 0 ? '+' : ''}${value.toFixed(3)} ms`;

type ComparedCell = ComparableResults['cells'][number];

function cellMedian(cell: ComparedCell): number | null {
  const all = cell.repetitionLatenciesMs.flat();
  return all.length > 0 ? median(all) : null;
}

/** The latency rules for one cell measured on both sides. Exported for table-driven tests. */
export function decideLatency(
  base: readonly (readonly number[])[],
  candidate: readonly (readonly number[])[],
  options: { readonly paired: boolean; readonly thresholds: LatencyThresholds; readonly seed: number },
): Pick<CellComparison, 'decision' | 'reason' | 'ratio' | 'ratioCi' | 'deltaMs' | 'minDetectableFraction'> {
  const t = options.thresholds;
  const est = bootstrapRatio(base, candidate, {
    paired: options.paired,
    seed: options.seed,
    confidence: t.confidence,
    extraLogSd: Math.log1p(t.betweenRunsFraction) / probit(0.975),
  });
  if (!est)
    return {
      decision: 'inconclusive',
      reason: 'no measurements to compare',
      ratio: null,
      ratioCi: null,
      deltaMs: null,
      minDetectableFraction: null,
    };
  const baseMedian = median(base.flat());
  const candidateMedian = median(candidate.flat());
  const deltaMs = candidateMedian - baseMedian;
  const change = est.ratio - 1;
  const [low, high] = est.ci;
  const z = probit(1 - (1 - t.confidence) / 2) + probit(0.8);
  const minDetectableFraction = Math.expm1(z * est.sdLogRatio);
  const level = `${Math.round(t.confidence * 100)}% CI`;
  // Paired: the change is per pair of passes, while Δ ms is between the medians: name both, or they contradict.
  const interval = options.paired
    ? `paired, ${level} ${pct(low - 1)} … ${pct(high - 1)}; medians ${signedPct(candidateMedian / baseMedian - 1)}`
    : `${level} ${pct(low - 1)} … ${pct(high - 1)}`;
  const numbers = { ratio: est.ratio, ratioCi: est.ci, deltaMs, minDetectableFraction } as const;
  const aboveFloor = deltaMs > t.minEffectMs;
  if (low > 1) {
    if (change > t.failFraction && aboveFloor) {
      return {
        ...numbers,
        decision: 'fail',
        reason: `slower by ${pct(change)} (${interval}), ${ms(deltaMs)}: above the fail threshold ${pct(t.failFraction)}`,
      };
    }
    if (change > t.warnFraction && aboveFloor) {
      return {
        ...numbers,
        decision: 'warn',
        reason: `slower by ${pct(change)} (${interval}), ${ms(deltaMs)}: above the warn threshold ${pct(t.warnFraction)}`,
      };
    }
    const why = aboveFloor ? `within the warn threshold ${pct(t.warnFraction)}` : `below the ${t.minEffectMs} ms floor`;
    return {
      ...numbers,
      decision: 'pass',
      reason: `slower by ${pct(change)} (${interval}), ${ms(deltaMs)}: significant but ${why}`,
    };
  }
  if (high < 1) {
    if (-change > t.warnFraction && -deltaMs > t.minEffectMs) {
      return { ...numbers, decision: 'improvement', reason: `faster by ${pct(-change)} (${interval}), ${ms(deltaMs)}` };
    }
    return { ...numbers, decision: 'pass', reason: `faster by ${pct(-change)} (${interval}): within the thresholds` };
  }
  if (high - 1 > t.failFraction && (high - 1) * baseMedian > t.minEffectMs) {
    return {
      ...numbers,
      decision: 'inconclusive',
      reason: `change ${pct(change)} is not significant, but the interval (${interval}) is too wide to rule out a slowdown beyond ${pct(t.failFraction)}; minimum detectable effect ≈ ${pct(minDetectableFraction)} (${options.paired ? 'add repetitions or iterations' : 'add repetitions, or use same-run A/B'})`,
    };
  }
  return { ...numbers, decision: 'pass', reason: `no significant change (${pct(change)}, ${interval})` };
}

type LatencyDecision = ReturnType<typeof decideLatency>;

/**
 * A same-run cell that stopped sequentially: settled, the confidence sequence's decision (the bootstrap figures stay
 * beside it, for the report's interval column); too noisy to settle in the budget, inconclusive with the line that
 * says so; open at the budget's end, the fixed-sample decision as before. Exported for tests.
 */
export function withSequentialStop(
  latency: LatencyDecision,
  stop: SequentialStopFields,
): LatencyDecision & Pick<CellComparison, 'stopping'> {
  const stopping = { method: stop.method, repetitions: stop.repetitions, why: stop.why };
  if (stop.why === 'settled' && stop.decision !== null)
    return {
      ...latency,
      stopping,
      decision: stop.decision,
      reason: `settled after ${stop.repetitions} repetitions: ${stop.reason}`,
    };
  if (stop.why === 'noise-floor') return { ...latency, stopping, decision: 'inconclusive', reason: stop.reason };
  return {
    ...latency,
    stopping,
    reason: `${latency.reason} (open at the end of the budget, ${stop.repetitions} repetitions)`,
  };
}

export function compareResults(
  base: ComparableResults,
  candidate: ComparableResults,
  label: string,
  options: CompareOptions,
): Comparison {
  const key = (c: ComparedCell): string => `${c.backend}\u0000${c.scenario}`;
  const baseCells = new Map(base.cells.map((c) => [key(c), c]));
  const candidateCells = new Map(candidate.cells.map((c) => [key(c), c]));
  const measured = (c: ComparedCell | undefined): c is ComparedCell =>
    c !== undefined && c.repetitionLatenciesMs.some((r) => r.length > 0);
  const cells: CellComparison[] = [];
  let index = 0;

  for (const c of candidate.cells) {
    const b = baseCells.get(key(c));
    const baseMedian = b ? cellMedian(b) : null;
    const candidateMedian = cellMedian(c);
    const common = {
      backend: c.backend,
      scenario: c.scenario,
      baseMedianMs: baseMedian,
      candidateMedianMs: candidateMedian,
      baseTokensPerSecond: b && baseMedian ? b.realTokens / (baseMedian / 1000) : null,
      candidateTokensPerSecond: candidateMedian ? c.realTokens / (candidateMedian / 1000) : null,
      ratio: null,
      ratioCi: null,
      medianRatio: baseMedian && candidateMedian ? candidateMedian / baseMedian : null,
      deltaMs: null,
      minDetectableFraction: null,
      differences: [] as string[],
    };
    const seed = options.seed + 7 * index++;
    if (c.status === 'unavailable') {
      if (measured(b))
        cells.push({ ...common, decision: 'missing', reason: 'measured in the base, unavailable in the candidate' });
      continue;
    }
    if (!b || b.status === 'unavailable') {
      cells.push({ ...common, decision: 'new', reason: 'not in the base: no comparison' });
      continue;
    }
    const differences = fingerprintDifferences(b.fingerprint, c.fingerprint);
    // First: runs that failed are the candidate's failure under any conditions (a backend that no longer opens has
    // no session, so its conditions cannot even be read).
    const degradedRise = c.degradedRate - b.degradedRate;
    if (degradedRise > options.maxDegradedRateIncrease) {
      cells.push({
        ...common,
        differences,
        decision: 'fail',
        reason: `degraded runs rose from ${pct(b.degradedRate)} to ${pct(c.degradedRate)}`,
      });
      continue;
    }
    if (differences.length > 0 && !options.allowEnvironmentChange) {
      cells.push({
        ...common,
        differences,
        decision: 'incomparable',
        reason: `measured under different conditions: ${differences.join('; ')}`,
      });
      continue;
    }
    if (!measured(c) || !measured(b)) {
      cells.push({ ...common, differences, decision: 'inconclusive', reason: 'no successful runs on one side' });
      continue;
    }
    const latency = decideLatency(b.repetitionLatenciesMs, c.repetitionLatenciesMs, {
      paired: options.mode === 'same-run',
      thresholds: options.latency,
      seed,
    });
    const stop = options.mode === 'same-run' ? c.sequential : null;
    cells.push({ ...common, differences, ...(stop ? withSequentialStop(latency, stop) : latency) });
  }
  for (const b of base.cells) {
    if (!candidateCells.has(key(b)) && measured(b)) {
      const baseMedian = cellMedian(b);
      cells.push({
        backend: b.backend,
        scenario: b.scenario,
        decision: 'missing',
        reason: 'measured in the base, absent from the candidate',
        baseMedianMs: baseMedian,
        candidateMedianMs: null,
        ratio: null,
        ratioCi: null,
        medianRatio: null,
        deltaMs: null,
        minDetectableFraction: null,
        baseTokensPerSecond: baseMedian ? b.realTokens / (baseMedian / 1000) : null,
        candidateTokensPerSecond: null,
        differences: [],
      });
    }
  }

  const accuracy = compareAccuracy(base, candidate, options);
  return {
    mode: options.mode,
    base: { label, startedAt: base.startedAt, modelSha256: base.model.sha256 },
    cells,
    accuracy,
  };
}

/** Perplexity of each backend measured on both sides, under its precision's threshold. */
function compareAccuracy(
  base: ComparableResults,
  candidate: ComparableResults,
  options: CompareOptions,
): AccuracyComparison[] {
  const baseAccuracy = new Map((base.accuracy?.rows ?? []).map((r) => [r.backend, r]));
  const differences =
    base.accuracy && candidate.accuracy ? evaluationDifferences(base.accuracy, candidate.accuracy) : [];
  const accuracy: AccuracyComparison[] = [];
  for (const row of candidate.accuracy?.rows ?? []) {
    const b = baseAccuracy.get(row.backend);
    if (row.perplexity === null || !b || b.perplexity === null) continue;
    const deltaFraction = (row.perplexity - b.perplexity) / b.perplexity;
    const threshold = options.perplexityDeltaFraction[row.precision];
    const what = `perplexity ${b.perplexity.toFixed(4)} → ${row.perplexity.toFixed(4)} (${deltaFraction >= 0 ? '+' : ''}${pct(deltaFraction)})`;
    if (differences.length > 0) {
      accuracy.push({
        backend: row.backend,
        precision: row.precision,
        basePerplexity: b.perplexity,
        candidatePerplexity: row.perplexity,
        deltaFraction,
        thresholdFraction: threshold,
        decision: 'incomparable',
        reason: `${what} not compared: scored on different things (${differences.join('; ')})`,
      });
      continue;
    }
    const decision = deltaFraction > threshold ? 'fail' : deltaFraction < -threshold ? 'improvement' : 'pass';
    accuracy.push({
      backend: row.backend,
      precision: row.precision,
      basePerplexity: b.perplexity,
      candidatePerplexity: row.perplexity,
      deltaFraction,
      thresholdFraction: threshold,
      decision,
      reason: decision === 'fail' ? `${what}: above the ${row.precision} threshold ${pct(threshold)}` : what,
    });
  }
  return accuracy;
}
