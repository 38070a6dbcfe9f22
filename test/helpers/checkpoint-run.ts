/** The pipeline with the real native/ worker and the fixture's checkpoint: the pytorch tests of both tiers. */
import path from 'node:path';
import { afterEach } from 'vitest';
import { loadConfigFile } from '../../src/config/load.js';
import { runPipeline } from '../../src/pipeline/index.js';
import { FIXTURE_HF, ROOT, tempDir, writeConfig } from './fixture.js';
import { PYTHON_ENV, VENV_PYTHON } from './python.js';

/** Two short scenarios, two repetitions, perplexity over 600 tokens against onnxruntime-cpu. */
export const SMALL =
  'scenarios:\n  single_short: { batch: 1, seq_len: 16 }\n  batch_short: { batch: 2, seq_len: 16 }\n' +
  'repetitions: 2\niterations: 3\nwarmup: 1\naccuracy: { max_tokens: 600, window: 128, stride: 64, reference: onnxruntime-cpu }\n';

/**
 * runPipeline on `body` with model.hf (the fixture's checkpoint unless `hf`), the .venv's Python, or the scripted
 * faulty worker of native/tests/peers (`faulty`: its mode).
 */
export async function runWithCheckpoint(
  body: string,
  options: { hf?: string; env?: NodeJS.ProcessEnv; faulty?: string } = {},
) {
  const dir = tempDir();
  const config = loadConfigFile(writeConfig(dir, body, options.hf ?? FIXTURE_HF));
  const nativeWorker = options.faulty
    ? {
        command: VENV_PYTHON,
        args: [path.join(ROOT, 'native/tests/peers/faulty.py'), options.faulty],
        env: { PYTHONPATH: path.join(ROOT, 'native') },
      }
    : undefined;
  return runPipeline({
    config,
    outDir: path.join(dir, 'out'),
    backendOptions: { env: options.env ?? PYTHON_ENV, ...(nativeWorker ? { nativeWorker } : {}) },
  });
}

/** Puts back, after each test of the calling file, the variables the tests set to break a compiler or a GPU. */
export function restoreEnvAfterEach(keys: readonly string[] = ['CXX', 'CC', 'CUDA_VISIBLE_DEVICES']): void {
  const saved = { ...process.env };
  afterEach(() => {
    for (const key of keys) {
      if (saved[key] === undefined) delete process.env[key];
      else process.env[key] = saved[key];
    }
  });
}
