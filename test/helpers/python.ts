/** The native/ scripts that make test models (committed, so the models need not be). */
import path from 'node:path';
import { runFixtureRole } from '../../scripts/native.js';
import { ROOT } from './fixture.js';

/**
 * Writes a copy of the fixture model (or of a checkpoint folder, e.g. fixtures/model/hf) with seeded multiplicative
 * weight noise (tr118_native.fixture perturb).
 */
export function perturbedFixture(
  out: string,
  eps: number,
  seed = 0,
  model = path.join(ROOT, 'fixtures/model/model.onnx'),
): string {
  runFixtureRole(ROOT, 'perturb', ['--model', model, '--out', out, '--eps', String(eps), '--seed', String(seed)]);
  return out;
}

/** Writes a copy of the fixture with `extra` identity MatMuls before the logits: same logits, slower. */
export function slowedFixture(out: string, extra: number): string {
  runFixtureRole(ROOT, 'slowdown', ['--out', out, '--extra', String(extra)]);
  return out;
}

/**
 * Writes a copy of the fixture with other graph outputs and the same logits (tr118_native.fixture outputs):
 * extra-first (a hidden state listed before logits), renamed (logits → `name`), flat (logits as [batch·seq, vocab]).
 */
export function rewiredFixture(out: string, variant: 'extra-first' | 'renamed' | 'flat', name = 'scores'): string {
  runFixtureRole(ROOT, 'outputs', ['--out', out, '--variant', variant, '--name', name]);
  return out;
}

/** The project's .venv (npm test makes it from native/requirements-ci.txt, torch included). */
export const VENV_PYTHON = path.join(ROOT, '.venv/bin/python');

/** The environment that makes the pytorch backends' worker run in the project's .venv, wherever the config is. */
export const PYTHON_ENV: NodeJS.ProcessEnv = { ...process.env, TR118_PYTHON: VENV_PYTHON };

/**
 * Writes a small LM-shaped ONNX (vocabulary 4,096) with an int64 MatMul, a compute node ONNX Runtime's CUDA provider
 * has no kernel for (tr118_native.fixture cpu-only-op): on a GPU its placement shows a MatMul on the CPU.
 */
export function cpuOnlyOpModel(out: string): string {
  runFixtureRole(ROOT, 'cpu-only-op', ['--out', out]);
  return out;
}
