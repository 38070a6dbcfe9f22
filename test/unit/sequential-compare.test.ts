import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { LATENCY_DEFAULTS } from '../../src/config/schema.js';
import {
  compareResults,
  decideLatency,
  withSequentialStop,
  type ComparableResults,
  type CompareOptions,
  type SequentialStopFields,
} from '../../src/gate/compare.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const recorded = JSON.parse(
  readFileSync(path.join(here, '../../fixtures/recorded/same-run-aa-89267a1.json'), 'utf8'),
) as {
  seed: number;
  base: ComparableResults;
  candidate: ComparableResults;
  comparisonCells: unknown[];
};
const latency = {
  failFraction: LATENCY_DEFAULTS.fail_fraction,
  warnFraction: LATENCY_DEFAULTS.warn_fraction,
  minEffectMs: LATENCY_DEFAULTS.min_effect_ms,
  confidence: LATENCY_DEFAULTS.confidence,
  betweenRunsFraction: LATENCY_DEFAULTS.between_runs_fraction,
};
const options: CompareOptions = {
  mode: 'same-run',
  latency,
  perplexityDeltaFraction: { fp32: 0.001, fp16: 0.005, bf16: 0.01, int8: 0.02 },
  maxDegradedRateIncrease: 0,
  allowEnvironmentChange: false,
  missingCell: 'warn',
  seed: recorded.seed,
};

describe('stopping: fixed', () => {
  it('decides a recorded measurement byte for byte as tr118 did before sequential stopping existed', () => {
    const comparison = compareResults(recorded.base, recorded.candidate, 'model.onnx', options);
    expect(JSON.stringify(comparison.cells)).toBe(JSON.stringify(recorded.comparisonCells));
  });
});

describe('withSequentialStop', () => {
  const reps = (factor: number) => Array.from({ length: 4 }, (_, r) => [10, 10.1, 9.9].map((ms) => ms * factor + r));
  const fixed = decideLatency(reps(1), reps(1.04), { paired: true, thresholds: latency, seed: 1 });
  const stop = (over: Partial<SequentialStopFields>): SequentialStopFields => ({
    method: 'asymptotic confidence sequence',
    repetitions: 4,
    why: 'settled',
    decision: 'pass',
    ratio: 1.001,
    ratioCi: [0.99, 1.01],
    achievableFraction: null,
    budgetSeconds: null,
    reason: 'change 0.1% (…): every change in it below the warn threshold 3.0%',
    ...over,
  });

  it('a settled cell takes the confidence sequence decision, and says where it stopped', () => {
    const settled = withSequentialStop(fixed, stop({ decision: 'fail' }));
    expect(settled.decision).toBe('fail');
    expect(settled.reason).toMatch(/^settled after 4 repetitions: /);
    expect(settled.stopping).toEqual({ method: 'asymptotic confidence sequence', repetitions: 4, why: 'settled' });
    expect(withSequentialStop(fixed, stop({})).decision).toBe('pass');
  });

  it('a noise-floor stop is inconclusive with the line that says what the runner resolves', () => {
    const reason = 'this runner resolves ≈ 6.0% in 60 s; thresholds are 3.0%/5.0%: stopped after 3 repetitions';
    const noisy = withSequentialStop(fixed, stop({ why: 'noise-floor', decision: null, reason }));
    expect(noisy.decision).toBe('inconclusive');
    expect(noisy.reason).toBe(reason);
  });

  it('a cell open at the budget end keeps the fixed-sample decision', () => {
    const open = withSequentialStop(fixed, stop({ why: 'budget-repetitions', decision: null }));
    expect(open.decision).toBe(fixed.decision);
    expect(open.ratioCi).toEqual(fixed.ratioCi);
    expect(open.reason).toContain('open at the end of the budget, 4 repetitions');
  });
});
