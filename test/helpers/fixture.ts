/** Paths and small configs for tests that run the real fixture model. */
import { cpSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const FIXTURE_MODEL = path.join(ROOT, 'fixtures/model/model.onnx');
export const FIXTURE_TOKENS = path.join(ROOT, 'fixtures/model/heldout.tokens.json');
/** The Hugging Face checkpoint model.onnx was exported from (the pytorch backends' model). */
export const FIXTURE_HF = path.join(ROOT, 'fixtures/model/hf');

export function tempDir(): string {
  return mkdtempSync(path.join(os.tmpdir(), 'tr118-test-'));
}

/**
 * A worker's own timeout per call (timeout_s) in test configs: generous, so that a loaded machine never turns a slow
 * call into a degraded run. A test about the timeout sets its own.
 */
export const TEST_TIMEOUT_S = 3600;

/**
 * Writes a small config next to nothing: absolute paths to the fixture, so it can live in a temp folder. `hf` adds
 * model.hf (the fixture's checkpoint, or another folder) for pytorch backends. timeout_s is TEST_TIMEOUT_S unless
 * `body` sets it.
 */
export function writeConfig(dir: string, body: string, hf?: string): string {
  const file = path.join(dir, 'tr118.yml');
  const checkpoint = hf === undefined ? '' : `  hf: ${hf}\n`;
  // Last, so that the lines of `body` keep the numbers that tests' expected config errors name.
  const timeout = /^timeout_s:/m.test(body) ? '' : `${body.endsWith('\n') ? '' : '\n'}timeout_s: ${TEST_TIMEOUT_S}\n`;
  writeFileSync(
    file,
    `model:\n  onnx: ${FIXTURE_MODEL}\n  context_tokens: 512\n${checkpoint}inputs:\n  tokens: ${FIXTURE_TOKENS}\n${body}${timeout}`,
  );
  return file;
}

/** What `actions/checkout` of this repository gives a runner: the committed files, no node_modules. */
export function freshCheckout(dir: string): string {
  const checkout = path.join(dir, 'action');
  mkdirSync(checkout);
  for (const file of ['package.json', 'package-lock.json', 'action.yml', 'dist'])
    cpSync(path.join(ROOT, file), path.join(checkout, file), { recursive: true });
  // The native/ Python worker is committed too: the Action's PyTorch, ONNX Runtime GPU and TensorRT backends run it.
  for (const folder of ['fixtures', 'native']) symlinkSync(path.join(ROOT, folder), path.join(checkout, folder));
  return checkout;
}

/**
 * Another model, as far as content goes: the fixture with its producer name upper-cased (same length, so the ONNX
 * file stays valid and runs the same), hence a different sha256.
 */
export function foreignModel(dir: string): string {
  const bytes = readFileSync(FIXTURE_MODEL);
  const at = bytes.indexOf('pytorch');
  if (at < 0) throw new Error('the fixture has no producer name "pytorch" to change');
  bytes.write('PYTORCH', at, 'latin1');
  const file = path.join(dir, 'foreign.onnx');
  writeFileSync(file, bytes);
  return file;
}

/** One small cell with perplexity on: what a precision variant's gate needs, for the given `backends:` value. */
export const variantMatrix = (backends: string): string =>
  `backends: ${backends}\nscenarios:\n  s: { batch: 1, seq_len: 64 }\nrepetitions: 1\niterations: 3\nwarmup: 1\n` +
  'accuracy: { max_tokens: 1200, window: 256, stride: 128 }\n';
