/**
 * Where ONNX Runtime ran each node, and whether that is still the backend that was asked for. Pure: the workers
 * read the runtime's profile of one pass (profile.ts here, native/tr118_native/worker/profile.py in Python) and
 * send the summary in SessionInfo.placement; this judges it.
 *
 * Why not `session.disable_cpu_ep_fallback`: ONNX Runtime's CUDA provider itself leaves shape computations
 * (Shape, Gather on shapes, Unsqueeze, Concat, Slice, …) to the CPU provider, on purpose: they are small int64
 * tensors the host needs anyway. With that flag set, every real LLM export fails to open on CUDA (seen on an H200:
 * 185 such nodes on the fixture). A GPU backend is degraded only when real computation ran on the CPU.
 */
import type { OrtProvider } from './spec.js';
/** SessionInfo.placement (protocol.ts), read-only as results hold it. */
export interface Placement {
  readonly nodes: ReadonlyArray<{ readonly provider: string; readonly opType: string; readonly count: number }>;
}

/** ONNX Runtime's names for the providers a backend can ask for. */
export const PROVIDER_NAMES: Readonly<Record<OrtProvider, string>> = {
  cpu: 'CPUExecutionProvider',
  cuda: 'CUDAExecutionProvider',
  tensorrt: 'TensorrtExecutionProvider',
};

/**
 * Op types that do the model's arithmetic on activations: on the CPU under a GPU backend they make the figure a CPU
 * figure. Everything else on the CPU (shape arithmetic, casts of scalars, control flow on shapes) is reported, not
 * punished. The list covers the ONNX standard ops and ONNX Runtime's contrib ops (com.microsoft) that transformer
 * exports use; docs/configuration.md "Where ONNX Runtime ran the nodes" prints it.
 */
export const COMPUTE_OP_TYPES: ReadonlySet<string> = new Set([
  // matrix products
  'MatMul',
  'Gemm',
  'MatMulInteger',
  'QLinearMatMul',
  'MatMulNBits',
  'MatMulBnb4',
  'FusedMatMul',
  'QGemm',
  'Einsum',
  // attention
  'Attention',
  'MultiHeadAttention',
  'GroupQueryAttention',
  'PackedAttention',
  'PackedMultiHeadAttention',
  'DecoderMaskedMultiHeadAttention',
  'RotaryEmbedding',
  // convolution
  'Conv',
  'ConvTranspose',
  'FusedConv',
  'QLinearConv',
  'ConvInteger',
  // normalization
  'LayerNormalization',
  'SkipLayerNormalization',
  'SimplifiedLayerNormalization',
  'SkipSimplifiedLayerNormalization',
  'RMSNormalization',
  'EmbedLayerNormalization',
  'BatchNormalization',
  'InstanceNormalization',
  'GroupNormalization',
  'GroupNorm',
  // activations and softmax over the hidden / vocabulary dimension
  'Softmax',
  'LogSoftmax',
  'Gelu',
  'FastGelu',
  'BiasGelu',
  'QuickGelu',
  'BiasSoftmax',
]);

export interface PlacementSummary {
  /** Graph nodes per provider, largest first. */
  readonly nodesByProvider: ReadonlyArray<{ readonly provider: string; readonly nodes: number }>;
  /** Op types that ran on the CPU provider under a GPU backend, with their node counts. */
  readonly cpuOpTypes: ReadonlyArray<{ readonly opType: string; readonly nodes: number; readonly compute: boolean }>;
}

export type PlacementJudgement =
  | { readonly status: 'ok'; readonly summary: PlacementSummary }
  | { readonly status: 'degraded'; readonly reason: string; readonly summary: PlacementSummary };

export function summarizePlacement(placement: Placement): PlacementSummary {
  const byProvider = new Map<string, number>();
  const cpu = new Map<string, number>();
  for (const n of placement.nodes) {
    byProvider.set(n.provider, (byProvider.get(n.provider) ?? 0) + n.count);
    if (n.provider === PROVIDER_NAMES.cpu) cpu.set(n.opType, (cpu.get(n.opType) ?? 0) + n.count);
  }
  const sorted = <T extends { nodes: number }>(xs: T[], key: (x: T) => string): T[] =>
    xs.sort((a, b) => b.nodes - a.nodes || key(a).localeCompare(key(b)));
  return {
    nodesByProvider: sorted(
      [...byProvider].map(([provider, nodes]) => ({ provider, nodes })),
      (x) => x.provider,
    ),
    cpuOpTypes: sorted(
      [...cpu].map(([opType, nodes]) => ({ opType, nodes, compute: COMPUTE_OP_TYPES.has(opType) })),
      (x) => x.opType,
    ),
  };
}

/** One line for reports: "CUDAExecutionProvider 179, CPUExecutionProvider 185 (Unsqueeze 60, Gather 41, …)". */
export function describePlacement(summary: PlacementSummary): string {
  const cpuOps = summary.cpuOpTypes.map((o) => `${o.opType} ${o.nodes}`).join(', ');
  return summary.nodesByProvider
    .map((p) =>
      p.provider === PROVIDER_NAMES.cpu && cpuOps && summary.nodesByProvider.length > 1
        ? `${p.provider} ${p.nodes} (${cpuOps})`
        : `${p.provider} ${p.nodes}`,
    )
    .join(', ');
}

/**
 * cpu: always ok (the summary is still reported). A GPU provider: degraded when no placement was reported (the
 * backend cannot show it ran where asked), when no node ran on the requested provider (the provider failed to load
 * and ONNX Runtime fell back), or when a compute node ran on the CPU.
 */
export function judgePlacement(provider: OrtProvider, placement: Placement | undefined): PlacementJudgement {
  const summary = summarizePlacement(placement ?? { nodes: [] });
  if (provider === 'cpu') return { status: 'ok', summary };
  if (!placement || placement.nodes.length === 0) {
    return {
      status: 'degraded',
      reason: `the worker reported no node placement, so it cannot be shown that the ${provider} provider ran the model`,
      summary,
    };
  }
  // TensorRT hands what it cannot take to CUDA (options.ts): both are the GPU.
  const wanted = provider === 'tensorrt' ? [PROVIDER_NAMES.tensorrt, PROVIDER_NAMES.cuda] : [PROVIDER_NAMES.cuda];
  const onGpu = summary.nodesByProvider.filter((p) => wanted.includes(p.provider)).reduce((n, p) => n + p.nodes, 0);
  if (onGpu === 0) {
    return {
      status: 'degraded',
      reason: `no node ran on ${wanted.join(' or ')}: ONNX Runtime fell back to ${describePlacement(summary)}`,
      summary,
    };
  }
  const compute = summary.cpuOpTypes.filter((o) => o.compute);
  if (compute.length > 0) {
    return {
      status: 'degraded',
      reason:
        `compute nodes ran on the CPU under ${provider}: ${compute.map((o) => `${o.opType} ×${o.nodes}`).join(', ')} ` +
        `(the ${provider} provider has no kernel for them with these types); placement: ${describePlacement(summary)}`,
      summary,
    };
  }
  return { status: 'ok', summary };
}
