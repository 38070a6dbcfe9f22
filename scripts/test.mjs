// The test tiers of package.json, one command each, and `npm test`, which runs them all (docs/development.md):
//   unit         vitest test/unit: no Python at all (~45 s on the 2-core VM)
//   integration  the light Python set in .venv; pytest native -m "not torch" beside vitest test/integration
//   torch        the torch set in .venv (~4.4 GB the first time); pytest native -m torch beside vitest test/torch
//   e2e          the light set; vitest test/e2e: the built Action as a runner runs it, the README's install line
//   all          the torch set; all of pytest native beside one vitest run of everything (npm test)
// pytest runs beside vitest (vitest's workers leave a share of a 2-core machine idle while they wait on the processes
// they start); its output is printed when it ends. Each tier prints its wall time last. Extra arguments go to vitest.
//   node scripts/test.mjs unit|integration|torch|e2e|all [vitest args…]
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const TIERS = {
  unit: { python: undefined, pytest: undefined, vitest: ['test/unit'], noPython: true },
  integration: { python: 'light', pytest: ['-m', 'not torch'], vitest: ['test/integration'] },
  torch: { python: 'torch', pytest: ['-m', 'torch'], vitest: ['test/torch'] },
  e2e: { python: 'light', pytest: undefined, vitest: ['test/e2e'] },
  all: { python: 'torch', pytest: [], vitest: [] },
};
const [name, ...vitestArgs] = process.argv.slice(2);
const tier = TIERS[name];
if (!tier) {
  console.error(
    `usage: node scripts/test.mjs ${Object.keys(TIERS).join('|')} [vitest args…] (got ${JSON.stringify(name ?? '')})`,
  );
  process.exit(2);
}
const started = performance.now();
const scratch = mkdtempSync(path.join(os.tmpdir(), 'tr118-test-tier-'));
const env = { ...process.env };
const finish = (code, message) => {
  rmSync(scratch, { recursive: true, force: true });
  if (message) console.error(`test:${name}: ${message}`);
  else console.log(`test:${name} took ${((performance.now() - started) / 1000).toFixed(0)} s`);
  process.exit(code);
};

// The unit tier runs with no Python: `python`/`python3` on PATH are stand-ins that note each call, and a call fails
// the tier (a unit test that needs Python belongs to another tier; one that merely probes must be given a stand-in).
const pythonCalls = path.join(scratch, 'python-calls.log');
if (tier.noPython) {
  for (const stubName of ['python', 'python3']) {
    const stub = path.join(scratch, stubName);
    writeFileSync(stub, `#!/bin/sh\necho "$0 $*" >> '${pythonCalls}'\necho 'test:unit runs no Python' >&2\nexit 127\n`);
    chmodSync(stub, 0o755);
  }
  env.PATH = `${scratch}${path.delimiter}${env.PATH ?? ''}`;
  env.TR118_PYTHON = path.join(scratch, 'python3');
}

if (tier.python) {
  const ran = spawnSync(process.execPath, ['scripts/python-env.mjs', tier.python], { stdio: 'inherit', env });
  if (ran.status !== 0) finish(ran.status ?? 1, `scripts/python-env.mjs ${tier.python} failed`);
}
let pytest;
if (tier.pytest) {
  const log = path.join(scratch, 'pytest.log');
  const fd = openSync(log, 'w');
  const child = spawn('.venv/bin/python', ['-m', 'pytest', '-q', 'native', ...tier.pytest], {
    stdio: ['ignore', fd, fd],
    env,
  });
  pytest = {
    log,
    exited: new Promise((resolve) => {
      child.on('error', (error) => resolve(`could not start: ${error.message}`));
      child.on('exit', (code, signal) => resolve(code ?? signal));
    }),
  };
}
const vitest = spawnSync(process.execPath, ['node_modules/vitest/vitest.mjs', 'run', ...tier.vitest, ...vitestArgs], {
  stdio: 'inherit',
  env,
});
const failures = [];
if (vitest.status !== 0) failures.push(`vitest exited with ${vitest.status ?? vitest.signal}`);
if (pytest) {
  const code = await pytest.exited;
  console.log(`\n== pytest native ${tier.pytest.join(' ')} (ran beside vitest)`);
  process.stdout.write(readFileSync(pytest.log, 'utf8'));
  if (code !== 0) failures.push(`pytest exited with ${code}`);
}
const calls = existsSync(pythonCalls) ? readFileSync(pythonCalls, 'utf8').trim() : '';
if (calls !== '') failures.push(`a unit test ran Python, which this tier must not:\n${calls}`);
if (failures.length > 0) finish(1, failures.join('; '));
finish(0);
