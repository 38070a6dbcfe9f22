import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  COMPUTE_OP_TYPES,
  describePlacement,
  judgePlacement,
  type Placement,
} from '../../src/engines/onnxruntime/placement.js';
import { placementFromProfile } from '../../src/engines/onnxruntime/profile.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const recorded = (name: string): unknown =>
  JSON.parse(readFileSync(path.join(ROOT, 'fixtures/profiles', name), 'utf8')) as unknown;

const CPU = 'CPUExecutionProvider';
const CUDA = 'CUDAExecutionProvider';
/** What the H200 showed for the fixture on CUDA (issue 11): compute on CUDA, shape arithmetic on the CPU. */
const fixtureOnCuda: Placement = {
  nodes: [
    { provider: CUDA, opType: 'MatMul', count: 40 },
    { provider: CUDA, opType: 'LayerNormalization', count: 9 },
    { provider: CUDA, opType: 'Softmax', count: 4 },
    { provider: CPU, opType: 'Unsqueeze', count: 60 },
    { provider: CPU, opType: 'Gather', count: 41 },
    { provider: CPU, opType: 'Concat', count: 30 },
  ],
};

describe('placement from a recorded ONNX Runtime profile', () => {
  it('counts each node once, by provider and op type (the fixture on the CPU, from Node)', () => {
    const placement = placementFromProfile(recorded('fixture-cpu-node.json'));
    const total = placement.nodes.reduce((n, x) => n + x.count, 0);
    expect(total).toBe(363);
    expect(new Set(placement.nodes.map((n) => n.provider))).toEqual(new Set([CPU]));
    expect(placement.nodes.find((n) => n.opType === 'MatMul')?.count).toBeGreaterThan(0);
  });

  it('the fixture on CUDA as recorded on an H200: ok, its 185 shape nodes on the CPU listed, no compute there', () => {
    const placement = placementFromProfile(recorded('fixture-cuda-python-h200.json'));
    const judged = judgePlacement('cuda', placement);
    expect(judged.status).toBe('ok');
    expect(judged.summary.nodesByProvider).toEqual([
      { provider: CPU, nodes: 185 },
      { provider: CUDA, nodes: 179 },
    ]);
    expect(judged.summary.cpuOpTypes.map((o) => o.opType)).toEqual([
      'Unsqueeze',
      'Gather',
      'Concat',
      'Slice',
      'Squeeze',
      'Equal',
      'Reshape',
      'Where',
    ]);
    // the same recording with one Gemm moved to the CPU is degraded
    const moved = {
      nodes: placement.nodes
        .map((n) => (n.opType === 'Gemm' ? { ...n, count: n.count - 1 } : n))
        .concat([{ provider: CPU, opType: 'Gemm', count: 1 }]),
    };
    expect(judgePlacement('cuda', moved).status).toBe('degraded');
  });

  it('skips events that are not node kernels, and a node that wrote several events counts once', () => {
    const kernel = (name: string, provider: string, op: string) => ({
      cat: 'Node',
      name: `${name}_kernel_time`,
      args: { provider, op_name: op },
    });
    const placement = placementFromProfile([
      { cat: 'Session', name: 'model_run', args: {} },
      { cat: 'Node', name: 'a_fence_before', args: { op_name: 'MatMul' } },
      kernel('a', CUDA, 'MatMul'),
      kernel('a', CUDA, 'MatMul'),
      kernel('b', CPU, 'Shape'),
      'garbage',
      null,
    ]);
    expect(placement.nodes).toEqual([
      { provider: CUDA, opType: 'MatMul', count: 1 },
      { provider: CPU, opType: 'Shape', count: 1 },
    ]);
  });

  it('reads the profile the Python worker records the same way (cpu-only-op, onnxruntime 1.32): its int64 MatMul is there', () => {
    const placement = placementFromProfile(recorded('cpu-only-op-cpu-ort1.32.json'));
    expect(placement.nodes).toContainEqual(expect.objectContaining({ provider: CPU, opType: 'MatMul' }));
    expect(judgePlacement('cpu', placement).status).toBe('ok');
  });

  it('refuses what is not a profile', () => {
    expect(() => placementFromProfile({ traceEvents: [] })).toThrow(/JSON array of events/);
  });
});

describe('judging placement (the rule that replaced disable_cpu_ep_fallback)', () => {
  it('passes: the fixture on CUDA with its shape nodes on the CPU is ok, and they are listed', () => {
    const judged = judgePlacement('cuda', fixtureOnCuda);
    expect(judged.status).toBe('ok');
    expect(describePlacement(judged.summary)).toBe(
      'CPUExecutionProvider 131 (Unsqueeze 60, Gather 41, Concat 30), CUDAExecutionProvider 53',
    );
  });

  it('fails: a compute node on the CPU under cuda is degraded, naming the op', () => {
    const withCpuMatMul: Placement = { nodes: [...fixtureOnCuda.nodes, { provider: CPU, opType: 'MatMul', count: 2 }] };
    const judged = judgePlacement('cuda', withCpuMatMul);
    expect(judged.status).toBe('degraded');
    expect(judged.status === 'degraded' && judged.reason).toMatch(/compute nodes ran on the CPU under cuda: MatMul ×2/);
  });

  it('fails: everything on the CPU under cuda (the provider did not load) is degraded', () => {
    const judged = judgePlacement('cuda', { nodes: [{ provider: CPU, opType: 'Shape', count: 3 }] });
    expect(judged.status === 'degraded' && judged.reason).toMatch(/no node ran on CUDAExecutionProvider/);
  });

  it('fails: a GPU backend that reported no placement cannot show where it ran', () => {
    expect(judgePlacement('cuda', undefined).status).toBe('degraded');
    expect(judgePlacement('tensorrt', { nodes: [] }).status).toBe('degraded');
  });

  it('tensorrt: nodes TensorRT hands to CUDA are on the GPU; compute on the CPU is still degraded', () => {
    const trt: Placement = {
      nodes: [
        { provider: 'TensorrtExecutionProvider', opType: 'TRTKernel_graph_main', count: 1 },
        { provider: CUDA, opType: 'Gemm', count: 2 },
        { provider: CPU, opType: 'Shape', count: 5 },
      ],
    };
    expect(judgePlacement('tensorrt', trt).status).toBe('ok');
    expect(
      judgePlacement('tensorrt', { nodes: [...trt.nodes, { provider: CPU, opType: 'Conv', count: 1 }] }).status,
    ).toBe('degraded');
  });

  it('cpu is never judged (everything is on the CPU by request)', () => {
    expect(judgePlacement('cpu', placementFromProfile(recorded('fixture-cpu-node.json'))).status).toBe('ok');
    expect(judgePlacement('cpu', undefined).status).toBe('ok');
  });

  it('the documented compute list holds the ops the issue names, and no shape op', () => {
    for (const op of ['MatMul', 'Gemm', 'Attention', 'Conv', 'LayerNormalization'])
      expect(COMPUTE_OP_TYPES.has(op)).toBe(true);
    for (const op of ['Unsqueeze', 'Gather', 'Concat', 'Slice', 'Squeeze', 'Reshape', 'Equal', 'Where', 'Shape'])
      expect(COMPUTE_OP_TYPES.has(op)).toBe(false);
  });
});
