import { describe, expect, it } from 'vitest';
import { scenarioBatch, tokensNeeded } from '../../src/measure/batches.js';
import { openCellsInOrder, repetitionOrder } from '../../src/measure/runner.js';

const tokens = Array.from({ length: 1000 }, (_, i) => (i * 37) % 997);

describe('scenarioBatch', () => {
  it('cuts distinct rows of real tokens, with no padding', () => {
    const b = scenarioBatch(tokens, 4, 128);
    expect(b.inputIds).toHaveLength(4 * 128);
    const rows = [0, 1, 2, 3].map((r) => b.inputIds.slice(r * 128, (r + 1) * 128).join(','));
    expect(new Set(rows).size).toBe(4);
    expect(b.attentionMask.every((m) => m === 1)).toBe(true);
    expect(b.realTokens).toBe(512);
    // every row is a contiguous run of the source text
    const first = b.inputIds.slice(128, 256);
    const at = tokens.indexOf(first[0]!);
    expect(tokens.slice(at, at + 128)).toEqual(first);
  });

  it('a single row starts at the beginning of the text', () => {
    expect(scenarioBatch(tokens, 1, 8).inputIds).toEqual(tokens.slice(0, 8));
  });

  it('refuses a text too short for distinct rows', () => {
    expect(tokensNeeded(4, 10)).toBe(13);
    expect(() => scenarioBatch(tokens.slice(0, 12), 4, 10)).toThrow('needs at least 13 tokens; the token file has 12');
  });
});

describe('repetitionOrder', () => {
  const cells = ['a', 'b', 'c', 'd', 'e', 'f'];
  it('is a permutation, reproducible for a seed, and differs between repetitions', () => {
    const orders = [0, 1, 2, 3].map((r) => repetitionOrder(cells, 118, r));
    for (const o of orders) expect([...o].sort()).toEqual(cells);
    expect(repetitionOrder(cells, 118, 2)).toEqual(orders[2]);
    expect(new Set(orders.map((o) => o.join(''))).size).toBeGreaterThan(1);
  });
});

describe('openCellsInOrder (sequential stopping)', () => {
  const cells = ['a', 'b', 'c', 'd', 'e', 'f'];
  it('drops settled cells and keeps the seeded order of the rest, the same for the same seed', () => {
    const settled = new Set(['b', 'e']);
    for (const repetition of [0, 1, 5]) {
      const open = openCellsInOrder(cells, 118, repetition, (c) => !settled.has(c));
      expect(open).toEqual(repetitionOrder(cells, 118, repetition).filter((c) => !settled.has(c)));
      expect(openCellsInOrder(cells, 118, repetition, (c) => !settled.has(c))).toEqual(open);
      expect(open).toHaveLength(4);
    }
  });

  it('is the whole repetition order while every cell is open (a fixed run)', () => {
    expect(openCellsInOrder(cells, 7, 3, () => true)).toEqual(repetitionOrder(cells, 7, 3));
  });
});
