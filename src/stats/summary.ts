/**
 * Statistics per cell (one backend × one scenario). Pure. Intervals are never pooled across shapes: a backend-level
 * figure is a geometric mean of per-cell medians across scenarios, labelled as such, with its own bootstrap.
 */
import tQuantile from '@stdlib/stats-base-dists-t-quantile';
import { max, mean, median, min, quantileSorted, sampleStandardDeviation } from 'simple-statistics';
import { z } from 'zod';
import type { DeepReadonly } from '../deep-readonly.js';
import { seededRandom } from './random.js';
import { TwoStageMedian } from './two-stage-median.js';

/** Latencies of one repetition of one cell (its `iterations` timed forward passes). */
export interface RepetitionSample {
  readonly latenciesMs: readonly number[];
  /** Non-padding tokens in the batch. */
  readonly realTokens: number;
}

/** [low, high]. */
export const intervalSchema = z.tuple([z.number(), z.number()]);
export type Interval = DeepReadonly<z.infer<typeof intervalSchema>>;

export const latencyStatsSchema = z.object({
  mean: z.number(),
  median: z.number(),
  std: z.number(),
  min: z.number(),
  max: z.number(),
  p5: z.number(),
  p95: z.number(),
  p99: z.number(),
  /**
   * t-interval over repetition means (df = repetitions − 1); null ("n too small") with one repetition, or when the
   * interval would reach 0 or below: a latency is positive, so such an interval only says there are too few.
   */
  meanCi95: intervalSchema.nullable(),
  /** Two-stage bootstrap (repetitions, then passes within each) percentile interval. */
  medianCi95: intervalSchema.nullable(),
});
export type LatencyStats = DeepReadonly<z.infer<typeof latencyStatsSchema>>;

export const cellStatsSchema = z.object({
  repetitions: z.number(),
  samples: z.number(),
  latencyMs: latencyStatsSchema,
  tokensPerSecond: z.object({
    /** Real tokens ÷ median latency. */
    atMedian: z.number(),
    /** Mean of per-pass throughput. */
    mean: z.number(),
    /** t-interval over repetitions' mean throughput; null ("n too small") as for the latency's. */
    meanCi95: intervalSchema.nullable(),
  }),
});
export type CellStats = DeepReadonly<z.infer<typeof cellStatsSchema>>;

export const BOOTSTRAP_RESAMPLES = 2000;

export function tInterval95(values: readonly number[]): Interval | null {
  if (values.length < 2) return null;
  const m = mean([...values]);
  const half = tQuantile(0.975, values.length - 1) * (sampleStandardDeviation([...values]) / Math.sqrt(values.length));
  return [m - half, m + half];
}

/**
 * A t-interval for a quantity that can only be positive (a latency, a throughput), or null where n is too small for
 * one: with 2 or 3 repetitions the t quantile (12.7 at df 1) easily stretches the interval below zero.
 */
export function positiveTInterval95(values: readonly number[]): Interval | null {
  const ci = tInterval95(values);
  return ci && ci[0] > 0 ? ci : null;
}

function percentileInterval(estimates: number[]): Interval {
  estimates.sort((a, b) => a - b);
  return [quantileSorted(estimates, 0.025), quantileSorted(estimates, 0.975)];
}

export function bootstrapMedianCi95(
  reps: readonly RepetitionSample[],
  seed: number,
  resamples = BOOTSTRAP_RESAMPLES,
): Interval | null {
  if (reps.length === 0 || reps.every((r) => r.latenciesMs.length < 2)) return null;
  const random = seededRandom(seed);
  const cell = new TwoStageMedian(reps.map((r) => r.latenciesMs));
  const estimates = Array.from({ length: resamples }, () => cell.resample(random));
  return percentileInterval(estimates);
}

export function summarizeCell(reps: readonly RepetitionSample[], seed: number): CellStats | null {
  const all = reps.flatMap((r) => r.latenciesMs);
  if (all.length === 0) return null;
  const sorted = [...all].sort((a, b) => a - b);
  const repMeans = reps.map((r) => mean([...r.latenciesMs]));
  const perPassThroughput = reps.flatMap((r) => r.latenciesMs.map((ms) => r.realTokens / (ms / 1000)));
  const repThroughput = reps.map((r) => mean(r.latenciesMs.map((ms) => r.realTokens / (ms / 1000))));
  const medianMs = median(sorted);
  const realTokens = reps[0]?.realTokens ?? 0;
  return {
    repetitions: reps.length,
    samples: all.length,
    latencyMs: {
      mean: mean(all),
      median: medianMs,
      std: all.length > 1 ? sampleStandardDeviation(all) : 0,
      min: min(all),
      max: max(all),
      p5: quantileSorted(sorted, 0.05),
      p95: quantileSorted(sorted, 0.95),
      p99: quantileSorted(sorted, 0.99),
      meanCi95: positiveTInterval95(repMeans),
      medianCi95: bootstrapMedianCi95(reps, seed),
    },
    tokensPerSecond: {
      atMedian: realTokens / (medianMs / 1000),
      mean: mean(perPassThroughput),
      meanCi95: positiveTInterval95(repThroughput),
    },
  };
}

export function geometricMean(values: readonly number[]): number {
  return Math.exp(mean(values.map((v) => Math.log(v))));
}

export const geomeanSummarySchema = z.object({
  /** How many scenarios (cells with measurements) the geometric mean spans. */
  scenarios: z.number(),
  latencyMs: z.number(),
  latencyCi95: intervalSchema.nullable(),
  tokensPerSecond: z.number(),
});
export type GeomeanSummary = DeepReadonly<z.infer<typeof geomeanSummarySchema>>;

/**
 * Geometric mean across scenarios of per-cell median latency (and of throughput at the median). Its interval
 * resamples each cell independently (same two-stage bootstrap) and takes the geometric mean of the medians.
 */
export function geomeanAcrossScenarios(
  cells: readonly { readonly reps: readonly RepetitionSample[]; readonly stats: CellStats }[],
  seed: number,
  resamples = BOOTSTRAP_RESAMPLES,
): GeomeanSummary | null {
  if (cells.length === 0) return null;
  const random = seededRandom(seed);
  const resampled = cells.map((c) => new TwoStageMedian(c.reps.map((r) => r.latenciesMs)));
  const estimates = Array.from({ length: resamples }, () => geometricMean(resampled.map((m) => m.resample(random))));
  const canInterval = cells.some((c) => c.reps.length > 1 || c.stats.samples > 1);
  return {
    scenarios: cells.length,
    latencyMs: geometricMean(cells.map((c) => c.stats.latencyMs.median)),
    latencyCi95: canInterval ? percentileInterval(estimates) : null,
    tokensPerSecond: geometricMean(cells.map((c) => c.stats.tokensPerSecond.atMedian)),
  };
}
