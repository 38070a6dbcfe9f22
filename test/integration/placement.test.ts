import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfigFile } from '../../src/config/load.js';
import { runPipeline } from '../../src/pipeline/index.js';
import { readResultsFile } from '../../src/results/read.js';
import { ROOT, tempDir, writeConfig } from '../helpers/fixture.js';

const CPU = 'CPUExecutionProvider';
const CUDA = 'CUDAExecutionProvider';
const SHAPE_NODES = [
  { provider: CUDA, opType: 'MatMul', count: 40 },
  { provider: CPU, opType: 'Unsqueeze', count: 60 },
  { provider: CPU, opType: 'Gather', count: 41 },
];

/** onnxruntime-cuda (Python worker) through the whole pipeline, its worker replaced by one that reports a placement. */
async function runWithPlacement(placement: unknown) {
  const dir = tempDir();
  const config = loadConfigFile(
    writeConfig(
      dir,
      'backends: [onnxruntime-cuda]\nscenarios:\n  s: { batch: 1, seq_len: 8 }\nrepetitions: 1\niterations: 2\nwarmup: 0\n' +
        'accuracy: { enabled: false }\n',
    ),
  );
  const out = path.join(dir, 'out');
  const result = await runPipeline({
    config,
    outDir: out,
    backendOptions: {
      nativeWorker: {
        command: process.execPath,
        args: [path.join(ROOT, 'test/helpers/placement-worker.mjs')],
        env: { PLACEMENT_JSON: JSON.stringify(placement) },
      },
    },
  });
  return { ...result, out };
}

describe('ONNX Runtime on a GPU: judged by where the nodes ran', () => {
  it('passes: shape nodes on the CPU, compute on CUDA: ok, measured, and the report lists the CPU nodes', async () => {
    const { results, out } = await runWithPlacement({ nodes: SHAPE_NODES });
    const backend = results.backends.find((b) => b.spec.name === 'onnxruntime-cuda');
    expect(backend?.status).toBe('ok');
    expect(backend?.spec).toMatchObject({ engine: 'onnxruntime', worker: 'python' });
    expect(results.cells[0]?.stats?.latencyMs.median).toBe(1);
    const report = readFileSync(path.join(out, 'report.md'), 'utf8');
    expect(report).toContain(
      '**onnxruntime-cuda**: CPUExecutionProvider 101 (Unsqueeze 60, Gather 41), CUDAExecutionProvider 40',
    );
  });

  it('fails: a MatMul on the CPU makes the backend degraded, never a CPU figure under the GPU name', async () => {
    const { results, out } = await runWithPlacement({
      nodes: [...SHAPE_NODES, { provider: CPU, opType: 'MatMul', count: 1 }],
    });
    const backend = results.backends.find((b) => b.spec.name === 'onnxruntime-cuda');
    expect(backend?.status).toBe('degraded');
    expect(backend?.reason).toMatch(/compute nodes ran on the CPU under cuda: MatMul ×1/);
    // the placement that made it degraded is kept in the results
    expect(backend?.session?.placement?.nodes).toContainEqual({ provider: CPU, opType: 'MatMul', count: 1 });
    expect(results.cells[0]?.stats ?? null).toBeNull();
    expect(results.verdict.decision).not.toBe('pass');
    expect(readResultsFile(path.join(out, 'results.json')).backends[0]?.status).toBe('degraded');
  });

  it('fails: a worker that reports no placement for a GPU provider is degraded', async () => {
    const { results } = await runWithPlacement(null);
    expect(results.backends[0]?.status).toBe('degraded');
    expect(results.backends[0]?.reason).toMatch(/reported no node placement/);
  });
});
