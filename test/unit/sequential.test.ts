import { describe, expect, it } from 'vitest';
import { LATENCY_DEFAULTS, type LatencyThresholds } from '../../src/config/schema.js';
import {
  achievableFraction,
  optimisticSd,
  couldSettleWithin,
  MIN_REPETITIONS,
  noiseFloorLine,
  repetitionLogRatios,
  sequentialLook,
} from '../../src/measure/sequential.js';

const thresholds: LatencyThresholds = {
  failFraction: LATENCY_DEFAULTS.fail_fraction,
  warnFraction: LATENCY_DEFAULTS.warn_fraction,
  minEffectMs: LATENCY_DEFAULTS.min_effect_ms,
  confidence: LATENCY_DEFAULTS.confidence,
  betweenRunsFraction: LATENCY_DEFAULTS.between_runs_fraction,
};
const options = { thresholds, maxRepetitions: 10 };

/** Paired repetitions: base passes around `baseMs`, candidate = base × factor × exp(this repetition's shift). */
function pairs(baseMs: number, factor: number, shifts: readonly number[]) {
  const base = shifts.map((_, r) => Array.from({ length: 20 }, (_, i) => baseMs * (1 + 0.01 * Math.sin(i + 3 * r))));
  const candidate = base.map((rep, r) => rep.map((ms) => ms * factor * Math.exp(shifts[r]!)));
  return { base, candidate };
}

describe('repetitionLogRatios', () => {
  it('is the median paired log-ratio of each repetition, skipping repetitions not paired pass for pass', () => {
    const logs = repetitionLogRatios(
      [[1, 1, 1], [2, 2], []],
      [
        [2, 2, 1],
        [2, 2, 2],
        [1, 1],
      ],
    );
    expect(logs).toEqual([Math.log(2)]);
  });
});

describe('sequentialLook', () => {
  it(`does not look before ${MIN_REPETITIONS} repetitions`, () => {
    const { base, candidate } = pairs(5, 2, [0, 0]);
    expect(sequentialLook(base, candidate, options)).toBeNull();
  });

  it('settles an A/A pass once the whole interval is below the warn line', () => {
    const { base, candidate } = pairs(5, 1, [0.004, -0.003, 0.001]);
    const look = sequentialLook(base, candidate, options)!;
    expect(look.settled).toBe('pass');
    expect(look.ratioCi[1]).toBeLessThan(1 + thresholds.warnFraction);
  });

  it('leaves a noisy A/A open: the interval still reaches past the warn line', () => {
    const { base, candidate } = pairs(5, 1, [0.03, -0.03, 0.02]);
    const look = sequentialLook(base, candidate, options)!;
    expect(look.settled).toBeNull();
    expect(look.reason).toMatch(/^open: /);
  });

  it('settles a fail once the whole interval is beyond the fail line', () => {
    const { base, candidate } = pairs(5, 1.12, [0.004, -0.003, 0.001]);
    const look = sequentialLook(base, candidate, options)!;
    expect(look.settled).toBe('fail');
    expect(look.ratioCi[0]).toBeGreaterThan(1 + thresholds.failFraction);
  });

  it('does not fail a slowdown beyond the fail line that is below the absolute floor: a pass', () => {
    // 12% of 0.1 ms is 0.012 ms, under the 0.02 ms floor.
    const { base, candidate } = pairs(0.1, 1.12, [0.004, -0.003, 0.001]);
    expect(sequentialLook(base, candidate, options)!.settled).toBe('pass');
  });

  it('settles a warn when the interval lies between the warn and fail lines, and not when it reaches past the fail line', () => {
    const tight = pairs(5, 1.04, [0.001, -0.001, 0.0005, -0.0005, 0]);
    expect(sequentialLook(tight.base, tight.candidate, options)!.settled).toBe('warn');
    const wide = pairs(5, 1.04, [0.006, -0.006, 0.004]);
    expect(sequentialLook(wide.base, wide.candidate, options)!.settled).toBeNull();
  });

  it('calls a clear speed-up an improvement', () => {
    const { base, candidate } = pairs(5, 0.85, [0.004, -0.003, 0.001]);
    expect(sequentialLook(base, candidate, options)!.settled).toBe('improvement');
  });

  it('keeps one disturbed repetition out of the robust spread the noise floor uses', () => {
    const { base, candidate } = pairs(5, 1, [0.002, -0.002, -0.22]);
    const look = sequentialLook(base, candidate, options)!;
    expect(look.sdLogRatio).toBeGreaterThan(0.1);
    expect(look.robustSdLogRatio).toBeLessThan(0.01);
  });
});

describe('the noise floor', () => {
  it('is above the warn line for a noisy runner and below it for a quiet one', () => {
    expect(achievableFraction(0.05, 10, options)).toBeGreaterThan(thresholds.warnFraction);
    expect(achievableFraction(0.005, 10, options)).toBeLessThan(thresholds.warnFraction);
  });

  it('stops an A/A cell the budget cannot settle, but not a clear regression it can still fail', () => {
    const noisy = pairs(5, 1, [0.03, -0.03, 0.02]);
    const aa = sequentialLook(noisy.base, noisy.candidate, options)!;
    expect(couldSettleWithin(aa, 0.04, thresholds)).toBe(false);
    expect(couldSettleWithin(aa, 0.01, thresholds)).toBe(true);
    const slower = pairs(5, 1.11, [0.03, -0.03, 0.02]);
    const slow = sequentialLook(slower.base, slower.candidate, options)!;
    expect(couldSettleWithin(slow, 0.04, thresholds)).toBe(true);
    expect(couldSettleWithin(slow, 0.08, thresholds)).toBe(false);
  });

  it('decides on the lower 95% bound of a three-repetition spread: sqrt(2 / 5.99) of it', () => {
    expect(optimisticSd(0.01, 3)).toBeCloseTo(0.01 * Math.sqrt(2 / 5.99), 6);
    // A spread whose point estimate says the budget cannot resolve the warn line (4.7% at 10 repetitions), but whose
    // favourable bound says it can (2.7%): no stop, the cell gets the budget.
    expect(achievableFraction(0.066, 10, options)).toBeGreaterThan(thresholds.warnFraction);
    expect(achievableFraction(optimisticSd(0.066, 3), 10, options)).toBeLessThan(thresholds.warnFraction);
    // Twice that spread is beyond the budget even at its favourable bound.
    expect(achievableFraction(optimisticSd(0.132, 3), 10, options)).toBeGreaterThan(thresholds.warnFraction);
  });

  it('narrows with more repetitions in the budget', () => {
    expect(achievableFraction(0.02, 40, { thresholds, maxRepetitions: 40 })).toBeLessThan(
      achievableFraction(0.02, 10, options),
    );
  });

  it('says what the runner resolves in how long, against the thresholds', () => {
    expect(noiseFloorLine(0.062, 59.6, thresholds)).toBe(
      'this runner resolves ≈ 6.2% in 60 s; thresholds are 3.0%/5.0%',
    );
  });
});
