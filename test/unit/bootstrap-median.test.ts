import { describe, expect, it } from 'vitest';
import { bootstrapRatio } from '../../src/stats/ratio.js';
import { seededRandom } from '../../src/stats/random.js';
import { bootstrapMedianCi95, geomeanAcrossScenarios, summarizeCell } from '../../src/stats/summary.js';
import { TwoStageMedian } from '../../src/stats/two-stage-median.js';

/**
 * The definition, as judging computed it before (src/stats/select.ts's medianInPlace, which the pinned figures below
 * come from): draw repetitions with replacement, then passes within each, pool the values, take the middle one or
 * the two middle ones added and halved. (simple-statistics' median interpolates, lower + (upper − lower) / 2, which
 * can differ in the last bit.)
 */
function pooledMedian(reps: readonly (readonly number[])[], random: () => number): number {
  const pooled: number[] = [];
  for (let r = 0; r < reps.length; r++) {
    const rep = reps[Math.floor(random() * reps.length)]!;
    for (let i = 0; i < rep.length; i++) pooled.push(rep[Math.floor(random() * rep.length)]!);
  }
  if (pooled.length === 0) return Number.NaN;
  pooled.sort((x, y) => x - y);
  const upper = pooled.length >> 1;
  return pooled.length % 2 === 1 ? pooled[upper]! : (pooled[upper - 1]! + pooled[upper]!) / 2;
}

describe('the two-stage bootstrap’s median by ranks: bit for bit the pooled median, draw for draw', () => {
  it('equals pooling the drawn values and taking their median: odd and even totals, ties, empty repetitions', () => {
    const random = seededRandom(23);
    for (let trial = 0; trial < 300; trial++) {
      const repetitions = 1 + Math.floor(random() * 6);
      const distinct = [2, 5, 1000][trial % 3]!;
      const reps = Array.from({ length: repetitions }, () =>
        Array.from({ length: Math.floor(random() * 9) }, () => Math.floor(random() * distinct) * 0.37 + 1),
      );
      const seed = 1000 + trial;
      const byRanks = new TwoStageMedian(reps);
      const [a, b] = [seededRandom(seed), seededRandom(seed)];
      for (let k = 0; k < 20; k++) {
        const expected = pooledMedian(reps, a);
        expect(Object.is(byRanks.resample(b), expected), `trial ${trial}, resample ${k}`).toBe(true);
      }
      expect(a()).toBe(b()); // the same random numbers were drawn
    }
  });

  it('is NaN when every repetition drawn is empty, not a throw', () => {
    expect(new TwoStageMedian([[], []]).resample(seededRandom(1))).toBeNaN();
  });

  it('leaves every bootstrap figure as it was for the same seed (pinned before medians were counted by rank)', () => {
    const random = seededRandom(7);
    const side = (n: number, m: number, scale: number): number[][] =>
      Array.from({ length: n }, () => Array.from({ length: m }, () => scale * (1 + random())));
    const a = side(6, 40, 1);
    const b = side(6, 40, 1.03);
    const odd = side(5, 7, 2);
    const reps = (x: number[][]) => x.map((latenciesMs) => ({ latenciesMs, realTokens: 32 }));
    const geo = geomeanAcrossScenarios(
      [a, b, odd].map((x) => ({ reps: reps(x), stats: summarizeCell(reps(x), 1)! })),
      9,
    );
    expect(geo?.latencyCi95).toEqual([1.8677808818944401, 2.0629401166249677]);
    expect(bootstrapMedianCi95(reps(a), 118)).toEqual([1.4892197928857058, 1.6243897788226604]);
    expect(bootstrapMedianCi95(reps(odd), 5)).toEqual([2.8044929513707757, 3.5907939868047833]);
    expect(bootstrapRatio(a, b, { seed: 118, confidence: 0.95, paired: true })).toEqual({
      ratio: 0.9948929852984334,
      ci: [0.9409618027825541, 1.0316144650022714],
      sdLogRatio: 0.029333190562562558,
    });
    expect(bootstrapRatio(a, b, { seed: 118, confidence: 0.95, paired: false, extraLogSd: 0.01 })).toEqual({
      ratio: 1.0086928762877934,
      ci: [0.9320136812237486, 1.0773227007961346],
      sdLogRatio: 0.03714515445699189,
    });
    expect(bootstrapRatio(odd, a, { seed: 3, confidence: 0.9, paired: false })).toEqual({
      ratio: 0.49109460727930676,
      ci: [0.44042498211395076, 0.5456370244233608],
      sdLogRatio: 0.06678787439276643,
    });
  });
});
