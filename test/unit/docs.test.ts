/**
 * docs/ cannot go stale: the measured-figure tables and the CLI's help are what `npm run docs` makes from
 * bench/results/*.json and the CLI, the config reference names every key of the config schema and no other, and
 * the CLI reference every flag of the CLI and no other (scripts/docs.ts).
 */
import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  CLI_REFERENCE,
  CONFIG_REFERENCE,
  cliReferenceProblems,
  configReferenceProblems,
  REGIONS,
  renderAll,
  replaceRegion,
  schemaKeyPaths,
  staleFiles,
} from '../../scripts/docs.js';
import { configSchema } from '../../src/config/schema.js';
import { ROOT, tempDir } from '../helpers/fixture.js';

const read = (file: string) => readFileSync(path.join(ROOT, file), 'utf8');

/** A copy of what the generated regions are made from: docs/ and bench/results/. */
function copyOfSources(): string {
  const root = path.join(tempDir(), 'repo');
  mkdirSync(root, { recursive: true });
  cpSync(path.join(ROOT, 'docs'), path.join(root, 'docs'), { recursive: true });
  cpSync(path.join(ROOT, 'bench/results'), path.join(root, 'bench/results'), { recursive: true });
  return root;
}

describe('generated regions (npm run docs)', () => {
  it.each(Object.entries(REGIONS))('%s in %s is what npm run docs makes (run npm run docs)', (_name, { file }) => {
    expect(read(file), `${file} differs from its sources: run npm run docs`).toBe(renderAll().get(file));
  });

  it('leave the tree unchanged: no file is stale', () => {
    expect(staleFiles()).toEqual([]);
  });

  it('a copy with the same sources is not stale; a figure changed in a bench file makes its file stale', () => {
    const root = copyOfSources();
    expect(staleFiles(root)).toEqual([]);
    const bench = path.join(root, 'bench/results/nll-throughput-intel-xeon-2cpu.json');
    const record = JSON.parse(readFileSync(bench, 'utf8')) as { figures: { logitsPerSecond: number } };
    record.figures.logitsPerSecond *= 2;
    writeFileSync(bench, JSON.stringify(record));
    expect(staleFiles(root)).toEqual(['docs/development.md']);
  });

  it('a gate-quality file changed makes docs/verdict.md stale', () => {
    const root = copyOfSources();
    const file = path.join(root, 'bench/results/local-2core-swap-aa.json');
    const result = JSON.parse(readFileSync(file, 'utf8')) as { rates: { fail: number } };
    result.rates.fail = 0.5;
    writeFileSync(file, JSON.stringify(result));
    expect(staleFiles(root)).toEqual(['docs/verdict.md']);
  });

  it('a region whose markers were deleted is an error naming the file and the marker', () => {
    expect(() => replaceRegion('docs/x.md', 'no markers here', 'bench-figures', 'table')).toThrow(
      'docs/x.md: expected the markers "<!-- generated:bench-figures (npm run docs) -->"',
    );
  });

  it('replaces only what is between the markers', () => {
    const text = 'before\n<!-- generated:a (npm run docs) -->\nold\n<!-- /generated:a -->\nafter\n';
    expect(replaceRegion('f.md', text, 'a', 'new')).toBe(
      'before\n<!-- generated:a (npm run docs) -->\nnew\n<!-- /generated:a -->\nafter\n',
    );
  });
});

describe(`the config reference (${CONFIG_REFERENCE}) against src/config/schema.ts`, () => {
  it('documents every key of the schema and no key the schema lacks', () => {
    expect(configReferenceProblems(read(CONFIG_REFERENCE))).toEqual([]);
  });

  it('reaches keys inside lists, records and unions (backends[], scenarios.*)', () => {
    const keys = schemaKeyPaths(configSchema);
    expect(keys).toEqual(
      expect.arrayContaining([
        'model.onnx',
        'backends[].engine',
        'scenarios.*.seq_len',
        'thresholds.latency.confidence',
      ]),
    );
  });

  it('a key added to the schema and not documented is named, with the file to edit', () => {
    const schema = configSchema.extend({ pacing: z.strictObject({ budget_s: z.number() }).optional() });
    expect(configReferenceProblems(read(CONFIG_REFERENCE), schema)).toEqual([
      'config key "pacing" (src/config/schema.ts) is not documented: add it, with a comment saying what it does, to a ```yaml block of docs/configuration.md',
      'config key "pacing.budget_s" (src/config/schema.ts) is not documented: add it, with a comment saying what it does, to a ```yaml block of docs/configuration.md',
    ]);
  });

  it('a documented key that the schema lacks is named, with the file to edit', () => {
    const markdown = `${read(CONFIG_REFERENCE)}\n\`\`\`yaml\nthresholds:\n  latency:\n    fail_percent: 5\n\`\`\`\n`;
    expect(configReferenceProblems(markdown)).toEqual([
      'docs/configuration.md documents config key "thresholds.latency.fail_percent", which src/config/schema.ts does not have: remove or rename it in docs/configuration.md',
    ]);
  });
});

describe(`the CLI reference (${CLI_REFERENCE}) against tr118 --help`, () => {
  it('names every flag the CLI has and no other', () => {
    expect(cliReferenceProblems(read(CLI_REFERENCE))).toEqual([]);
  });

  it('a flag the CLI does not have is named', () => {
    expect(cliReferenceProblems(`${read(CLI_REFERENCE)}\nuse \`--turbo\`\n`)).toEqual([
      'docs/cli.md names --turbo, which no tr118 command has (tr118 … --help): fix docs/cli.md',
    ]);
  });

  it('a flag of the CLI that the text does not describe is named (the generated help does not count)', () => {
    const flags = new Set(['--config', '--brand-new']);
    const markdown =
      '`--config`\n<!-- generated:cli-help (npm run docs) -->\n--brand-new\n<!-- /generated:cli-help -->\n';
    expect(cliReferenceProblems(markdown, flags)).toEqual([
      'tr118 has --brand-new, which docs/cli.md does not describe: add it to docs/cli.md',
    ]);
  });
});
