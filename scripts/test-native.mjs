// Runs the Python tests of native/ in a project-local virtualenv (.venv), made on first use from
// native/requirements-ci.txt, so `npm test` runs every test on a fresh machine with only Node.js and Python.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';

const python = '.venv/bin/python';
const requirements = readFileSync('native/requirements-ci.txt', 'utf8');
const stamp = '.venv/requirements-ci.txt';
const run = (cmd, args) => execFileSync(cmd, args, { stdio: 'inherit' });

if (!existsSync(python)) run('python3', ['-m', 'venv', '.venv']);
if (!existsSync(stamp) || readFileSync(stamp, 'utf8') !== requirements) {
  run(python, [
    '-m',
    'pip',
    'install',
    '-q',
    '--disable-pip-version-check',
    '--no-cache-dir',
    '--no-deps',
    '-r',
    'native/requirements-ci.txt',
  ]);
  writeFileSync(stamp, requirements);
}
run(python, ['-m', 'pytest', '-q', 'native']);
