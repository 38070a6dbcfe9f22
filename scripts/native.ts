/**
 * Runs a committed native/ role (`python -m tr118_native.fixture ROLE …`) from TypeScript benchmarks and tests:
 * the project's .venv when there is one (as `npm test` makes it), else python3; the package from the source tree.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';

export function runFixtureRole(root: string, role: string, args: readonly string[], quiet = true): void {
  const venv = path.join(root, '.venv/bin/python');
  execFileSync(existsSync(venv) ? venv : 'python3', ['-m', 'tr118_native.fixture', role, ...args], {
    cwd: root,
    env: { ...process.env, PYTHONPATH: path.join(root, 'native') },
    stdio: quiet ? ['ignore', 'ignore', 'pipe'] : 'inherit',
  });
}
