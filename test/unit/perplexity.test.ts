import { describe, expect, it } from 'vitest';
import { perplexityFromNll, planWindows, rowNll, windowNll } from '../../src/accuracy/perplexity.js';

/** Which window scores each target, and how much context it has there. */
function coverage(n: number, window: number, stride: number) {
  const scoredBy = new Array<number>(n).fill(0);
  const context: number[] = new Array<number>(n).fill(-1);
  for (const w of planWindows(n, window, stride)) {
    expect(w.end - w.start).toBeLessThanOrEqual(window);
    for (let t = w.scoreFrom; t < w.end; t++) {
      scoredBy[t]!++;
      context[t] = t - w.start;
    }
  }
  return { scoredBy, context };
}

describe('planWindows', () => {
  it.each([
    { n: 100, window: 10, stride: 10 },
    { n: 100, window: 10, stride: 1 },
    { n: 100, window: 10, stride: 4 },
    { n: 7, window: 10, stride: 5 }, // text shorter than one window
    { n: 23, window: 10, stride: 10 }, // a last partial window
    { n: 2, window: 2, stride: 1 },
  ])(
    'scores every token after the first exactly once (n=$n, window=$window, stride=$stride)',
    ({ n, window, stride }) => {
      const { scoredBy } = coverage(n, window, stride);
      expect(scoredBy[0]).toBe(0);
      expect(scoredBy.slice(1).every((c) => c === 1)).toBe(true);
    },
  );

  it('stride = window overlaps windows by one token, so no target is left without context', () => {
    expect(planWindows(25, 10, 10)).toEqual([
      { start: 0, end: 10, scoreFrom: 1 },
      { start: 9, end: 19, scoreFrom: 10 },
      { start: 18, end: 25, scoreFrom: 19 },
    ]);
  });

  it('stride 1 gives every target after the first window its full window of context', () => {
    const { context } = coverage(50, 8, 1);
    for (let t = 8; t < 50; t++) expect(context[t]).toBe(7);
    for (let t = 1; t < 8; t++) expect(context[t]).toBe(t);
  });

  it('overlapping windows score only the new targets', () => {
    expect(planWindows(20, 10, 5)).toEqual([
      { start: 0, end: 10, scoreFrom: 1 },
      { start: 5, end: 15, scoreFrom: 10 },
      { start: 10, end: 20, scoreFrom: 15 },
    ]);
  });

  it('refuses a single-token text and bad strides with a clear reason', () => {
    expect(() => planWindows(1, 8, 4)).toThrow('perplexity needs at least 2 tokens, got 1');
    expect(() => planWindows(10, 8, 9)).toThrow(/stride must be an integer in 1..window/);
    expect(() => planWindows(10, 1, 1)).toThrow(/window must be an integer ≥ 2/);
  });
});

describe('NLL', () => {
  /** Independent float64 log-softmax, written naively on purpose. */
  function naive(row: number[], target: number): number {
    const z = row.reduce((a, v) => a + Math.exp(v), 0);
    return -(row[target]! - Math.log(z));
  }

  it('matches a naive float64 log-softmax', () => {
    const row = [0.5, -1.25, 2, 0.125, -3];
    const logits = Float32Array.from(row);
    for (let t = 0; t < row.length; t++)
      expect(rowNll(logits, 0, row.length, t)).toBeCloseTo(
        naive(
          row.map((v) => Math.fround(v)),
          t,
        ),
        12,
      );
  });

  it('does not overflow with large logits (log-sum-exp is shifted by the row maximum)', () => {
    const logits = Float32Array.from([1000, 999, 998]);
    const expected = Math.log(1 + Math.exp(-1) + Math.exp(-2));
    expect(rowNll(logits, 0, 3, 0)).toBeCloseTo(expected, 10);
  });

  it('scores a window against the next token and turns the mean into perplexity', () => {
    // vocab 2, tokens [0, 1, 1]; rows for positions 0 and 1 predict tokens 1 and 2.
    const logits = Float32Array.from([0, 0, Math.log(3), 0]);
    const { nllSum, scored } = windowNll(logits, 2, [0, 1, 1], { start: 0, end: 3, scoreFrom: 1 });
    expect(scored).toBe(2);
    const expected = Math.log(2) + Math.log(4); // p=1/2 then p=1/4
    expect(nllSum).toBeCloseTo(expected, 6);
    expect(perplexityFromNll(nllSum, scored)).toBeCloseTo(Math.sqrt(8), 5);
  });
});
