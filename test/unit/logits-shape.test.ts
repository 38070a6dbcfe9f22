import { describe, expect, it } from 'vitest';
import { logitsShapeProblem } from '../../src/backends/logits.js';

describe('logits shape: one row of logits per input position, [batch, seq, vocab]', () => {
  it.each([
    { dims: [2, 16, 4096], vocab: 4096 },
    { dims: [1, 8, 4096], vocab: undefined },
  ])('accepts $dims (vocab $vocab)', ({ dims, vocab }) => {
    expect(logitsShapeProblem('logits', dims, dims[0]!, dims[1]!, vocab)).toBeUndefined();
  });

  // Each shape a model could return instead, for a 2×16 input of a 4096-token vocabulary.
  it.each([
    { name: 'flattened [batch·seq, vocab]', dims: [32, 4096], vocab: 4096 },
    { name: 'last position only [batch, vocab]', dims: [2, 4096], vocab: 4096 },
    { name: 'a hidden state [batch, seq, hidden]', dims: [2, 16, 128], vocab: 4096 },
    { name: 'batch and seq swapped', dims: [16, 2, 4096], vocab: 4096 },
    { name: 'rank 4 (per-head)', dims: [2, 1, 16, 4096], vocab: 4096 },
    { name: 'an empty vocabulary', dims: [2, 16, 0], vocab: undefined },
    { name: 'a scalar', dims: [], vocab: undefined },
  ])('refuses $name', ({ dims, vocab }) => {
    const problem = logitsShapeProblem('logits', dims, 2, 16, vocab);
    expect(problem).toBe(
      `the logits output "logits" has shape [${dims.join(', ')}]; expected [batch, seq, vocab] = ` +
        `[2, 16, ${vocab ?? 'vocab'}] for a 2×16 input (model.logits_output names the output that holds them)`,
    );
  });
});
