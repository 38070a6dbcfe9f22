// The time-bomb check: runs the date-sensitive tests with tr118's calendar moved three years ahead and three years
// back (TR118_NOW, src/clock.ts), so a test that passes only around the day it was written fails the day it is
// written. Lint keeps every calendar reading in src/ on that clock (eslint.config.js calendarRule; ruff TID251 in
// native/), so moving TR118_NOW moves every date the code under test sees, in the test process and in the CLI,
// Action and worker processes it starts.
//
// Date-sensitive: all of test/unit (seconds), and each test file elsewhere whose text touches the calendar (dates,
// ages, the clock, stamps, pruning, history); `--all` runs every tier that can run here instead (minutes).
//   node scripts/test-clock-shift.mjs [--all] [--years N]
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: { all: { type: 'boolean', default: false }, years: { type: 'string', default: '3' } },
});
const years = Number(values.years);
if (!(Number.isInteger(years) && years > 0)) {
  console.error(`--years: expected a whole number of years > 0; got ${JSON.stringify(values.years)}`);
  process.exit(2);
}

const CALENDAR =
  /TR118_NOW|\bclock(FromEnv|StartingAt)?\(|\bclock:|\bnow:|Date\.parse|new Date\(|startedAt|finishedAt|lastUsed|usedBefore|prune|history|\b20\d\d-[01]\d-[0-3]\d\b/;
const testFiles = (dir) =>
  readdirSync(dir, { recursive: true })
    .map(String)
    .filter((name) => name.endsWith('.test.ts'))
    .map((name) => path.join(dir, name));
const selected = values.all
  ? ['test/unit', 'test/integration', 'test/e2e', 'test/torch']
  : [
      'test/unit',
      ...['test/integration', 'test/e2e', 'test/torch'].flatMap((dir) =>
        testFiles(dir).filter((file) => CALENDAR.test(readFileSync(file, 'utf8'))),
      ),
    ];

const shifted = (deltaYears) => {
  const at = new Date();
  at.setUTCFullYear(at.getUTCFullYear() + deltaYears);
  return at.toISOString();
};
const started = performance.now();
const failures = [];
for (const delta of [years, -years]) {
  const now = shifted(delta);
  console.log(`== TR118_NOW=${now} (${delta > 0 ? '+' : ''}${delta} years): ${selected.join(' ')}`);
  const ran = spawnSync(process.execPath, ['node_modules/vitest/vitest.mjs', 'run', ...selected], {
    stdio: 'inherit',
    env: { ...process.env, TR118_NOW: now },
  });
  if (ran.status !== 0) failures.push(`TR118_NOW=${now}`);
}
const seconds = ((performance.now() - started) / 1000).toFixed(0);
if (failures.length > 0) {
  console.error(`test:clock: failed with ${failures.join(' and ')} (${seconds} s): a test depends on the date`);
  process.exit(1);
}
console.log(`test:clock: passed ${years} years ahead and back (${seconds} s)`);
