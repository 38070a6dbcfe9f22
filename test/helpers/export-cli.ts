/** `tr118 run` on a config naming only model.hf, as its own process: the export tests of both tiers. */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'vitest';
import { ExitCode } from '../../src/errors.js';
import { FIXTURE_HF, FIXTURE_TOKENS, ROOT } from './fixture.js';
import { runProcess, type Ran as ProcessResult } from './run.js';
import { cliArgs } from './cli.js';

/** One backend, one small scenario, few iterations, a short perplexity: seconds beyond the export. */
const MATRIX =
  'backends: [onnxruntime-cpu]\nscenarios:\n  s: { batch: 1, seq_len: 16 }\nrepetitions: 1\niterations: 2\nwarmup: 0\n' +
  'accuracy: { max_tokens: 300, window: 128, stride: 64 }\n';

/** A config whose model is model.hf alone, on line 2 (errors locate it at 2:7). */
export function hfConfig(dir: string, hf: string, modelLines = ''): string {
  const file = path.join(dir, 'tr118.yml');
  writeFileSync(
    file,
    `model:\n  hf: ${hf}\n  context_tokens: 512\n${modelLines}inputs:\n  tokens: ${FIXTURE_TOKENS}\n${MATRIX}`,
  );
  return file;
}

/** The CLI from source in its own process (as cli.test.ts runs it); killed as hung after HANG_GUARD_MS. */
export function tr118(args: string[], env: NodeJS.ProcessEnv): Promise<ProcessResult> {
  return runProcess(process.execPath, cliArgs(args), {
    cwd: ROOT,
    env,
  });
}

/** A checkpoint folder: the fixture's weights under a config.json of `config` (with the fixture's vocabulary size). */
export function checkpointWith(dir: string, name: string, config: Record<string, unknown>): string {
  const folder = path.join(dir, name);
  mkdirSync(folder);
  writeFileSync(path.join(folder, 'config.json'), JSON.stringify({ vocab_size: 4096, ...config }));
  writeFileSync(path.join(folder, 'model.safetensors'), readFileSync(path.join(FIXTURE_HF, 'model.safetensors')));
  return folder;
}

/** A bad model.hf source: exit 2 and one line that names the key (config line 2) and holds each of `expected`. */
export function expectOneUsageLine(r: ProcessResult, config: string, expected: readonly string[]): void {
  expect(r.signal, r.stderr).toBeNull();
  expect(r.status, r.stderr).toBe(ExitCode.usage);
  const lines = r.stderr.trim().split('\n');
  expect(lines, r.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^tr118: /);
  expect(lines[0]).toContain(`${config}:2:7: model.hf: `);
  for (const text of expected) expect(lines[0]).toContain(text);
  expect(r.stderr).not.toContain('    at ');
  expect(r.stdout).toBe('');
}
