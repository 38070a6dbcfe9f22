import { describe, expect, it } from 'vitest';
import {
  bootstrapMedianCi95,
  geomeanAcrossScenarios,
  geometricMean,
  positiveTInterval95,
  summarizeCell,
  tInterval95,
} from '../../src/stats/summary.js';

// Reference values computed independently (R: t.test(1:5)$conf.int; qt(0.975, 4) = 2.776445105197799).
describe('tInterval95', () => {
  it('matches R t.test on 1..5', () => {
    const ci = tInterval95([1, 2, 3, 4, 5]);
    expect(ci?.[0]).toBeCloseTo(1.036757, 5);
    expect(ci?.[1]).toBeCloseTo(4.963243, 5);
  });

  it('matches R t.test on two values (df = 1, qt = 12.7062)', () => {
    // mean 15, sd 7.0710678, se 5 → half-width 12.7062047 × 5
    const ci = tInterval95([10, 20]);
    expect(ci?.[0]).toBeCloseTo(15 - 63.531024, 4);
    expect(ci?.[1]).toBeCloseTo(15 + 63.531024, 4);
  });

  it('is undefined for one repetition rather than a fake zero-width interval', () => {
    expect(tInterval95([3])).toBeNull();
  });
});

describe('summarizeCell', () => {
  const reps = [
    { latenciesMs: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], realTokens: 100 },
    { latenciesMs: [11, 12, 13, 14, 15, 16, 17, 18, 19, 20], realTokens: 100 },
  ];
  const s = summarizeCell(reps, 1);

  it('computes order statistics over every pass', () => {
    expect(s).not.toBeNull();
    const l = s!.latencyMs;
    expect(l.mean).toBe(10.5);
    expect(l.median).toBe(10.5);
    expect(l.min).toBe(1);
    expect(l.max).toBe(20);
    expect(l.std).toBeCloseTo(5.9160798, 6); // sd(1:20) in R
    // R: quantile(1:20, c(0.05, 0.95, 0.99)) (type 7, linear interpolation) = 1.95, 19.05, 19.81
    expect(l.p5).toBeCloseTo(1.95, 10);
    expect(l.p95).toBeCloseTo(19.05, 10);
    expect(l.p99).toBeCloseTo(19.81, 10);
    expect(s!.samples).toBe(20);
    expect(s!.repetitions).toBe(2);
  });

  it('bases the mean interval on repetition means, not on pooled passes', () => {
    // repetition means 10, 11, 12 → t.test(c(10, 11, 12)) = 11 ± qt(0.975, 2) × 1/√3 = 11 ± 2.484138
    const three = summarizeCell(
      [
        { latenciesMs: [9, 11], realTokens: 100 },
        { latenciesMs: [10, 12], realTokens: 100 },
        { latenciesMs: [11, 13], realTokens: 100 },
      ],
      1,
    );
    const ci = three!.latencyMs.meanCi95!;
    expect(ci[0]).toBeCloseTo(11 - 2.484138, 5);
    expect(ci[1]).toBeCloseTo(11 + 2.484138, 5);
  });

  it('withholds a mean interval that reaches zero or below ("n too small"): a latency is positive', () => {
    // repetition means 5.5 and 15.5 → t.test(c(5.5, 15.5)) = 10.5 ± 63.531024: [-53.0, 74.0] is no latency interval
    expect(tInterval95([5.5, 15.5])![0]).toBeLessThan(0);
    expect(positiveTInterval95([5.5, 15.5])).toBeNull();
    expect(s!.latencyMs.meanCi95).toBeNull();
    expect(s!.tokensPerSecond.meanCi95).toBeNull();
    expect(positiveTInterval95([1, 2, 3, 4, 5])?.[0]).toBeCloseTo(1.036757, 5);
  });

  it('counts throughput in real tokens per second', () => {
    expect(s!.tokensPerSecond.atMedian).toBeCloseTo(100 / 0.0105, 6);
    const perPass = [...Array(20).keys()].map((i) => 100 / ((i + 1) / 1000));
    expect(s!.tokensPerSecond.mean).toBeCloseTo(perPass.reduce((a, b) => a + b) / 20, 6);
  });

  it('returns null when nothing was measured', () => {
    expect(summarizeCell([], 1)).toBeNull();
  });
});

describe('bootstrapMedianCi95', () => {
  it('is reproducible for a seed and contains the median', () => {
    const reps = [0, 1, 2, 3, 4].map((r) => ({
      latenciesMs: [...Array(20).keys()].map((i) => 10 + r * 0.1 + ((i * 7) % 5) * 0.05),
      realTokens: 8,
    }));
    const a = bootstrapMedianCi95(reps, 42);
    const b = bootstrapMedianCi95(reps, 42);
    expect(a).toEqual(b);
    const median = summarizeCell(reps, 42)!.latencyMs.median;
    expect(a![0]).toBeLessThanOrEqual(median);
    expect(a![1]).toBeGreaterThanOrEqual(median);
    expect(a![1] - a![0]).toBeGreaterThan(0);
  });

  it('collapses to a point when every pass took the same time', () => {
    expect(
      bootstrapMedianCi95(
        [
          { latenciesMs: [5, 5, 5], realTokens: 1 },
          { latenciesMs: [5, 5, 5], realTokens: 1 },
        ],
        1,
      ),
    ).toEqual([5, 5]);
  });

  it('widens when repetitions disagree (between-repetition drift is not hidden by many passes)', () => {
    const steady = [0, 1, 2, 3, 4].map(() => ({
      latenciesMs: Array(50)
        .fill(0)
        .map((_, i) => 10 + (i % 3) * 0.01),
      realTokens: 1,
    }));
    const drifting = [0, 1, 2, 3, 4].map((r) => ({
      latenciesMs: Array(50)
        .fill(0)
        .map((_, i) => 10 + r + (i % 3) * 0.01),
      realTokens: 1,
    }));
    const w = (ci: readonly [number, number] | null): number => ci![1] - ci![0];
    expect(w(bootstrapMedianCi95(drifting, 3))).toBeGreaterThan(10 * w(bootstrapMedianCi95(steady, 3)));
  });
});

describe('geometric mean across scenarios', () => {
  it('is the geometric mean of per-cell medians', () => {
    expect(geometricMean([1, 100])).toBeCloseTo(10, 12);
    const cell = (ms: number) => {
      const reps = [
        { latenciesMs: [ms, ms, ms], realTokens: 10 },
        { latenciesMs: [ms, ms, ms], realTokens: 10 },
      ];
      return { reps, stats: summarizeCell(reps, 0)! };
    };
    const g = geomeanAcrossScenarios([cell(1), cell(100)], 0)!;
    expect(g.scenarios).toBe(2);
    expect(g.latencyMs).toBeCloseTo(10, 10);
    expect(g.latencyCi95![0]).toBeCloseTo(10, 10);
    expect(g.tokensPerSecond).toBeCloseTo(geometricMean([10 / 0.001, 10 / 0.1]), 6);
  });
});
