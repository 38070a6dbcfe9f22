/** The native/ scripts that make test models (committed, so the models need not be). */
import path from 'node:path';
import { runFixtureRole } from '../../scripts/native.js';
import { ROOT } from './fixture.js';

/** Writes a copy of the fixture model with seeded multiplicative weight noise (tr118_native.fixture perturb). */
export function perturbedFixture(out: string, eps: number, seed = 0): string {
  const model = path.join(ROOT, 'fixtures/model/model.onnx');
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
