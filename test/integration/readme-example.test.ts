/**
 * The README's example output of `tr118 run` is an excerpt of what the CLI prints: every line of it (figures aside)
 * appears in the output of a real run of the default matrix, shortened to 2 repetitions here to keep the test short.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { DEFAULT_CONFIG } from '../../src/cli/main.js';
import { ROOT, tempDir } from '../helpers/fixture.js';
import { runProcess } from '../helpers/run.js';
import { cliArgs } from '../helpers/cli.js';

const README = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
const EXAMPLE = /```text\n(\$ (?:npx tr118|node dist\/cli\.js) run[^\n]*)\n([\s\S]*?)```/.exec(README);

/** Figures become `#`, and an absolute path up to the output folder becomes `…/`. */
const shape = (line: string) =>
  line.replace(/(^|\s)\/\S*\/(?=[\w.-]+\/report\.md)/g, '$1…/').replace(/\d+(\.\d+)?/g, '#');

describe("the README's example output", () => {
  it('is what `tr118 run` prints for the default matrix, excerpted', async () => {
    expect(EXAMPLE, 'README.md: a ```text block starting with "$ node dist/cli.js run"').not.toBeNull();
    const [, command = '', body = ''] = EXAMPLE ?? [];
    expect(command).toMatch(/^\$ (npx tr118|node dist\/cli\.js) run$/);
    const shown = body.split('\n').filter((line) => line.trim() !== '' && line.trim() !== '…');

    const defaults = parseYaml(readFileSync(path.join(ROOT, DEFAULT_CONFIG), 'utf8')) as {
      backends: unknown[];
      scenarios: Record<string, unknown>;
      repetitions: number;
    };
    const runs = defaults.backends.length * Object.keys(defaults.scenarios).length * defaults.repetitions;
    for (const line of shown.filter((l) => l.startsWith('[')))
      expect(line, 'run counter of the default matrix').toMatch(new RegExp(`^\\[\\d+/${runs}\\] `));

    // The default matrix itself, with fewer and shorter runs; absolute paths, since it lives in a temp folder.
    const dir = tempDir();
    const config = parseYaml(readFileSync(path.join(ROOT, DEFAULT_CONFIG), 'utf8')) as Record<string, unknown>;
    const fixtures = path.join(ROOT, path.dirname(DEFAULT_CONFIG), '..', 'model');
    const small = {
      ...config,
      model: { ...(config.model as object), onnx: path.join(fixtures, 'model.onnx') },
      inputs: { tokens: path.join(fixtures, 'heldout.tokens.json') },
      repetitions: 2,
      warmup: 1,
      iterations: 2,
      accuracy: { enabled: true, max_tokens: 300, window: 128, stride: 64 },
    };
    writeFileSync(path.join(dir, 'tr118.yml'), stringifyYaml(small));
    // From the repository, into the temp folder's tr118-results, the default folder's name.
    const args = ['run', '--config', path.join(dir, 'tr118.yml'), '--out', path.join(dir, 'tr118-results')];
    const r = await runProcess(process.execPath, cliArgs(args), { cwd: ROOT });
    expect(r.status, r.stderr).toBe(0);
    const printed = new Set(`${r.stderr}\n${r.stdout}`.split('\n').map(shape));
    expect(shown.filter((line) => !printed.has(shape(line)))).toEqual([]);
  });
});
