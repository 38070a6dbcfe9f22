/**
 * The change of a cell's median latency between a base and a candidate, with a bootstrap interval on the ratio.
 * Paired (same-run A/B: repetition i of both was measured back to back) resamples the same repetition indices on
 * both sides, so drift shared by a pair cancels; unpaired (stored baseline) resamples each side on its own. Pure.
 */
import { median, quantileSorted, sampleStandardDeviation } from 'simple-statistics';
import { seededRandom } from './random.js';
import { BOOTSTRAP_RESAMPLES } from './summary.js';

export interface RatioEstimate {
  /** candidate median ÷ base median. */
  readonly ratio: number;
  /** Percentile interval of the ratio at the requested confidence. */
  readonly ci: readonly [low: number, high: number];
  /** Standard deviation of log(ratio) over the resamples: the noise the decision has to see through. */
  readonly sdLogRatio: number;
}

type Reps = readonly (readonly number[])[];

/** Median of the passes at `passes[k]` of repetition `reps[k]`, for every k. */
function pooledMedian(
  reps: Reps,
  repIndices: readonly number[],
  passes: readonly (readonly number[])[],
  scratch: number[],
): number {
  scratch.length = 0;
  repIndices.forEach((r, k) => {
    const rep = reps[r] as readonly number[];
    for (const i of passes[k] as readonly number[]) scratch.push(rep[i] as number);
  });
  return median(scratch);
}

export function bootstrapRatio(
  base: Reps,
  candidate: Reps,
  options: {
    readonly paired: boolean;
    readonly seed: number;
    readonly confidence: number;
    readonly resamples?: number;
  },
): RatioEstimate | null {
  const b = base.filter((r) => r.length > 0);
  const c = candidate.filter((r) => r.length > 0);
  if (b.length === 0 || c.length === 0) return null;
  // Paired: base and candidate passes were timed alternately, so pass i of repetition r on both sides saw the same
  // moment of the machine; resampling the same (repetition, pass) pairs keeps that, and shared drift cancels.
  const paired = options.paired && b.length === c.length && b.every((rep, r) => rep.length === c[r]?.length);
  const random = seededRandom(options.seed);
  const scratch: number[] = [];
  const pick = (n: number): number[] => Array.from({ length: n }, () => Math.floor(random() * n));
  const passesOf = (reps: Reps, indices: readonly number[]): number[][] =>
    indices.map((r) => pick((reps[r] as readonly number[]).length));
  const logs: number[] = [];
  for (let k = 0; k < (options.resamples ?? BOOTSTRAP_RESAMPLES); k++) {
    const bi = pick(b.length);
    const bp = passesOf(b, bi);
    const ci = paired ? bi : pick(c.length);
    const cp = paired ? bp : passesOf(c, ci);
    logs.push(Math.log(pooledMedian(c, ci, cp, scratch) / pooledMedian(b, bi, bp, scratch)));
  }
  logs.sort((x, y) => x - y);
  const alpha = 1 - options.confidence;
  const ratio = median(c.flat()) / median(b.flat());
  return {
    ratio,
    ci: [Math.exp(quantileSorted(logs, alpha / 2)), Math.exp(quantileSorted(logs, 1 - alpha / 2))],
    sdLogRatio: logs.length > 1 ? sampleStandardDeviation(logs) : 0,
  };
}
