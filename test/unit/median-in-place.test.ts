import { median } from 'simple-statistics';
import { describe, expect, it } from 'vitest';
import { bootstrapRatio } from '../../src/stats/ratio.js';
import { seededRandom } from '../../src/stats/random.js';
import { medianInPlace } from '../../src/stats/select.js';
import { bootstrapMedianCi95, geomeanAcrossScenarios, summarizeCell } from '../../src/stats/summary.js';

describe('medianInPlace: the bootstrap’s median without a copy, bit for bit the one it replaced', () => {
  it('equals simple-statistics median on odd and even lengths, ties and repeated values', () => {
    const random = seededRandom(23);
    for (let n = 1; n <= 60; n++) {
      for (const distinct of [3, 1000]) {
        const values = Array.from(
          { length: n },
          () => Math.floor(random() * distinct) + random() * 1e-3 * (distinct > 3 ? 1 : 0),
        );
        const expected = median([...values]);
        expect(Object.is(medianInPlace([...values]), expected), `n=${n}`).toBe(true);
      }
    }
  });

  it('is NaN for no values (the bootstrap never asks), not a throw', () => {
    expect(medianInPlace([])).toBeNaN();
  });

  it('leaves every bootstrap figure as it was for the same seed (pinned from before the change)', () => {
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
