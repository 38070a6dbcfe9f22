import { describe, expect, it } from 'vitest';
import { decideAccuracy } from '../../src/gate/accuracy-gate.js';
import type { AccuracyRecord, ParityRecord } from '../../src/measure/records.js';
import { planParity, type BackendState, type ParityPlanInput } from '../../src/measure/parity-plan.js';
import { specOf } from '../helpers/specs.js';
import { TEST_AT as AT } from '../helpers/results.js';

const cpu = specOf('onnxruntime-cpu', '/m.onnx');
const cuda = specOf('onnxruntime-cuda', '/m.onnx');
const trt = specOf('onnxruntime-tensorrt', '/m.onnx');
const scored = (backend: string): AccuracyRecord => ({
  kind: 'accuracy',
  backend,
  side: 'candidate',
  status: 'ok',
  nllSum: 300,
  scoredTokens: 100,
  at: AT,
});
const OPEN: BackendState = { kind: 'open' };

function plan(changes: Partial<ParityPlanInput> = {}) {
  return planParity({
    specs: [cpu, cuda, trt],
    configuredReference: undefined,
    accuracy: [scored(cpu.name), scored(cuda.name), scored(trt.name)],
    state: () => OPEN,
    evaluationTokens: 600,
    probe: { batch: 2, seqLen: 64 },
    ...changes,
  });
}

describe('which backends logits parity compares, and why not the others', () => {
  it('every backend open and scored: all compared with the reference, nothing skipped', () => {
    expect(plan()).toEqual({ reference: cpu.name, compare: [cuda.name, trt.name], skipped: [] });
  });

  it('an unavailable and a degraded backend: each skipped with its own reason, the rest compared', () => {
    const states: Record<string, BackendState> = {
      [cuda.name]: { kind: 'unavailable', reason: 'CUDA provider not available' },
      [trt.name]: { kind: 'degraded', reason: 'engine build failed' },
    };
    expect(plan({ state: (name) => states[name] ?? OPEN })).toEqual({
      reference: cpu.name,
      compare: [],
      skipped: [
        {
          backend: cuda.name,
          reference: cpu.name,
          reason: `backend ${cuda.name} is unavailable: CUDA provider not available`,
        },
        { backend: trt.name, reference: cpu.name, reason: `backend ${trt.name} is degraded: engine build failed` },
      ],
    });
  });

  it('no backend with a perplexity: no reference, every backend skipped saying so', () => {
    const p = plan({ accuracy: [] });
    expect(p.reference).toBeNull();
    expect(p.compare).toEqual([]);
    expect(p.skipped.map((s) => s.backend)).toEqual([cpu.name, cuda.name, trt.name]);
    expect(p.skipped[0]).toEqual({
      backend: cpu.name,
      reference: null,
      reason: 'no reference backend to compare with: no fp32 backend produced a perplexity to compare with',
    });
  });

  it('a configured reference without a perplexity: the others skipped naming it and why; the reference itself is not listed', () => {
    const failed: AccuracyRecord = { ...scored(cpu.name), status: 'degraded', reason: 'worker crashed' };
    const p = plan({ configuredReference: cpu.name, accuracy: [failed, scored(cuda.name), scored(trt.name)] });
    expect(p.skipped).toEqual(
      [cuda.name, trt.name].map((backend) => ({
        backend,
        reference: null,
        reason: `no reference backend to compare with: reference backend ${cpu.name} has no perplexity: worker crashed`,
      })),
    );
  });

  it('a reference whose worker degraded after scoring cannot answer the probe: the others skipped', () => {
    const p = plan({ state: (name) => (name === cpu.name ? { kind: 'degraded', reason: 'timed out' } : OPEN) });
    expect(p.reference).toBeNull();
    expect(p.skipped.map((s) => s.reason)).toEqual([
      `the reference ${cpu.name}'s worker is not open: backend ${cpu.name} is degraded: timed out`,
      `the reference ${cpu.name}'s worker is not open: backend ${cpu.name} is degraded: timed out`,
    ]);
  });

  it('too few evaluation tokens for the probe batch: every other backend skipped; exactly enough: compared', () => {
    const short = plan({ evaluationTokens: 64, probe: { batch: 2, seqLen: 64 } });
    expect(short.compare).toEqual([]);
    expect(short.skipped[0]?.reason).toBe(
      'the 64 evaluation tokens are fewer than the 2×64 probe batch needs (65; accuracy.parity, accuracy.max_tokens)',
    );
    expect(plan({ evaluationTokens: 65, probe: { batch: 2, seqLen: 64 } }).skipped).toEqual([]);
  });

  it('a lone backend has nothing to compare with: no check, so nothing skipped', () => {
    expect(plan({ specs: [cpu], accuracy: [] })).toEqual({ reference: null, compare: [], skipped: [] });
  });
});

describe('skipped parity in the accuracy gate', () => {
  const thresholds = (gated: boolean) => ({
    perplexityDeltaFraction: { fp32: 0.001, fp16: 0.01, bf16: 0.02, int8: 0.05 },
    maxPerplexity: undefined,
    maxAbsLogitDelta: undefined,
    minTop1Agreement: gated ? 0.9 : undefined,
  });
  const skipped: ParityRecord = {
    kind: 'parity',
    backend: cuda.name,
    side: 'candidate',
    reference: cpu.name,
    status: 'skipped',
    reason: 'too few tokens',
    at: AT,
  };
  const decide = (parity: ParityRecord[], gated: boolean) =>
    decideAccuracy({
      specs: [cpu, cuda],
      backends: [],
      records: [scored(cpu.name), scored(cuda.name)],
      parity,
      reference: undefined,
      thresholds: thresholds(gated),
    });

  it('listed in parityNotCompared; ungated it changes no row', () => {
    const gate = decide([skipped], false);
    expect(gate.parityNotCompared).toEqual([
      { backend: cuda.name, reference: cpu.name, status: 'skipped', reason: 'too few tokens' },
    ]);
    expect(gate.rows[1]).toMatchObject({ pass: true, error: null });
  });

  it('gated by thresholds.parity: the row fails instead of passing unchecked', () => {
    expect(decide([skipped], true).rows[1]).toMatchObject({
      pass: false,
      error: 'logits parity was skipped: too few tokens',
    });
  });

  it('compared (ok): nothing listed', () => {
    const ok: ParityRecord = {
      kind: 'parity',
      backend: cuda.name,
      side: 'candidate',
      reference: cpu.name,
      status: 'ok',
      maxAbsDelta: 0,
      top1Agreement: 1,
      at: AT,
    };
    expect(decide([ok], true).parityNotCompared).toEqual([]);
    expect(decide([ok], true).rows[1]).toMatchObject({ pass: true });
  });
});
