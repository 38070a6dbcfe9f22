import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { logitsParity } from '../../src/accuracy/parity.js';
import { byteTokens, hfTokens } from '../../src/accuracy/tokenize.js';
import { ROOT } from '../helpers/fixture.js';

describe('logitsParity', () => {
  const reference = Float32Array.from([1, 2, 3, /* row 2 */ 0.5, 0.25, 0]);

  it('is exact for identical logits', () => {
    expect(logitsParity(reference, reference.slice(), 3)).toEqual({
      maxAbsDelta: 0,
      meanAbsDelta: 0,
      top1Agreement: 1,
      positions: 2,
    });
  });

  it('reports the largest and mean absolute difference and the arg-max agreement', () => {
    const candidate = Float32Array.from([1, 2, 3.5, /* arg-max moves from 0 to 1 */ 0.5, 0.75, 0]);
    const p = logitsParity(reference, candidate, 3);
    expect(p.maxAbsDelta).toBe(0.5);
    expect(p.meanAbsDelta).toBeCloseTo(1 / 6, 12);
    expect(p.top1Agreement).toBe(0.5);
  });

  it('never lets NaN look like parity', () => {
    const candidate = Float32Array.from([1, Number.NaN, 3, 0.5, 0.25, 0]);
    expect(logitsParity(reference, candidate, 3).maxAbsDelta).toBeNaN();
  });

  it('refuses logits of different shapes', () => {
    expect(() => logitsParity(reference, new Float32Array(3), 3)).toThrow(/different shapes/);
  });
});

describe('tokenizers', () => {
  it('tokenizer.json in TypeScript reproduces the ids made by Python tokenizers (the whole held-out text)', () => {
    const json: unknown = JSON.parse(readFileSync(path.join(ROOT, 'fixtures/model/tokenizer.json'), 'utf8'));
    const text = readFileSync(path.join(ROOT, 'fixtures/model/heldout.txt'), 'utf8');
    const expected = JSON.parse(
      readFileSync(path.join(ROOT, 'fixtures/model/heldout.tokens.json'), 'utf8'),
    ) as number[];
    expect(hfTokens(json, text)).toEqual(expected);
  });

  it('round-trips a known sentence to known ids', () => {
    const json: unknown = JSON.parse(readFileSync(path.join(ROOT, 'fixtures/model/tokenizer.json'), 'utf8'));
    const ids = hfTokens(json, 'Madam Speaker, Madam Vice President');
    const vocab = (json as { model: { vocab: Record<string, number> } }).model.vocab;
    const byId = new Map(Object.entries(vocab).map(([piece, id]) => [id, piece]));
    expect(
      ids
        .map((id) => byId.get(id))
        .join('')
        .replace(/Ġ/g, ' '),
    ).toBe('Madam Speaker, Madam Vice President');
  });

  it('bytes are UTF-8 bytes', () => {
    expect(byteTokens('hé!')).toEqual([104, 195, 169, 33]);
  });

  it('a JSON that is not a tokenizer is refused', () => {
    expect(() => hfTokens(42, 'x')).toThrow('not a JSON object');
  });
});
