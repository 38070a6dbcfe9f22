/**
 * Sequential stopping of a same-run A/B (docs/sequential-stopping.md): after each repetition, each cell's paired
 * change is looked at through a confidence sequence (stats/confidence-sequence.ts), which holds at every look, and
 * the cell stops once its decision is settled: pass when the whole interval is below the warn line (or every
 * slowdown in it is below the absolute floor), fail when the whole interval is beyond the fail line and the change
 * beyond the floor, warn when it lies between the two lines. A cell that cannot settle within the budget (its noise
 * after the first block says so) stops at once as inconclusive; the others run to the budget and are decided by the
 * fixed-sample rules (gate/compare.ts decideLatency), as before. Pure.
 */
import { chiSquaredDistributionTable, median } from 'simple-statistics';
import type { LatencyThresholds } from '../config/schema.js';
import tQuantile from '@stdlib/stats-base-dists-t-quantile';
import { confidenceSequence } from '../stats/confidence-sequence.js';

/**
 * No cell stops before this many repetitions: the running standard deviation needs 2 degrees of freedom before the
 * Student widening is finite enough to settle anything (with 1 its factor is ~11), and by the third repetition both
 * sessions have been opened first (pairing.ts sessionOpenedFirstSequential) and both pass orders have run.
 */
export const MIN_REPETITIONS = 3;

/** The method, as results.json, verdict.json and the report name it. */
export function sequentialMethod(confidence: number, maxRepetitions: number): string {
  return (
    `asymptotic confidence sequence (Waudby-Smith et al. 2024; Gaussian mixture tuned for ${maxRepetitions} ` +
    `repetitions, Student-widened) at ${Math.round(confidence * 100)}% on the per-repetition paired log-ratio; ` +
    `looks from repetition ${MIN_REPETITIONS}`
  );
}

type RepetitionsMs = readonly (readonly number[])[];

/**
 * One observation per repetition: the median over its passes of log(candidate pass ÷ the base pass timed next to
 * it). Repetitions are the independent unit (a pass shares its repetition's state with its neighbours); a
 * repetition missing on either side, or of unequal length, is left out.
 */
export function repetitionLogRatios(base: RepetitionsMs, candidate: RepetitionsMs): number[] {
  const out: number[] = [];
  for (let r = 0; r < Math.min(base.length, candidate.length); r++) {
    const b = base[r]!;
    const c = candidate[r]!;
    if (b.length === 0 || b.length !== c.length) continue;
    out.push(median(b.map((ms, i) => Math.log(c[i]! / ms))));
  }
  return out;
}

export interface SequentialLook {
  readonly repetitions: number;
  readonly ratio: number;
  readonly ratioCi: readonly [number, number];
  /** The settled decision, or null while the interval still straddles a line. */
  readonly settled: 'pass' | 'improvement' | 'warn' | 'fail' | null;
  readonly reason: string;
  /** The standard deviation of the per-repetition log-ratio. */
  readonly sdLogRatio: number;
  /**
   * A robust standard deviation of the same (1.4826 × the median absolute deviation): what the noise-floor projection
   * uses, so that one disturbed repetition among the first three (another process taking the cores: −22% seen on a
   * 0.4 ms cell) does not declare a runner that resolves 1.5% unable to resolve 16%.
   */
  readonly robustSdLogRatio: number;
  /** The base side's median pass, for the absolute floor. */
  readonly baseMedianMs: number;
}

export interface SequentialOptions {
  readonly thresholds: LatencyThresholds;
  /** The budget's repetitions: the look the sequence is tuned for. */
  readonly maxRepetitions: number;
}

const pct = (fraction: number): string => `${(fraction * 100).toFixed(1)}%`;

