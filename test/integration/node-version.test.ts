/**
 * The Node.js version check at start-up, with a real Node.js outside package.json's engines range when this machine
 * has one (TR118_OLD_NODE, else any `node` on PATH or /usr/bin/node that is outside it): the CLI and the Action's
 * entry stop at once, exit 2, one line naming both versions. The Node.js running the tests is in range, and runs.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ExitCode } from '../../src/errors.js';
import { nodeVersionProblem } from '../../src/node-version.js';
import { cliArgs } from '../helpers/cli.js';
import { ROOT, tempDir } from '../helpers/fixture.js';
import { runProcess } from '../helpers/run.js';

/** A Node.js binary outside the engines range, and its version; undefined when the machine has none. */
function oldNode(): { bin: string; version: string } | undefined {
  const candidates = [
    process.env.TR118_OLD_NODE,
    ...(process.env.PATH ?? '').split(path.delimiter).map((dir) => path.join(dir, 'node')),
    '/usr/bin/node',
    '/usr/local/bin/node',
  ].filter((bin): bin is string => bin !== undefined && bin !== '' && existsSync(bin));
  for (const bin of candidates) {
    const ran = spawnSync(bin, ['-p', 'process.versions.node'], { encoding: 'utf8' });
    const version = ran.stdout?.trim();
    if (ran.status === 0 && version && nodeVersionProblem(version) !== undefined) return { bin, version };
  }
  return undefined;
}

const OLD = oldNode();
if (!OLD) console.warn('node-version.test.ts: skipped the old-Node.js cases: no Node.js outside ^22.13 || >=24 here');

describe.skipIf(!OLD)(`on a Node.js outside the engines range (${OLD?.bin ?? 'none on this machine'})`, () => {
  it('tr118 --version: exit 2, one line on stderr naming the running version and the range, nothing on stdout', async () => {
    const r = await runProcess(OLD!.bin, cliArgs(['--version']), { cwd: ROOT });
    expect(r.status).toBe(ExitCode.usage);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(
      `tr118: this is Node.js ${OLD!.version}; tr118 needs Node.js ^22.13.0 || >=24: install one (nodejs.org, or nvm install 22)\n`,
    );
  });

  it('tr118 run: stops before it reads anything (no config error, no out folder)', async () => {
    const out = path.join(tempDir(), 'out');
    const r = await runProcess(OLD!.bin, cliArgs(['run', '--config', '/no/such/config.yml', '--out', out]), {
      cwd: ROOT,
    });
    expect(r.status).toBe(ExitCode.usage);
    expect(r.stderr).toMatch(/^tr118: this is Node\.js [\d.]+; tr118 needs Node\.js/);
    expect(r.stderr).not.toContain('config.yml');
    expect(existsSync(out)).toBe(false);
  });

  it("the Action's entry: one ::error:: annotation, exit 2, before it reads an input", async () => {
    const r = await runProcess(OLD!.bin, ['--import', 'tsx', path.join(ROOT, 'src/action/index.ts')], {
      cwd: ROOT,
      env: { PATH: process.env.PATH, INPUT_CONFIG: '/no/such/config.yml' },
    });
    expect(r.status).toBe(ExitCode.usage);
    expect(r.stdout).toBe(
      `::error::tr118: this is Node.js ${OLD!.version}; tr118 needs Node.js ^22.13.0 || >=24: install one (nodejs.org, or nvm install 22)\n`,
    );
  });
});

describe('on the Node.js running the tests (in the range)', () => {
  it('tr118 --version runs: exit 0, the version, no Node.js complaint', async () => {
    expect(nodeVersionProblem(process.versions.node)).toBeUndefined();
    const r = await runProcess(process.execPath, cliArgs(['--version']), { cwd: ROOT });
    expect(r.status).toBe(ExitCode.pass);
    expect(r.stdout).toMatch(/\d+\.\d+\.\d+/);
    expect(r.stderr).not.toContain('Node.js');
  });
});
