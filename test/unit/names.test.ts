/**
 * One concept, one name (STYLE.md rule 4), read from the source files: a type name means one thing, a file is not
 * named like a folder of another concept, and the words that meant several things now mean one.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/fixture.js';

const SRC = path.join(ROOT, 'src');
const entries = (readdirSync(SRC, { recursive: true }) as string[]).map((entry) => entry.split(path.sep).join('/'));
const FILES = entries.filter((entry) => entry.endsWith('.ts')).map((file) => `src/${file}`);
const FOLDERS = entries.filter((entry) => statSync(path.join(SRC, entry)).isDirectory());
const text = (file: string) => readFileSync(path.join(ROOT, file), 'utf8');

/** Top-level declarations of a kind in every file of src/: [name, file]. */
function declared(kinds: RegExp): [string, string][] {
  const pattern = new RegExp(
    `^(?:export\\s+)?(?:declare\\s+)?(?:abstract\\s+)?(?:async\\s+)?${kinds.source}\\s+([A-Za-z_$][\\w$]*)`,
    'gm',
  );
  return FILES.flatMap((file) => [...text(file).matchAll(pattern)].map((m): [string, string] => [m[1] ?? '', file]));
}
const TYPES = declared(/(?:type|interface|class)/);
const VALUES = declared(/(?:function|const|let)/);

describe('one concept, one name', () => {
  it('every type, interface and class name is declared in one module of src/ only', () => {
    const files = new Map<string, Set<string>>();
    for (const [name, file] of TYPES) files.set(name, (files.get(name) ?? new Set()).add(file));
    const twice = [...files]
      .filter(([, where]) => where.size > 1)
      .map(([name, where]) => `${name}: ${[...where].join(', ')}`);
    expect(TYPES.length).toBeGreaterThan(100);
    expect(twice).toEqual([]);
  });

  it('no file of src/ is named like a folder of src/ (the gate of accuracy is not src/accuracy/)', () => {
    const folderNames = new Set(FOLDERS.map((folder) => path.posix.basename(folder)));
    expect(folderNames).toContain('accuracy');
    const clashes = FILES.filter((file) => folderNames.has(path.posix.basename(file, '.ts')));
    expect(clashes).toEqual([]);
  });

  const WORDS: { word: string; means: string; found: () => string[]; expected: string[] }[] = [
    {
      word: 'inputs',
      means: "the Action's inputs (action.yml); the rows a scenario feeds a model are batches",
      found: () => FILES.filter((file) => /(^|\/)inputs\.ts$/.test(file)),
      expected: ['src/github/inputs.ts'],
    },
    {
      word: 'Outcome',
      means: 'what a backend call returned (and a cell, summed over its runs); a GitHub or cache call is an Attempt',
      found: () =>
        TYPES.filter(([name]) => name.endsWith('Outcome'))
          .map(([name, file]) => `${file}: ${name}`)
          .sort(),
      expected: [
        'src/backends/one-shot.ts: OneShotOutcome',
        'src/backends/types.ts: LogitsOutcome',
        'src/backends/types.ts: OpenOutcome',
        'src/backends/types.ts: PerplexityOutcome',
        'src/backends/types.ts: RunOutcome',
        'src/gate/verdict.ts: CellOutcome',
      ],
    },
    {
      word: 'cell',
      means: 'a backend × scenario of the matrix, never a helper (the markdown escaper is escapeUntrusted)',
      found: () => [...TYPES, ...VALUES].filter(([name]) => name === 'cell').map(([, file]) => file),
      expected: [],
    },
  ];

  it.each(WORDS.map((entry) => [entry.word, entry] as const))('"%s" has one meaning', (_word, entry) => {
    expect(entry.found(), entry.means).toEqual(entry.expected);
  });
});
