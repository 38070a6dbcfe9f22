/**
 * One timer definition when the "fastest accurate backend" answer crosses devices (issue 22): a GPU worker's gated
 * timer leaves the logits on the device, the CPU's copies them out; backends on different devices are compared on
 * the end-to-end figure, and the answer says which figure it used.
 */
import { describe, expect, it } from 'vitest';
import { answerSeedQuestion, endToEndPasses } from '../../src/report/answer.js';
import { renderMarkdown } from '../../src/report/markdown.js';
import type { Results } from '../../src/results/schema.js';
import { matrixResults } from '../helpers/results.js';

const jitter = (rep: number, i: number): number => 1 + 0.01 * (((rep * 7 + i * 3) % 5) - 2);

/**
 * `cpu` (an onnxruntime-cpu backend, timer end to end) at cpuMs, and `gpu` whose device-side timer reads gpuMs and
 * whose end-to-end passes (the logits copied out) read gpuEndToEndMs; `gpu` on the CUDA provider unless sameDevice.
 */
function cpuAndGpu(cpuMs: number, gpuMs: number, gpuEndToEndMs: number, sameDevice = false): Results {
  const r = matrixResults({
    backends: ['cpu', 'gpu'],
    scenarios: ['s'],
    repetitions: 4,
    iterations: 8,
    latencyMs: (b, _s, rep, i) => (b === 'cpu' ? cpuMs : gpuMs) * jitter(rep, i),
  }) as unknown as { backends: { spec: Record<string, unknown> }[]; cells: Record<string, unknown>[] };
  if (!sameDevice) {
    const gpu = r.backends.find((b) => b.spec.name === 'gpu')!;
    gpu.spec = { ...gpu.spec, provider: 'cuda', worker: 'python' };
  }
  for (const cell of r.cells.filter((c) => c.backend === 'gpu')) {
    cell.endToEnd = { medianMs: gpuEndToEndMs, p95Ms: gpuEndToEndMs * 1.02, passes: 32 };
  }
  return r as unknown as Results;
}

describe('the fastest accurate backend across devices', () => {
  it('CPU against a GPU whose device-side timer is faster but whose logits copy is not: the CPU wins end to end, and says so', () => {
    const answer = answerSeedQuestion(cpuAndGpu(10, 4, 12))!;
    expect(answer.figure).toBe('end-to-end');
    expect(answer.figureBasis).toMatch(/^the end-to-end figure \(host tokens in, host logits out\).*cpu and cuda:0/);
    const row = answer.rows[0]!;
    expect(row.fastest).toBe('cpu');
    expect(row.decision).toBe('baseline fastest');
    expect(renderMarkdown(cpuAndGpu(10, 4, 12))).toContain('Figure compared: the end-to-end figure');
  });

  it('a GPU faster end to end too: it wins, its speed-up on the end-to-end figure (10 ÷ 6)', () => {
    const answer = answerSeedQuestion(cpuAndGpu(10, 4, 6))!;
    expect(answer.figure).toBe('end-to-end');
    const row = answer.rows[0]!;
    expect(row.fastest).toBe('gpu');
    expect(row.decision).toBe('faster');
    expect(row.fastestMedianMs!).toBeCloseTo(6, 1);
    expect(row.speedup!).toBeGreaterThan(1.6);
    expect(row.speedup!).toBeLessThan(1.7);
  });

  it('backends on one device: the gated timer of each, as before (the faster timer wins, 10 ÷ 4)', () => {
    const answer = answerSeedQuestion(cpuAndGpu(10, 4, 12, true))!;
    expect(answer.figure).toBe('timer');
    expect(answer.figureBasis).toBe("each backend's gated timer (every compared backend ran on cpu)");
    const row = answer.rows[0]!;
    expect(row.fastest).toBe('gpu');
    expect(row.decision).toBe('faster');
    expect(row.speedup!).toBeGreaterThan(2.4);
  });

  it('end-to-end passes keep the spread of the timed passes, shifted by the copy out', () => {
    const cell = cpuAndGpu(10, 4, 12).cells.find((c) => c.backend === 'gpu')!;
    const shifted = endToEndPasses(cell);
    const timed = cell.repetitionLatenciesMs;
    expect(shifted.map((r) => r.length)).toEqual(timed.map((r) => r.length));
    for (const [rep, passes] of shifted.entries()) {
      for (const [i, ms] of passes.entries()) expect(ms - timed[rep]![i]!).toBeCloseTo(12 - 4, 6);
    }
    const cpuCell = cpuAndGpu(10, 4, 12).cells.find((c) => c.backend === 'cpu')!;
    expect(endToEndPasses(cpuCell)).toEqual(cpuCell.repetitionLatenciesMs);
  });
});