/** The look after every repetition so far; null before MIN_REPETITIONS paired repetitions. */
export function sequentialLook(
  base: RepetitionsMs,
  candidate: RepetitionsMs,
  options: SequentialOptions,
): SequentialLook | null {
  const logs = repetitionLogRatios(base, candidate);
  if (logs.length < MIN_REPETITIONS) return null;
  const t = options.thresholds;
  const cs = confidenceSequence(logs, { alpha: 1 - t.confidence, tunedForLooks: options.maxRepetitions })!;
  const ratio = Math.exp(cs.mean);
  const [low, high] = [Math.exp(cs.low), Math.exp(cs.high)];
  const baseMedian = median(base.flat());
  const deltaMs = median(candidate.flat()) - baseMedian;
  const interval = `${Math.round(t.confidence * 100)}% confidence sequence ${pct(low - 1)} … ${pct(high - 1)} after ${logs.length} repetitions`;
  const center = median(logs);
  const robustSdLogRatio = 1.4826 * median(logs.map((x) => Math.abs(x - center)));
  const look = {
    repetitions: logs.length,
    ratio,
    ratioCi: [low, high] as const,
    sdLogRatio: cs.sd,
    robustSdLogRatio,
    baseMedianMs: baseMedian,
  };
  const aboveFloor = deltaMs > t.minEffectMs;
  if (low - 1 > t.failFraction && aboveFloor)
    return {
      ...look,
      settled: 'fail',
      reason: `slower by ${pct(ratio - 1)} (${interval}): beyond the fail threshold ${pct(t.failFraction)}`,
    };
  if (low - 1 > t.warnFraction && high - 1 <= t.failFraction && aboveFloor)
    return {
      ...look,
      settled: 'warn',
      reason: `slower by ${pct(ratio - 1)} (${interval}): between the warn threshold ${pct(t.warnFraction)} and the fail threshold ${pct(t.failFraction)}`,
    };
  if (high - 1 < t.warnFraction || (high - 1) * baseMedian <= t.minEffectMs) {
    if (high < 1 && 1 - ratio > t.warnFraction && -deltaMs > t.minEffectMs)
      return { ...look, settled: 'improvement', reason: `faster by ${pct(1 - ratio)} (${interval})` };
    const why =
      high - 1 < t.warnFraction
        ? `below the warn threshold ${pct(t.warnFraction)}`
        : `below the ${t.minEffectMs} ms floor`;
    return { ...look, settled: 'pass', reason: `change ${pct(ratio - 1)} (${interval}): every change in it ${why}` };
  }
  return { ...look, settled: null, reason: `open: ${interval}` };
}

/**
 * What the budget's end could resolve, from the noise so far: the half-width (as a relative change) of the
 * fixed-sample interval after `repetitionsAtBudget` repetitions of this standard deviation (Student t at the gate's
 * confidence). The fixed-sample one, not the confidence sequence's: a cell still open at the budget is decided by
 * the fixed-sample rules (decideLatency), so that is the interval whose width says whether waiting can settle it.
 * Projecting with the sequence's wider interval stopped 9% of A/A cells at the noise floor under load
 * (bench/results/sequential-gate-amd-epyc-2cpu.json) that the fixed rules at the same budget all passed.
 */
export function achievableFraction(
  sdLogRatio: number,
  repetitionsAtBudget: number,
  options: SequentialOptions,
): number {
  const n = Math.max(repetitionsAtBudget, 2);
  const tail = (1 - options.thresholds.confidence) / 2;
  return Math.expm1((tQuantile(1 - tail, n - 1) * sdLogRatio) / Math.sqrt(n));
}

/**
 * The lower 95% bound of a standard deviation estimated from `observations` normal observations:
 * sd · sqrt((n − 1) / χ²₀.₉₅(n − 1)) (0.58 × sd for three). The noise floor stops a cell only when even this could
 * not settle it: with three repetitions the spread itself is uncertain by a factor of two either way, and the first
 * version of the noise floor (point estimate) ended 8% of A/A runs `inconclusive` under load where the fixed rules
 * at the same budget passed them all (bench/results/sequential-gate-noise-floor-fix-amd-epyc-2cpu.json).
 */
export function optimisticSd(sd: number, observations: number): number {
  const df = Math.max(Math.min(observations - 1, 30), 1);
  const upper = chiSquaredDistributionTable[df as keyof typeof chiSquaredDistributionTable]['0.05'];
  return sd * Math.sqrt(df / upper);
}

/**
 * Whether the budget's end could settle this cell: its interval, centred where the cell is now and as wide as
 * `achievable`, would lie wholly beyond the fail line, between the lines, or below the warn line (or the floor).
 * A cell whose answer it could not settle stops at the noise floor; a clear regression on a noisy runner does not
 * (a +11% candidate under heavy load once stopped inconclusive at the third look when the projection ignored this).
 */
export function couldSettleWithin(look: SequentialLook, achievable: number, thresholds: LatencyThresholds): boolean {
  const halfLog = Math.log1p(achievable);
  const low = Math.exp(Math.log(look.ratio) - halfLog) - 1;
  const high = Math.exp(Math.log(look.ratio) + halfLog) - 1;
  return (
    low > thresholds.failFraction ||
    (low > thresholds.warnFraction && high <= thresholds.failFraction) ||
    high < thresholds.warnFraction ||
    high * look.baseMedianMs <= thresholds.minEffectMs
  );
}

/** The noise-floor line: what this runner resolves in the budget, against the thresholds. */
export function noiseFloorLine(achievable: number, budgetSeconds: number, thresholds: LatencyThresholds): string {
  return (
    `this runner resolves ≈ ${pct(achievable)} in ${Math.round(budgetSeconds)} s; thresholds are ` +
    `${pct(thresholds.warnFraction)}/${pct(thresholds.failFraction)}`
  );
}
