/**
 * The parts of a split matrix must belong together (issue 21): parts of two models, of two commits, on other tokens,
 * of another matrix, or measuring one cell twice are refused, naming what differs and how to allow it; parts that
 * belong together merge. Each rule both ways.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { PART_IDENTITY, partIdentities, readParts, type PartIdentity } from '../../src/results/merge.js';
import { ROOT, tempDir } from '../helpers/fixture.js';
import { writePart } from '../helpers/results.js';

/** The fields of a results.json these cases change. */
interface Editable {
  git: { commit: string; dirty: boolean } | null;
  model: { name: string; sha256: string };
  accuracy: { evaluatedTokensSha256?: string };
  method: { repetitions: number };
  cells: { batch: number }[];
}
type Edit = (r: Editable) => void;
const set = (edit: Edit): Edit => edit;

/** Two parts, tr118-cpu measuring onnxruntime-cpu and tr118-gpu measuring `gpuBackend`, the second edited. */
function twoParts(edit: Edit = () => undefined, gpuBackend = 'ort-other'): string[] {
  const dir = tempDir();
  return [
    ['tr118-cpu', 'onnxruntime-cpu', () => undefined],
    ['tr118-gpu', gpuBackend, edit],
  ].map(([name, backend, e]) => {
    mkdirSync(path.join(dir, name as string));
    return writePart(path.join(dir, name as string, 'results.json'), backend as string, (r) =>
      (e as Edit)(r as unknown as Editable),
    );
  });
}

const CASES: readonly { name: string; identity: PartIdentity; edit: Edit; backend?: string; message: RegExp }[] = [
  {
    name: 'another commit',
    identity: 'commit',
    edit: set((r) => (r.git = { commit: 'b'.repeat(40), dirty: false })),
    message: /commit differs \(tr118-cpu: unknown \(no git\) vs tr118-gpu: bbbbbbbbbbbb\)/,
  },
  {
    name: 'another model',
    identity: 'model',
    edit: set((r) => (r.model = { ...r.model, name: 'other', sha256: 'e'.repeat(64) })),
    message: /model differs \(tr118-cpu: m \(sha256 ffffffffffff…\) vs tr118-gpu: other \(sha256 eeeeeeeeeeee…\)\)/,
  },
  {
    name: 'other evaluation tokens',
    identity: 'tokens',
    edit: set((r) => (r.accuracy.evaluatedTokensSha256 = 'c'.repeat(64))),
    message:
      /tokens differs \(tr118-cpu: 101 tokens \(sha256 unrecorded…\) vs tr118-gpu: 101 tokens \(sha256 cccccccccccc…\)\)/,
  },
  {
    name: 'other repetitions',
    identity: 'matrix',
    edit: set((r) => (r.method.repetitions = 7)),
    message: /matrix differs \(tr118-cpu: 1 repetitions × 3 \+ 3 passes vs tr118-gpu: 7 repetitions/,
  },
  {
    name: 'a scenario of another shape',
    identity: 'matrix',
    edit: set((r) => (r.cells[0]!.batch = 4)),
    message: /scenario s has two shapes \(tr118-cpu: 1×8 vs tr118-gpu: 4×8\)/,
  },
  {
    name: 'one cell measured twice',
    identity: 'cells',
    edit: () => undefined,
    backend: 'onnxruntime-cpu',
    message: /cell onnxruntime-cpu × s is measured by more than one part \(tr118-cpu, tr118-gpu\)/,
  },
];

describe('readParts: the parts of one split matrix', () => {
  it('parts of one run (one commit, model, tokens and matrix, each cell once) merge', () => {
    expect(readParts(twoParts()).map((p) => p.name)).toEqual(['tr118-cpu', 'tr118-gpu']);
  });

  it.each(CASES)(
    'refuses parts with $name, naming the parts and how to allow it',
    ({ identity, edit, backend, message }) => {
      const files = twoParts(edit, backend);
      let error: unknown;
      try {
        readParts(files, { allowedSaidAs: 'give --allow-part-differences' });
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(UsageError);
      const said = (error as Error).message;
      expect(said).toMatch(/^the parts do not belong to one split matrix: /);
      expect(said).toMatch(message);
      expect(said).toMatch(new RegExp(`give --allow-part-differences ${identity}$`));
      // ... and merges when that difference is allowed, only that one.
      expect(readParts(files, { allowed: [identity], allowedSaidAs: '' })).toHaveLength(2);
      const others = (['commit', 'model', 'tokens', 'matrix', 'cells'] as const).filter((i) => i !== identity);
      expect(() => readParts(files, { allowed: others, allowedSaidAs: '' })).toThrow(UsageError);
    },
  );

  it('reads the allowance from a comma-separated list, refusing a name it does not know', () => {
    expect(partIdentities('commit, model', 'x')).toEqual(['commit', 'model']);
    expect(partIdentities(undefined, 'x')).toEqual([]);
    expect(() => partIdentities('commit,backend', '--allow-part-differences')).toThrow(
      '--allow-part-differences: expected a list of commit, model, tokens, matrix, cells; got "backend"',
    );
  });

  it("action.yml's allow-part-differences names the very list the input accepts (it once said backends for cells)", () => {
    const yml = readFileSync(path.join(ROOT, 'action.yml'), 'utf8');
    const description = /allow-part-differences:\n\s+description: (.*)/.exec(yml)?.[1] ?? '';
    expect(description).toContain(`(${PART_IDENTITY.join(', ')})`);
  });
});
