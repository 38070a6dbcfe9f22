import { describe, expect, it } from 'vitest';
import type { RunRecord } from '../../src/measure/records.js';
import { compilesInTimedPasses } from '../../src/pipeline/2-measure.js';
import { TEST_AT } from '../helpers/results.js';

const run = (backend: string, scenario: string, repetition: number, side: 'candidate' | 'base', flagged: boolean) =>
  ({
    kind: 'run',
    backend,
    side,
    scenario,
    repetition,
    sequence: 0,
    batch: 1,
    seqLen: 8,
    realTokens: 8,
    warmup: 1,
    iterations: 2,
    status: 'ok',
    latenciesMs: [1, 1],
    ...(flagged ? { compiledInTimedPasses: true } : {}),
    at: TEST_AT, // a record's stamp: nothing here reads a clock
  }) satisfies RunRecord;

describe('the cells whose timed passes held a compile', () => {
  it('one note per backend, its cells and repetitions counted from 1; a same-run pair once', () => {
    const notes = compilesInTimedPasses(
      [
        run('compiled', 'b', 2, 'candidate', true),
        run('compiled', 'b', 2, 'base', true),
        run('compiled', 'a', 0, 'candidate', true),
        run('compiled', 'b', 0, 'candidate', true),
        run('compiled', 'a', 1, 'candidate', false),
        run('eager', 'a', 0, 'candidate', false),
      ],
      1,
    );
    expect(notes).toHaveLength(1);
    expect(notes[0]).toMatch(
      /^compiled: a graph was compiled during the timed passes of b \(repetitions 1, 3\), a \(repetition 1\): the model was compiled again/,
    );
  });

  it('nothing flagged: no note', () => {
    expect(compilesInTimedPasses([run('compiled', 'a', 0, 'candidate', false)], 0)).toEqual([]);
  });
});
