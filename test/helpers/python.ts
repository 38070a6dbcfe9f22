/** Runs the committed native/ scripts (Python) from tests: the project's .venv when there is one, else python3. */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { ROOT } from './fixture.js';

export function python(): string {
  const venv = path.join(ROOT, '.venv/bin/python');
  return existsSync(venv) ? venv : 'python3';
}

/** Writes a copy of the fixture model with seeded multiplicative weight noise (tr118_native.fixture perturb). */
export function perturbedFixture(out: string, eps: number, seed = 0): string {
  execFileSync(
    python(),
    [
      '-m',
      'tr118_native.fixture',
      'perturb',
      '--model',
      path.join(ROOT, 'fixtures/model/model.onnx'),
      '--out',
      out,
      '--eps',
      String(eps),
      '--seed',
      String(seed),
    ],
    { cwd: ROOT, env: { ...process.env, PYTHONPATH: path.join(ROOT, 'native') }, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  return out;
}

/** Writes a copy of the fixture with `extra` identity MatMuls before the logits: same logits, slower. */
export function slowedFixture(out: string, extra: number): string {
  execFileSync(python(), ['-m', 'tr118_native.fixture', 'slowdown', '--out', out, '--extra', String(extra)], {
    cwd: ROOT,
    env: { ...process.env, PYTHONPATH: path.join(ROOT, 'native') },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  return out;
}
