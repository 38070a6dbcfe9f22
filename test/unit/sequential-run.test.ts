import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import type { RunRecord } from '../../src/measure/records.js';
import { pairedRepetitions, SequentialStopping } from '../../src/measure/sequential-run.js';
import { TEST_AT as AT } from '../helpers/results.js';

// Looks of the config's whole 40 passes: a budget of 10 repetitions, as these cases count (the default look of 20
// would make it 20: config.test.ts tests that schedule).
const config = (extra = '') =>
  parseConfig(
    `model: { onnx: m.onnx }\nbackends: [onnxruntime-cpu]\nscenarios:\n  a: { batch: 1, seq_len: 8 }\n  b: { batch: 1, seq_len: 8 }\n` +
      `repetitions: 10\nlook_iterations: 40\ncompare: { base_model: base.onnx }\n${extra}`,
    'tr118.yml',
    '/repo',
  );

/** Runs of one repetition of one cell: the candidate's passes `factor` × the base's, times exp(shift). */
function runs(scenario: string, repetition: number, factor: number, shift: number): RunRecord[] {
  const base = Array.from({ length: 10 }, (_, i) => 5 * (1 + 0.01 * Math.sin(i + repetition)));
  const common = { kind: 'run', backend: 'onnxruntime-cpu', scenario, repetition, sequence: 0, batch: 1 } as const;
  const rest = { seqLen: 8, realTokens: 8, warmup: 0, iterations: 10, status: 'ok', at: AT } as const;
  return [
    { ...common, ...rest, side: 'candidate', latenciesMs: base.map((ms) => ms * factor * Math.exp(shift)) },
    { ...common, ...rest, side: 'base', latenciesMs: base },
  ];
}
const cells = [
  { backend: 'onnxruntime-cpu', scenario: 'a' },
  { backend: 'onnxruntime-cpu', scenario: 'b' },
];

describe('SequentialStopping', () => {
  it('pairs repetitions where both sides ran ok, in repetition order', () => {
    const all = [...runs('a', 1, 1, 0), ...runs('a', 0, 2, 0), runs('a', 2, 1, 0)[0]!];
    const paired = pairedRepetitions(all, cells[0]!);
    expect(paired.base).toHaveLength(2);
    expect(paired.candidate[0]![0]).toBeCloseTo(2 * paired.base[0]![0]!, 12);
  });

  it('stops a settled cell and keeps the other open; at the budget end the open one is a budget stop', () => {
    let now = 0;
    const stopping = new SequentialStopping(config(), () => now, cells);
    const records: RunRecord[] = [];
    const shifts = [0.03, -0.03, 0.02];
    for (let r = 0; r < 3; r++) {
      expect(stopping.mayStartRepetition(r)).toBe(true);
      records.push(...runs('a', r, 1.12, [0.002, -0.002, 0.001][r]!), ...runs('b', r, 1.01, shifts[r]! / 5));
      now += 1;
      const stops = stopping.afterRepetition(r, records, AT);
      if (r < 2) expect(stops).toEqual([]);
      else expect(stops).toMatchObject([{ scenario: 'a', why: 'settled', decision: 'fail', repetitions: 3 }]);
    }
    expect(stopping.isOpen('onnxruntime-cpu', 'a')).toBe(false);
    expect(stopping.isOpen('onnxruntime-cpu', 'b')).toBe(true);
    expect(stopping.atBudgetEnd(AT)).toMatchObject([{ scenario: 'b', why: 'budget-repetitions', decision: null }]);
    expect(stopping.anyOpen()).toBe(false);
  });

  it('starts no repetition that would end past max_seconds, and says so at the budget end', () => {
    let now = 0;
    const stopping = new SequentialStopping(config('max_seconds: 25\n'), () => now, cells);
    now = 10; // one repetition took 10 s: a second ends at 20 s, a third would end at 30 s
    expect(stopping.mayStartRepetition(1)).toBe(true);
    now = 20;
    expect(stopping.mayStartRepetition(2)).toBe(false);
    expect(stopping.atBudgetEnd(AT).map((s) => s.why)).toEqual(['budget-seconds', 'budget-seconds']);
  });

  it('stops a cell the budget cannot settle at the third look, saying what the runner resolves', () => {
    let now = 0;
    const stopping = new SequentialStopping(config(), () => now, cells.slice(0, 1));
    const records: RunRecord[] = [];
    const shifts = [0.06, -0.05, 0.01];
    let stops: ReturnType<SequentialStopping['afterRepetition']> = [];
    for (let r = 0; r < 3; r++) {
      records.push(...runs('a', r, 1, shifts[r]!));
      now += 6;
      stops = stopping.afterRepetition(r, records, AT);
    }
    expect(stops).toHaveLength(1);
    expect(stops[0]).toMatchObject({ why: 'noise-floor', decision: null, repetitions: 3, budgetSeconds: 60 });
    expect(stops[0]!.reason).toMatch(/^this runner resolves ≈ \d+\.\d% in 60 s; thresholds are 3\.0%\/5\.0%/);
    expect(stops[0]!.achievableFraction).toBeGreaterThan(0.03);
  });

  it('does not stop a cell near a line when the runner resolves the warn threshold: it gets the budget', () => {
    let now = 0;
    const stopping = new SequentialStopping(config(), () => now, cells.slice(0, 1));
    const records: RunRecord[] = [];
    const shifts = [0.008, -0.008, 0.004];
    for (let r = 0; r < 3; r++) {
      records.push(...runs('a', r, 1.025, shifts[r]!));
      now += 6;
      expect(stopping.afterRepetition(r, records, AT)).toEqual([]);
    }
    expect(stopping.isOpen('onnxruntime-cpu', 'a')).toBe(true);
  });

  it('never cuts a cell that looks like a regression short, however noisy: it gets the budget', () => {
    let now = 0;
    const stopping = new SequentialStopping(config(), () => now, cells.slice(0, 1));
    const records: RunRecord[] = [];
    const shifts = [0.06, -0.05, 0.01];
    for (let r = 0; r < 3; r++) {
      records.push(...runs('a', r, 1.1, shifts[r]!));
      now += 6;
      expect(stopping.afterRepetition(r, records, AT)).toEqual([]);
    }
    expect(stopping.isOpen('onnxruntime-cpu', 'a')).toBe(true);
  });
});
