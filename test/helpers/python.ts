/** The native/ scripts that make test models (committed, so the models need not be). */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe } from 'vitest';
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

/**
 * Writes a copy of a checkpoint folder without the tensors whose names start with one of `drop`, plus a small tensor
 * named by each of `extra` (tr118_native.fixture damage; needs the torch set).
 */
export function damagedCheckpoint(
  source: string,
  out: string,
  drop: readonly string[],
  extra: readonly string[] = [],
): string {
  runFixtureRole(ROOT, 'damage', [
    source,
    out,
    ...drop.flatMap((d) => ['--drop', d]),
    ...extra.flatMap((e) => ['--extra', e]),
  ]);
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

/**
 * The project's .venv: the light set (native/requirements-light.txt) for test:integration, the torch set on top for
 * test:torch and npm test (scripts/python-env.mjs).
 */
export const VENV_PYTHON = path.join(ROOT, '.venv/bin/python');

/** What the torch set adds that tests in test/torch/ need. */
const TORCH_SET = ['torch', 'transformers', 'safetensors'];

let torchSetAnswer: { readonly missing: string | undefined } | undefined;

/** Why .venv cannot run the tests of test/torch/, or undefined when it can. Asked once per test file. */
function torchSetMissing(): string | undefined {
  torchSetAnswer ??= { missing: askTorchSet() };
  return torchSetAnswer.missing;
}

function askTorchSet(): string | undefined {
  const check = `import importlib.util, sys; print(','.join(n for n in sys.argv[1:] if importlib.util.find_spec(n) is None))`;
  const ran = spawnSync(VENV_PYTHON, ['-c', check, ...TORCH_SET], { encoding: 'utf8' });
  if (ran.error || ran.status !== 0) return `${VENV_PYTHON} does not run (${ran.error?.message ?? ran.stderr.trim()})`;
  const missing = ran.stdout.trim();
  return missing === '' ? undefined : `${missing.split(',').join(', ')} not installed for ${VENV_PYTHON}`;
}

/**
 * `describe` for tests that need the torch set, or `describe.skip` with the reason printed (and in the suite's
 * name) where .venv lacks it: `npm run test:integration` installs only the light set.
 */
export function describeWithTorch(name: string, body: () => void): void {
  const missing = torchSetMissing();
  if (missing === undefined) {
    describe(name, body);
    return;
  }
  const reason = `needs the torch set: ${missing} (npm run test:torch installs native/requirements-torch.txt)`;
  console.warn(`skipped: ${name}: ${reason}`);
  describe.skip(`${name} [skipped: ${reason}]`, body);
}

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
