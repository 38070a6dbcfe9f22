/**
 * The pytorch backends through the runner, with the real native/ worker (torch on the CPU, from the project's .venv):
 * the accuracy gate against ONNX Runtime, a worker that breaks, a Python without torch, a compile that fails, and a
 * CUDA backend on a machine without a usable GPU. (The fixture's perplexity through both engines against the model
 * card is in matrix.test.ts.)
 */
import { chmodSync, cpSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { planWindows } from '../../src/accuracy/perplexity.js';
import { loadConfigFile } from '../../src/config/load.js';
import { runPipeline } from '../../src/pipeline.js';
import { FIXTURE_HF, ROOT, tempDir, writeConfig } from '../helpers/fixture.js';
import { perturbedFixture, PYTHON_ENV, VENV_PYTHON } from '../helpers/python.js';
import { runProcess } from '../helpers/run.js';

const SMALL =
  'scenarios:\n  single_short: { batch: 1, seq_len: 16 }\n  batch_short: { batch: 2, seq_len: 16 }\n' +
  'repetitions: 2\niterations: 3\nwarmup: 1\naccuracy: { max_tokens: 600, window: 128, stride: 64, reference: onnxruntime-cpu }\n';

async function run(body: string, options: { hf?: string; env?: NodeJS.ProcessEnv; faulty?: string } = {}) {
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

const saved = { ...process.env };
afterEach(() => {
  for (const key of ['CXX', 'CC', 'CUDA_VISIBLE_DEVICES']) {
    if (saved[key] === undefined) delete process.env[key];
    else process.env[key] = saved[key];
  }
});

describe('one perplexity definition in two languages', () => {
  it('the Python worker plans exactly the windows the TypeScript side plans', async () => {
    const cases: [number, number, number][] = [];
    for (const n of [2, 3, 50, 513, 4096])
      for (const [w, s] of [
        [2, 1],
        [8, 8],
        [256, 128],
        [512, 256],
        [100, 7],
      ])
        cases.push([n, w!, s!]);
    const script =
      'import json, sys\nfrom tr118_native.worker.windows import plan_windows\n' +
      'print(json.dumps([[[w.start, w.end, w.score_from] for w in plan_windows(*c)] for c in json.loads(sys.argv[1])]))';
    const r = await runProcess(VENV_PYTHON, ['-c', script, JSON.stringify(cases)], {
      env: { ...process.env, PYTHONPATH: path.join(ROOT, 'native') },
    });
    expect(r.stderr).toBe('');
    const python = JSON.parse(r.stdout) as number[][][];
    expect(python).toEqual(cases.map(([n, w, s]) => planWindows(n, w, s).map((x) => [x.start, x.end, x.scoreFrom])));
  });
});

describe('the accuracy gate between the checkpoint and its export', () => {
  it('passes the fixture checkpoint against its own ONNX export: same perplexity, logits within 1e-4', async () => {
    const { results } = await run(`backends: [onnxruntime-cpu, transformers-cpu]\n${SMALL}`);
    expect(results.verdict.reasons.filter((r) => r.rule === 'accuracy')).toEqual([]);
    const torch = results.accuracy!.rows.find((r) => r.backend === 'transformers-cpu')!;
    expect(torch.status).toBe('ok');
    expect(Math.abs(torch.deltaFraction!)).toBeLessThan(1e-6);
    expect(torch.maxAbsLogitDelta!).toBeLessThan(1e-4);
    expect(torch.top1Agreement).toBe(1);
    const backend = results.backends.find((b) => b.spec.name === 'transformers-cpu')!;
    expect(backend.session?.runtime).toBe('torch');
    expect(backend.session?.environment?.python).toBe(VENV_PYTHON);
    expect(backend.geomean?.latencyMs).toBeGreaterThan(0);
  });

  it('fails a checkpoint whose weights were perturbed by a few percent, naming it and the threshold', async () => {
    const noisy = perturbedFixture(path.join(tempDir(), 'noisy-hf'), 0.03, 0, FIXTURE_HF);
    const { results } = await run(`backends: [onnxruntime-cpu, transformers-cpu]\n${SMALL}`, { hf: noisy });
    expect(results.verdict.decision).toBe('fail');
    const reason = results.verdict.reasons.find((r) => r.rule === 'accuracy' && r.subject === 'transformers-cpu');
    expect(reason?.message).toMatch(
      /^perplexity Δ -?0\.0[1-9]\d* exceeds the fp32 threshold 0\.001 against onnxruntime-cpu/,
    );
  });
});

describe('same-run A/B of two checkpoints in one worker', () => {
  it('pairs the passes and gates the candidate checkpoint against the base checkpoint', async () => {
    const noisyBase = perturbedFixture(path.join(tempDir(), 'noisy-base'), 0.03, 0, FIXTURE_HF);
    const body = `backends: [transformers-cpu]\n${SMALL.replace('reference: onnxruntime-cpu', 'parity: { enabled: false }')}compare: { base_hf: ${noisyBase} }\n`;
    const { results } = await run(body);
    expect(results.comparison?.mode).toBe('same-run');
    expect(results.comparison?.cells.map((c) => c.ratio !== null)).toEqual([true, true]);
    expect(results.sameRunBase?.model.path).toBe(noisyBase);
    const againstBase = results.comparison!.accuracy.find((a) => a.backend === 'transformers-cpu')!;
    expect(againstBase.decision).toBe('fail');
    expect(results.verdict.decision).toBe('fail');
  });

  it('a base checkpoint the worker cannot load stops the run with a usage error naming compare.base_hf', async () => {
    const broken = path.join(tempDir(), 'broken-base');
    cpSync(FIXTURE_HF, broken, { recursive: true });
    writeFileSync(path.join(broken, 'model.safetensors'), 'not a safetensors file');
    const body = `backends: [transformers-cpu]\n${SMALL.replace('reference: onnxruntime-cpu', 'parity: { enabled: false }')}compare: { base_hf: ${broken} }\n`;
    await expect(run(body)).rejects.toThrow(
      /^config error: .*tr118\.yml:\d+:\d+: compare\.base_hf: backend transformers-cpu could not load the base checkpoint .*broken-base: base checkpoint/,
    );
  });
});

describe('a native worker that breaks is degraded with its own words; the rest of the matrix completes', () => {
  it.each([
    ['hangs', 'hang', /timed out after 2\.0 s; the worker was killed/],
    ['dies mid-run', 'exit', /exited with code 1: RuntimeError: CUDA error: an illegal memory access/],
    [
      'prints a line that is not a frame',
      'garbage',
      /not a protocol frame.*Compiling: 100%.*stderr: torch: loading kernels/,
    ],
  ])('a worker that %s', async (_name, mode, reason) => {
    const body = `backends: [onnxruntime-cpu, transformers-cpu]\n${SMALL.replace('repetitions: 2', 'repetitions: 2\ntimeout_s: 2')}`;
    const { results } = await run(body, { faulty: mode });
    const torchCells = results.cells.filter((c) => c.backend === 'transformers-cpu');
    const ortCells = results.cells.filter((c) => c.backend === 'onnxruntime-cpu');
    expect(torchCells.every((c) => c.degradedRuns === c.runs && c.runs === 2)).toBe(true);
    expect(torchCells[0]!.firstReason).toMatch(reason);
    expect(ortCells.every((c) => c.status === 'ok' && c.stats !== null)).toBe(true);
    expect(results.verdict.decision).toBe('fail');
  });
});

describe('what cannot run here is unavailable, never a number under a wrong name', () => {
  it('a Python without torch: unavailable, with the exact pip install line', async () => {
    const dir = tempDir();
    // A torch package that cannot be imported stands in for a Python without torch.
    mkdirSync(path.join(dir, 'shadow', 'torch'), { recursive: true });
    writeFileSync(
      path.join(dir, 'shadow', 'torch', '__init__.py'),
      'raise ImportError("No module named \'torch\'", name="torch")\n',
    );
    const python = path.join(dir, 'python');
    writeFileSync(python, `#!/bin/sh\nPYTHONPATH="${dir}/shadow:$PYTHONPATH" exec ${VENV_PYTHON} "$@"\n`);
    chmodSync(python, 0o755);
    const { results } = await run(`backends: [onnxruntime-cpu, transformers-cpu]\n${SMALL}`, {
      env: { ...process.env, TR118_PYTHON: python },
    });
    const torch = results.backends.find((b) => b.spec.name === 'transformers-cpu')!;
    expect(torch.status).toBe('unavailable');
    expect(torch.reason).toContain(`torch is not installed for ${VENV_PYTHON}`);
    expect(torch.reason).toContain('-m pip install numpy==2.4.6 torch==2.11.0 transformers==5.17.0');
    expect(results.verdict.reasons.some((r) => r.subject === 'transformers-cpu' && r.decision === 'warn')).toBe(true);
  });

  it('TR118_PYTHON that is not an executable: unavailable, naming it', async () => {
    const { results } = await run(`backends: [onnxruntime-cpu, transformers-cpu]\n${SMALL}`, {
      env: { ...process.env, TR118_PYTHON: '/nonexistent/python3' },
    });
    expect(results.backends[1]!.reason).toBe('TR118_PYTHON=/nonexistent/python3 is not an executable file');
  });

  it('a CUDA device without a usable GPU: unavailable, never a CPU number under a GPU name', async () => {
    process.env.CUDA_VISIBLE_DEVICES = '';
    const { results } = await run(`backends: [onnxruntime-cpu, transformers-gpu]\n${SMALL}`);
    const gpu = results.backends.find((b) => b.spec.name === 'transformers-gpu')!;
    expect(gpu.status).toBe('unavailable');
    expect(gpu.reason).toMatch(/^CUDA is not available to torch/);
    expect(results.cells.filter((c) => c.backend === 'transformers-gpu').every((c) => c.stats === null)).toBe(true);
  });

  it('a torch.compile that fails: degraded with the compiler error, not an eager run under a compile name', async () => {
    // Inductor compiles C++ for the CPU; without a compiler the compile fails, as it did on the seed's machine.
    process.env.CXX = '/nonexistent/c++';
    process.env.CC = '/nonexistent/cc';
    const body = `backends:\n  - onnxruntime-cpu\n  - { name: pt-compiled, engine: pytorch, device: cpu, compile: default }\n${SMALL}`;
    const { results } = await run(body);
    const compiled = results.backends.find((b) => b.spec.name === 'pt-compiled')!;
    expect(compiled.status).toBe('degraded');
    expect(compiled.reason).toMatch(/^torch\.compile\(mode=default\) failed: .*C\+\+ compiler/);
    expect(results.cells.filter((c) => c.backend === 'pt-compiled').every((c) => c.stats === null)).toBe(true);
    expect(results.verdict.decision).toBe('fail');
  });
});
