// The test tiers of package.json, one command each, and `npm test`, which runs them all (README "Development"):
//   unit         vitest test/unit: no Python at all (~30 s on a 2-core machine)
//   integration  the light Python set in .venv, then pytest native -m "not torch" and vitest test/integration
//   torch        the torch set in .venv (~4.4 GB the first time), then pytest native -m torch and vitest test/torch
//   e2e          vitest test/e2e: the built Action as a runner runs it, the README's install line
//   all          the torch set, all of pytest native, then one vitest run of everything (npm test)
// Each tier prints its wall time last. Extra arguments go to vitest (a file filter, say).
//   node scripts/test.mjs unit|integration|torch|e2e|all [vitest args…]
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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
const env = { ...process.env };
// The unit tier runs with no Python: `python`/`python3` on PATH are stand-ins that note each call, and a call fails
// the tier (a unit test that needs Python belongs to another tier; one that merely probes must be given a stand-in).
let noPython;
if (tier.noPython) {
  noPython = mkdtempSync(path.join(os.tmpdir(), 'tr118-no-python-'));
  const log = path.join(noPython, 'calls.log');
  for (const name of ['python', 'python3']) {
    const stub = path.join(noPython, name);
    writeFileSync(stub, `#!/bin/sh\necho "$0 $*" >> '${log}'\necho 'test:unit runs no Python' >&2\nexit 127\n`);
    chmodSync(stub, 0o755);
  }
  env.PATH = `${noPython}${path.delimiter}${env.PATH ?? ''}`;
  env.TR118_PYTHON = path.join(noPython, 'python3');
}
const step = (command, args) => {
  const ran = spawnSync(command, args, { stdio: 'inherit', env });
  if (ran.error) throw ran.error;
  if (ran.status !== 0) {
    console.error(`test:${name}: ${command} ${args.join(' ')} exited with ${ran.status ?? ran.signal}`);
    process.exit(ran.status ?? 1);
  }
};
if (tier.python) step(process.execPath, ['scripts/python-env.mjs', tier.python]);
if (tier.pytest) step('.venv/bin/python', ['-m', 'pytest', '-q', 'native', ...tier.pytest]);
step(process.execPath, ['node_modules/vitest/vitest.mjs', 'run', ...tier.vitest, ...vitestArgs]);
if (noPython) {
  const log = path.join(noPython, 'calls.log');
  const calls = existsSync(log) ? readFileSync(log, 'utf8').trim() : '';
  rmSync(noPython, { recursive: true, force: true });
  if (calls !== '') {
    console.error(`test:${name}: a unit test ran Python, which this tier must not:\n${calls}`);
    process.exit(1);
  }
}
console.log(`test:${name} took ${((performance.now() - started) / 1000).toFixed(0)} s`);
