/**
 * The Action's source entry point (src/action/main.ts run()) under @github/local-action, GitHub's local runner for
 * JavaScript actions: it reads action.yml, stubs the toolkit (@actions/core) with its own implementation, and
 * reports outputs, annotations and the job summary the way a runner would.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, tempDir } from '../helpers/fixture.js';
import { runProcess } from '../helpers/run.js';

const BIN = path.join(ROOT, 'node_modules/@github/local-action/bin/local-action.js');

/** The .env file holds the inputs (local-action lets it override the environment). */
async function localAction(envFile: string) {
  const dir = tempDir();
  const summary = path.join(dir, 'summary.md');
  writeFileSync(summary, '');
  const r = await runProcess(process.execPath, [BIN, 'run', '.', 'src/action/main.ts', envFile], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, GITHUB_STEP_SUMMARY: summary },
  });
  return { output: r.stdout + r.stderr, summary: readFileSync(summary, 'utf8') };
}

describe('the Action under @github/local-action', () => {
  it('a passing run: outputs, the job summary, no error annotation', async () => {
    const { output, summary } = await localAction('test/local-action/gate.env');
    expect(output).toContain('Running Action');
    expect(output).toMatch(/│ 'verdict'\s+│ 'pass'\s+│/);
    expect(output).toMatch(/│ 'regressions'\s+│ '0'\s+│/);
    expect(output).not.toContain('::error::');
    expect(summary).toContain('## Overall backend summary');
  });

  it('a failing run: the error annotation and the failed step', async () => {
    const { output } = await localAction('test/local-action/fail.env');
    expect(output).toMatch(/│ 'verdict'\s+│ 'fail'\s+│/);
    expect(output).toMatch(/::error::tr118: verdict fail/);
  });
});
