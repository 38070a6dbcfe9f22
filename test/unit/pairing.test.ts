import { describe, expect, it } from 'vitest';
import {
  passOrder,
  reopenBefore,
  reopenBeforeSequential,
  sessionOpenedFirst,
  sessionOpenedFirstSequential,
  splitMeasurement,
} from '../../src/measure/pairing.js';
import type { Measurement, RunRecord } from '../../src/measure/records.js';
import { TEST_AT as AT } from '../helpers/results.js';

describe('same-run A/B pairing', () => {
  it("alternates which side's pass opens a repetition's A B A B pattern", () => {
    expect([0, 1, 2, 3, 4].map(passOrder)).toEqual([
      'candidate-first',
      'base-first',
      'candidate-first',
      'base-first',
      'candidate-first',
    ]);
  });

  it.each([
    { repetitions: 1, reopen: [] },
    { repetitions: 2, reopen: [1] },
    { repetitions: 3, reopen: [1] },
    { repetitions: 4, reopen: [2] },
    { repetitions: 5, reopen: [2] },
    { repetitions: 10, reopen: [5] },
  ])(
    '$repetitions repetitions: the base session is opened first from the halfway repetition on ($reopen)',
    ({ repetitions, reopen }) => {
      const reps = Array.from({ length: repetitions }, (_, r) => r);
      expect(reps.filter((r) => reopenBefore(r, repetitions) !== null)).toEqual(reopen);
      for (const r of reopen) expect(reopenBefore(r, repetitions)).toBe('base');
      const halfway = reopen[0] ?? repetitions;
      expect(reps.map((r) => sessionOpenedFirst(r, repetitions))).toEqual(
        reps.map((r) => (r < halfway ? 'candidate' : 'base')),
      );
    },
  );

  it('swaps exactly once, at the repetition the runner always swapped at (floor(repetitions / 2), never 0)', () => {
    for (let repetitions = 1; repetitions <= 60; repetitions++) {
      for (let r = 0; r < repetitions; r++) {
        const before = r > 0 && r === Math.floor(repetitions / 2);
        expect(reopenBefore(r, repetitions) !== null).toBe(before);
      }
    }
  });

  it('sequential stopping opens C B B C by repetition: every 4 repetitions hold each (session, pass order) once', () => {
    const reps = Array.from({ length: 12 }, (_, r) => r);
    expect(reps.map(sessionOpenedFirstSequential).slice(0, 8)).toEqual([
      ...['candidate', 'base', 'base', 'candidate'],
      ...['candidate', 'base', 'base', 'candidate'],
    ]);
    const combos = reps.slice(0, 4).map((r) => `${sessionOpenedFirstSequential(r)}/${passOrder(r)}`);
    expect(new Set(combos).size).toBe(4);
    // Wherever a run stops, the two sessions differ by at most one repetition.
    for (let stop = 1; stop <= 12; stop++) {
      const base = reps.slice(0, stop).filter((r) => sessionOpenedFirstSequential(r) === 'base').length;
      expect(Math.abs(stop - 2 * base)).toBeLessThanOrEqual(1);
    }
  });

  it('sequential stopping reopens exactly where the side opened first changes', () => {
    const reps = Array.from({ length: 9 }, (_, r) => r);
    expect(reps.filter((r) => reopenBeforeSequential(r) !== null)).toEqual([1, 3, 5, 7]);
    expect(reopenBeforeSequential(1)).toBe('base');
    expect(reopenBeforeSequential(3)).toBe('candidate');
  });

  const run = (side: 'candidate' | 'base', latency: number): RunRecord => ({
    ...{ kind: 'run', backend: 'cpu', side, scenario: 's', repetition: 0, sequence: 0, batch: 1, seqLen: 8 },
    ...{ realTokens: 8, warmup: 0, iterations: 1, status: 'ok', latenciesMs: [latency], at: AT },
  });
  const measurement: Measurement = {
    backends: [
      { kind: 'backend', backend: 'cpu', side: 'candidate', status: 'ok', at: AT },
      { kind: 'backend', backend: 'cpu', side: 'base', status: 'ok', at: AT },
    ],
    runs: [run('candidate', 1), run('base', 2), run('candidate', 1.1), run('base', 2.1)],
    accuracy: [
      { kind: 'accuracy', backend: 'cpu', side: 'candidate', status: 'ok', nllSum: 1, scoredTokens: 1, at: AT },
      { kind: 'accuracy', backend: 'cpu', side: 'base', status: 'ok', nllSum: 2, scoredTokens: 1, at: AT },
    ],
    parity: [{ kind: 'parity', backend: 'cpu-1t', side: 'candidate', reference: 'cpu', status: 'ok', at: AT }],
  };

  it("splits a run into its two sides by the records' side, names untouched; parity is the candidate's", () => {
    const candidate = splitMeasurement(measurement, 'candidate');
    const base = splitMeasurement(measurement, 'base');
    expect(candidate.runs.map((r) => r.latenciesMs[0])).toEqual([1, 1.1]);
    expect(base.runs.map((r) => r.latenciesMs[0])).toEqual([2, 2.1]);
    expect([...candidate.backends, ...base.backends, ...base.runs].every((r) => r.backend === 'cpu')).toBe(true);
    expect(candidate.accuracy.map((r) => r.nllSum)).toEqual([1]);
    expect(base.accuracy.map((r) => r.nllSum)).toEqual([2]);
    expect(candidate.parity).toHaveLength(1);
    expect(base.parity).toEqual([]);
  });

  it("without a base model every record is the candidate's", () => {
    const plain: Measurement = { ...measurement, backends: [measurement.backends[0]!], runs: [run('candidate', 1)] };
    expect(splitMeasurement(plain, 'candidate').runs).toEqual(plain.runs);
    expect(splitMeasurement(plain, 'base').runs).toEqual([]);
  });
});
