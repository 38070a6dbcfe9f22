import { probit } from 'simple-statistics';
import { describe, expect, it } from 'vitest';
import {
  confidenceSequence,
  halfWidthAt,
  mixtureBoundary,
  studentFactor,
  studentQuantile,
  tunedRhoSquared,
} from '../../src/stats/confidence-sequence.js';
import { seededRandom } from '../../src/stats/random.js';

describe('the Gaussian-mixture boundary', () => {
  // Computed independently in Python (math only):
  //   r2 = (-2*log(.05) + log(-2*log(.05) + 1)) / 10 = 0.7936154601737565
  //   sqrt(2*(t*r2+1)/(t*t*r2) * log(sqrt(t*r2+1)/.05)) → t=1: 3.8550546335, t=3: 1.8473181926, t=10: 0.9598173585,
  //   t=100: 0.3241723145
  it('matches values computed independently', () => {
    const r2 = tunedRhoSquared(0.05, 10);
    expect(r2).toBeCloseTo(0.7936154601737565, 12);
    expect(mixtureBoundary(1, r2, 0.05)).toBeCloseTo(3.8550546335, 9);
    expect(mixtureBoundary(3, r2, 0.05)).toBeCloseTo(1.8473181926, 9);
    expect(mixtureBoundary(10, r2, 0.05)).toBeCloseTo(0.9598173585, 9);
    expect(mixtureBoundary(100, r2, 0.05)).toBeCloseTo(0.3241723145, 9);
  });

  it('is wider than a fixed-sample normal interval at the look it is tuned for (the price of looking often)', () => {
    const fixed = probit(0.975) / Math.sqrt(10);
    expect(mixtureBoundary(10, tunedRhoSquared(0.05, 10), 0.05)).toBeGreaterThan(fixed);
  });
});

describe('Student quantiles', () => {
  // Textbook table values (two-sided 95%): df 2 → 4.302653, df 4 → 2.776445, df 9 → 2.262157, df 29 → 2.045230;
  // and df 1 at 0.9875 is tan(π(0.9875 − 0.5)) = 25.451699.
  it('match the tables', () => {
    expect(studentQuantile(2, 0.975)).toBeCloseTo(4.302653, 5);
    expect(studentQuantile(4, 0.975)).toBeCloseTo(2.776445, 5);
    expect(studentQuantile(9, 0.975)).toBeCloseTo(2.262157, 5);
    expect(studentQuantile(29, 0.975)).toBeCloseTo(2.04523, 5);
    expect(studentQuantile(1, 0.9875)).toBeCloseTo(Math.tan(Math.PI * 0.4875), 4);
  });

  it('refuses what has no quantile', () => {
    expect(() => studentQuantile(0, 0.9)).toThrow(RangeError);
    expect(() => studentQuantile(3, 0.4)).toThrow(RangeError);
  });

  it('widen small samples a lot and large ones barely', () => {
    expect(studentFactor(3, 0.05)).toBeGreaterThan(2.5);
    expect(studentFactor(60, 0.05)).toBeLessThan(1.03);
  });
});

describe('confidenceSequence', () => {
  it('has no interval before two observations', () => {
    expect(confidenceSequence([], { alpha: 0.05, tunedForLooks: 10 })).toBeNull();
    expect(confidenceSequence([1], { alpha: 0.05, tunedForLooks: 10 })).toBeNull();
  });

  it('centres on the mean, with the sample standard deviation', () => {
    const look = confidenceSequence([1, 2, 3, 4], { alpha: 0.05, tunedForLooks: 10 })!;
    expect(look.mean).toBe(2.5);
    expect(look.sd).toBeCloseTo(Math.sqrt(5 / 3), 12);
    expect(look.low).toBeCloseTo(2.5 - look.halfWidth, 12);
    expect(look.halfWidth).toBeCloseTo(halfWidthAt(4, look.sd, { alpha: 0.05, tunedForLooks: 10 }), 12);
  });
});

/**
 * The property the gate relies on: the chance that the interval misses the true mean at ANY look from the third to
 * the budget's last stays ≤ alpha. Seeded: the same figures every run.
 */
describe('time-uniform error, simulated', () => {
  const normal = (random: () => number) => () => {
    const u = Math.max(random(), 1e-300);
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
  };
  const studentT3 = (random: () => number) => {
    const z = normal(random);
    return () => {
      let chi = 0;
      for (let k = 0; k < 3; k++) chi += z() ** 2;
      return z() / Math.sqrt(chi / 3);
    };
  };
  const laplace = (random: () => number) => () => {
    const u = random() - 0.5;
    return -Math.sign(u) * Math.log(1 - 2 * Math.abs(u));
  };
  const cases = [
    ['normal', normal],
    ['Student-t(3), heavy-tailed', studentT3],
    ['Laplace', laplace],
  ] as const;

  for (const looks of [10, 20]) {
    for (const [name, make] of cases) {
      it(`stays within alpha at every look from 3 to ${looks}: ${name}`, () => {
        const alpha = 0.05;
        const trials = 4000;
        const draw = make(seededRandom(24 + looks));
        // missedBy[t]: trials whose interval has missed the mean 0 at some look ≤ t.
        const missedBy = new Array<number>(looks + 1).fill(0);
        for (let trial = 0; trial < trials; trial++) {
          const xs: number[] = [];
          let missed = false;
          for (let t = 1; t <= looks; t++) {
            xs.push(draw());
            if (t >= 3 && !missed) {
              const look = confidenceSequence(xs, { alpha, tunedForLooks: looks })!;
              missed = look.low > 0 || look.high < 0;
            }
            if (missed) missedBy[t]!++;
          }
        }
        const rates = missedBy.slice(3).map((m) => m / trials);
        expect(Math.max(...rates)).toBeLessThanOrEqual(alpha);
        // Not vacuous: the interval does miss sometimes (an absurdly wide one would never).
        expect(rates.at(-1)!).toBeGreaterThan(alpha / 10);
      });
    }
  }

  it('a fixed-sample 95% t-interval recomputed at every look does not (why the sequence is needed)', () => {
    const draw = normal(seededRandom(7));
    let missedAny = 0;
    const trials = 2000;
    for (let trial = 0; trial < trials; trial++) {
      const xs: number[] = [];
      let missed = false;
      for (let t = 1; t <= 20; t++) {
        xs.push(draw());
        if (t < 3 || missed) continue;
        const mean = xs.reduce((a, b) => a + b, 0) / t;
        const sd = Math.sqrt(xs.reduce((a, x) => a + (x - mean) ** 2, 0) / (t - 1));
        missed = Math.abs(mean) > (studentQuantile(t - 1, 0.975) * sd) / Math.sqrt(t);
      }
      if (missed) missedAny++;
    }
    expect(missedAny / trials).toBeGreaterThan(0.1);
  });
});
