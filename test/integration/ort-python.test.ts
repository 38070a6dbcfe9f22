import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfigFile } from '../../src/config/load.js';
import { runPipeline } from '../../src/pipeline/index.js';
import { tempDir, writeConfig } from '../helpers/fixture.js';
import { PYTHON_ENV } from '../helpers/python.js';

describe('ONNX Runtime in the Python worker, through the whole pipeline (CPU here; the GPU route on the H200)', () => {
  it('runs beside the Node worker on the same model: both ok, placement reported, the same perplexity', async () => {
    const dir = tempDir();
    const config = loadConfigFile(
      writeConfig(
        dir,
        'backends:\n  - onnxruntime-cpu\n  - { name: ort-python-cpu, engine: onnxruntime, worker: python }\n' +
          'scenarios:\n  s: { batch: 2, seq_len: 16 }\nrepetitions: 2\niterations: 3\nwarmup: 1\n' +
          'accuracy: { max_tokens: 300, window: 64, stride: 32 }\n',
      ),
    );
    const { results } = await runPipeline({
      config,
      outDir: path.join(dir, 'out'),
      backendOptions: { env: PYTHON_ENV, pythonSearchFrom: dir },
    });
    const python = results.backends.find((b) => b.spec.name === 'ort-python-cpu');
    expect(results.backends.map((b) => b.status)).toEqual(['ok', 'ok']);
    expect(python?.session?.runtime).toBe('onnxruntime-python');
    expect(python?.session?.placement?.nodes.every((n) => n.provider === 'CPUExecutionProvider')).toBe(true);
    expect(results.cells.every((c) => c.stats !== null && c.stats.latencyMs.median > 0)).toBe(true);
    const ppl = Object.fromEntries(results.accuracy!.rows.map((r) => [r.backend, r.perplexity!]));
    expect(ppl['ort-python-cpu']).toBeCloseTo(ppl['onnxruntime-cpu']!, 4);
    expect(Math.abs(ppl['ort-python-cpu']! / ppl['onnxruntime-cpu']! - 1)).toBeLessThan(1e-6);
    // parity against the reference (the Node worker): the same runtime's CPU kernels, so near-identical logits
    const row = results.accuracy!.rows.find((r) => r.backend === 'ort-python-cpu');
    expect(row?.maxAbsLogitDelta ?? 1).toBeLessThan(1e-3);
    expect(row?.top1Agreement).toBe(1);
  });
});
