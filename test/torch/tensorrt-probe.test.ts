/**
 * A tensorrt backend with the real Python worker on a machine without TensorRT (the torch tier: the TensorRT worker
 * imports torch before it looks for TensorRT). The rest of the TensorRT path runs against a stand-in worker in
 * test/integration/tensorrt-engine.test.ts.
 */
import path from 'node:path';
import { expect, it } from 'vitest';
import { loadConfigFile } from '../../src/config/load.js';
import { runPipeline, type PipelineResult } from '../../src/pipeline/index.js';
import { tempDir, writeConfig } from '../helpers/fixture.js';
import { describeWithTorch, PYTHON_ENV } from '../helpers/python.js';

const MATRIX =
  'scenarios:\n  small: { batch: 1, seq_len: 16 }\n  wide: { batch: 2, seq_len: 32 }\n' +
  'repetitions: 1\niterations: 2\nwarmup: 0\naccuracy: { max_tokens: 300, window: 128, stride: 64 }\n';

const backend = (results: PipelineResult['results'], name: string) =>
  results.backends.find((b) => b.spec.name === name);

describeWithTorch('TensorRT through the real Python worker', () => {
  it('with the real Python worker and no TensorRT here: unavailable, naming the install line', async () => {
    const dir = tempDir();
    const r = await runPipeline({
      config: loadConfigFile(writeConfig(dir, `backends: [onnxruntime-cpu, tensorrt-fp32]\n${MATRIX}`)),
      outDir: path.join(dir, 'out'),
      cacheDir: path.join(dir, 'cache'),
      backendOptions: { env: PYTHON_ENV, pythonSearchFrom: dir },
    });
    expect(backend(r.results, 'tensorrt-fp32')?.status).toBe('unavailable');
    expect(backend(r.results, 'tensorrt-fp32')?.reason).toMatch(
      /tensorrt is not installed for .*pip install tensorrt-cu13==[\d.]+ /,
    );
    expect(r.results.engines).toBeUndefined();
  });
});
