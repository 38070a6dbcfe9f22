import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { BYTECODE_ENV, pythonWorkerLaunch } from '../../src/backends/native-worker.js';
import { PYTHON_BYTECODE_DIR } from '../../src/cache/store.js';
import type { CreateContext } from '../../src/engines/family.js';
import { pytorch, type TorchSpec } from '../../src/engines/pytorch/index.js';
import { workerEnvOf, type PipelineOptions } from '../../src/pipeline/options.js';

// Python workers' byte code folder (tr118_native/worker/bytecode.py decides whether to use it): the pipeline names
// one in the artifact cache, and every Python worker's launch carries it.
const options = (env: NodeJS.ProcessEnv, cacheDir?: string) =>
  ({ backendOptions: { env }, ...(cacheDir !== undefined ? { cacheDir } : {}) }) as unknown as PipelineOptions;

describe('the Python workers’ byte code folder', () => {
  it('is a dot-folder of the artifact cache, --cache-dir’s or the default one', () => {
    expect(workerEnvOf(options({}, '/runner/cache'))[BYTECODE_ENV]).toBe(
      path.join('/runner/cache', PYTHON_BYTECODE_DIR),
    );
    expect(workerEnvOf(options({ TR118_CACHE_DIR: '/c' }))[BYTECODE_ENV]).toBe(path.join('/c', '.python-bytecode'));
  });

  it('is the user’s where TR118_PYTHON_BYTECODE is set, off included', () => {
    expect(workerEnvOf(options({ [BYTECODE_ENV]: 'off' }, '/runner/cache'))[BYTECODE_ENV]).toBe('off');
    expect(workerEnvOf(options({ [BYTECODE_ENV]: '/mine' }, '/runner/cache'))[BYTECODE_ENV]).toBe('/mine');
  });

  it('follows the artifact cache’s own default (the home folder’s cache)', () => {
    expect(workerEnvOf(options({ HOME: '/home/runner' }))[BYTECODE_ENV]).toBe(
      path.join('/home/runner', '.cache', 'tr118', 'artifacts', '.python-bytecode'),
    );
  });

  it('reaches the worker through its launch, and only when named', () => {
    expect(pythonWorkerLaunch('/py', { [BYTECODE_ENV]: '/c/.python-bytecode' }).env?.[BYTECODE_ENV]).toBe(
      '/c/.python-bytecode',
    );
    expect(pythonWorkerLaunch('/py', {}).env).not.toHaveProperty(BYTECODE_ENV);
    const ctx = {
      env: workerEnvOf(options({ TR118_PYTHON: process.execPath }, '/runner/cache')),
      pythonSearchFrom: '/',
    } as unknown as CreateContext;
    const launch = pytorch.workerLaunch!({ device: 'cuda', deviceId: 0, compile: 'off' } as unknown as TorchSpec, ctx);
    expect(launch?.env?.[BYTECODE_ENV]).toBe(path.join('/runner/cache', PYTHON_BYTECODE_DIR));
  });
});
