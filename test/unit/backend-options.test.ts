import { describe, expect, it } from 'vitest';
import { executionProviders, sessionOptions } from '../../src/engines/onnxruntime/options.js';
import type { OrtSpec } from '../../src/engines/onnxruntime/spec.js';
import { ortCpuSpec } from '../helpers/specs.js';
import { parseNvidiaSmi } from '../../src/env/collect.js';

const spec = (over: Partial<OrtSpec>): OrtSpec => ortCpuSpec('m.onnx', { name: 'b', ...over });

describe('ONNX Runtime session options (GPU paths tested without a GPU)', () => {
  it('cpu: no fallback guard, ONNX Runtime default threads unless set', () => {
    const o = sessionOptions(spec({}));
    expect(o.executionProviders).toEqual(['cpu']);
    expect(o.extra).toBeUndefined();
    expect(o.intraOpNumThreads).toBeUndefined();
    expect(o.graphOptimizationLevel).toBe('all');
  });

  it('cuda: device id passed; CPU fallback allowed (the CUDA provider leaves shape nodes to it: placement judges)', () => {
    const o = sessionOptions(spec({ provider: 'cuda', deviceId: 1 }));
    expect(o.executionProviders).toEqual([{ name: 'cuda', deviceId: 1 }]);
    // no blanket disable_cpu_ep_fallback: with it every real export failed to open on CUDA (issue 11)
    expect(JSON.stringify(o)).not.toContain('disable_cpu_ep_fallback');
  });

  it('tensorrt: TensorRT then CUDA', () => {
    expect(executionProviders(spec({ provider: 'tensorrt' }))).toEqual(['tensorrt', 'cuda']);
    expect(JSON.stringify(sessionOptions(spec({ provider: 'tensorrt' })))).not.toContain('disable_cpu_ep_fallback');
  });

  it('threads and graph optimization are passed as configured; paired sessions do not spin', () => {
    const o = sessionOptions(spec({ intraOpThreads: 2, interOpThreads: 1, graphOptimization: 'basic' }), true);
    expect(o).toMatchObject({ intraOpNumThreads: 2, interOpNumThreads: 1, graphOptimizationLevel: 'basic' });
    expect(o.extra).toEqual({ session: { 'intra_op.allow_spinning': '0', 'inter_op.allow_spinning': '0' } });
  });
});

describe('nvidia-smi', () => {
  it('parses the query output (as printed on the H200 machine)', () => {
    expect(parseNvidiaSmi('NVIDIA H200, 580.159.04, 143771, 9.0\n')).toEqual([
      { name: 'NVIDIA H200', driverVersion: '580.159.04', memoryMiB: 143771, computeCapability: '9.0' },
    ]);
    expect(parseNvidiaSmi('')).toEqual([]);
  });
});
