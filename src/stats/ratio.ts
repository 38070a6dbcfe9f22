/**
 * The change of a cell's latency between a base and a candidate, with a bootstrap interval on the ratio. Pure.
 *
 * Paired (same-run A/B: pass i of repetition r was timed right next to the base's pass i): the estimate is the
 * median of the per-pass log ratios, and the bootstrap resamples (repetition, pass) pairs, so drift shared by a
 * pair cancels. Unpaired (stored baseline): the ratio of the two medians, each side resampled on its own
 * (repetitions, then passes within each); `extraLogSd` widens that interval for the noise between two processes
 * that one run cannot see.
 */
import { median, probit, quantileSorted, sampleStandardDeviation } from 'simple-statistics';
import { seededRandom } from './random.js';
import { TwoStageMedian } from './two-stage-median.js';
import { BOOTSTRAP_RESAMPLES } from './summary.js';

export interface RatioEstimate {
  /** candidate ÷ base. */
  readonly ratio: number;
  /** Interval of the ratio at the requested confidence. */
  readonly ci: readonly [low: number, high: number];
  /** Standard deviation of log(ratio): the noise the decision has to see through (extraLogSd included). */
  readonly sdLogRatio: number;
}

type Reps = readonly (readonly number[])[];

export interface RatioOptions {
  readonly paired: boolean;
  readonly seed: number;
  readonly confidence: number;
  readonly resamples?: number;
  /** Unpaired only: a standard deviation of log(ratio) added in quadrature (between-run noise). */
  readonly extraLogSd?: number;
}

export function bootstrapRatio(base: Reps, candidate: Reps, options: RatioOptions): RatioEstimate | null {
  const b = base.filter((r) => r.length > 0);
  const c = candidate.filter((r) => r.length > 0);
  if (b.length === 0 || c.length === 0) return null;
  const paired = options.paired && b.length === c.length && b.every((rep, r) => rep.length === c[r]?.length);
  const random = seededRandom(options.seed);
  const resamples = options.resamples ?? BOOTSTRAP_RESAMPLES;
  const logs: number[] = [];

  let estimate: number;
  if (paired) {
    const pairLogs = b.map((rep, r) => rep.map((ms, i) => Math.log(((c[r] as readonly number[])[i] as number) / ms)));
    estimate = median(pairLogs.flat());
    // Two-stage resamples (repetitions with replacement, then passes within each) of the pairs' log-ratios.
    const pairs = new TwoStageMedian(pairLogs);
    for (let k = 0; k < resamples; k++) logs.push(pairs.resample(random));
  } else {
    estimate = Math.log(median(c.flat()) / median(b.flat()));
    // Each side resampled in two stages, the candidate's first.
    const candidateSide = new TwoStageMedian(c);
    const baseSide = new TwoStageMedian(b);
    for (let k = 0; k < resamples; k++) {
      const candidateMedian = candidateSide.resample(random);
      logs.push(Math.log(candidateMedian / baseSide.resample(random)));
    }
  }
  logs.sort((x, y) => x - y);
  const alpha = 1 - options.confidence;
  const bootSd = logs.length > 1 ? sampleStandardDeviation(logs) : 0;
  const extra = paired ? 0 : (options.extraLogSd ?? 0);
  let low = quantileSorted(logs, alpha / 2);
  let high = quantileSorted(logs, 1 - alpha / 2);
  if (extra > 0) {
    // Widen each side of the percentile interval as a normal interval would widen with the extra variance.
    const z = probit(1 - alpha / 2);
    const widen = (half: number): number => Math.sqrt(half * half + (z * extra) ** 2);
    low = estimate - widen(estimate - low);
    high = estimate + widen(high - estimate);
  }
  return {
    ratio: Math.exp(estimate),
    ci: [Math.exp(low), Math.exp(high)],
    sdLogRatio: Math.sqrt(bootSd * bootSd + extra * extra),
  };
}
