/**
 * The pytorch backends where torch is not needed (the light tier): one window plan in two languages, a native worker
 * that breaks, a Python without torch, a TR118_PYTHON that is no program. What needs torch itself (the accuracy gate
 * against ONNX Runtime, same-run A/B of checkpoints, a compile that fails, CUDA without a GPU) is in
 * test/torch/pytorch.test.ts.
 */
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { planWindows } from '../../src/accuracy/perplexity.js';
import { runWithCheckpoint as run, SMALL } from '../helpers/checkpoint-run.js';
import { ROOT, tempDir } from '../helpers/fixture.js';
import { VENV_PYTHON } from '../helpers/python.js';
import { runProcess } from '../helpers/run.js';

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
});
