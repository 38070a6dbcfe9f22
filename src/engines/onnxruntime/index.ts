/**
 * The onnxruntime family: an ONNX file on ONNX Runtime, in Node (onnxruntime-node, the CPU default) or in the native
 * Python worker (onnxruntime / onnxruntime-gpu with IO binding, the GPU default). Its providers: cpu, cuda, tensorrt.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { findPython, PRELOAD_ENV, pythonWorkerLaunch } from '../../backends/native-worker.js';
import { ProcessBackend, type WorkerLaunch } from '../../backends/process-backend.js';
import type { SessionInfo } from '../../backends/protocol.js';
import type { CreateContext, EngineFamily } from '../family.js';
import { DEFAULT_BACKEND_SETTINGS } from '../spec.js';
import { providerUnavailableReason, pythonProviderUnavailableReason } from './availability.js';
import { ORT_GPU_PYTHONPATH_ENV } from './provision/gpu-record.js';
import { describePlacement, judgePlacement, summarizePlacement } from './placement.js';
import {
  ortConfigKeys,
  ortSpecSchema,
  defaultOrtWorker,
  isDerived,
  VARIANT_PRECISION,
  type OrtProvider,
  type OrtSpec,
} from './spec.js';
import {
  describeVariant,
  prepareVariants,
  stepsOf,
  VARIANT_KIND,
  variantRecordSchema,
  variantTable,
  type VariantRecord,
} from './variant.js';

/** The ONNX Runtime worker in Node: the TypeScript source under tsx (tests), or the bundle beside dist/cli.js. */
export function ortWorkerLaunch(): WorkerLaunch {
  const here = fileURLToPath(import.meta.url);
  const script = here.endsWith('.ts')
    ? ['--import', 'tsx', path.join(path.dirname(here), 'worker.ts')]
    : [path.join(path.dirname(here), 'ort-worker.js')];
  return { command: process.execPath, args: script };
}

/** A GPU provider that left compute on the CPU measured a CPU figure: never reported under the GPU's name. */
function placementProblem(spec: OrtSpec, session: SessionInfo): string | undefined {
  const placement = judgePlacement(spec.provider, session.placement);
  return placement.status === 'degraded' ? placement.reason : undefined;
}

/** The worker a backend runs (Python or Node), or why it cannot run here: known from the spec alone. */
function ortLaunch(
  spec: OrtSpec,
  ctx: CreateContext,
): { readonly launch: WorkerLaunch } | { readonly unavailable: string } {
  if (spec.worker === 'python') {
    // The Python package brings its own providers (a provisioned onnxruntime-gpu wheel, or one installed in the
    // worker's Python): the worker itself says at open whether the provider is there and the GPU is usable.
    if (ctx.nativeWorker) return { launch: ctx.nativeWorker };
    const reason = pythonProviderUnavailableReason(spec.provider, ctx.env);
    if (reason) return { unavailable: reason };
    const python = findPython(ctx.env, ctx.pythonSearchFrom);
    if ('missing' in python) return { unavailable: python.missing };
    // The onnxruntime-gpu wheel `tr118 provision` unpacked, ahead of site-packages: its `onnxruntime` (with the
    // CUDA provider) is the one imported even where a CPU build is installed. Imported as the worker starts.
    const launch = pythonWorkerLaunch(python.command, ctx.env, [ctx.env[ORT_GPU_PYTHONPATH_ENV]]);
    return { launch: { ...launch, env: { ...launch.env, [PRELOAD_ENV]: 'onnxruntime' } } };
  }
  const reason = providerUnavailableReason(spec.provider);
  if (reason) return { unavailable: reason };
  return { launch: ctx.nodeWorker ?? ortWorkerLaunch() };
}

export const onnxruntime: EngineFamily<OrtSpec, VariantRecord> = {
  name: 'onnxruntime',
  specSchema: ortSpecSchema,
  configKeys: ortConfigKeys,
  presets: {
    'onnxruntime-cpu': { engine: 'onnxruntime', provider: 'cpu' },
    'onnxruntime-gpu': { engine: 'onnxruntime', provider: 'cuda' },
    'onnxruntime-cuda': { engine: 'onnxruntime', provider: 'cuda' },
    // ONNX Runtime's TensorRT provider from Node takes only deviceId: fp32, engines not cached (docs/design.md).
    'onnxruntime-tensorrt': { engine: 'onnxruntime', provider: 'tensorrt' },
    // Precision variants of the fp32 file (variant.ts), each gated by its precision's perplexity threshold.
    'onnxruntime-cpu-int8': { engine: 'onnxruntime', provider: 'cpu', variant: 'int8-dynamic', precision: 'int8' },
    'onnxruntime-cuda-fp16': { engine: 'onnxruntime', provider: 'cuda', variant: 'fp16', precision: 'fp16' },
  },
  sameRunBase: 'base_model',

  resolve(entry, ctx) {
    const provider = (entry.provider as OrtProvider | undefined) ?? 'cpu';
    const variant = entry.variant as OrtSpec['variant'];
    if (variant !== undefined && entry.precision !== undefined && entry.precision !== VARIANT_PRECISION[variant]) {
      ctx.fail(
        ['backends', ctx.index, 'precision'],
        `variant ${variant} runs at ${VARIANT_PRECISION[variant]}, and its perplexity threshold is that precision's: expected precision ${VARIANT_PRECISION[variant]} or none`,
      );
    }
    return {
      name: entry.name,
      engine: 'onnxruntime',
      provider,
      worker: (entry.worker as OrtSpec['worker'] | undefined) ?? defaultOrtWorker(provider),
      graphOptimization: (entry.graph_optimization as OrtSpec['graphOptimization'] | undefined) ?? 'all',
      precision: entry.precision ?? (variant ? VARIANT_PRECISION[variant] : 'fp32'),
      ...(variant ? { variant } : {}),
      optimize: (entry.optimize as OrtSpec['optimize'] | undefined) ?? 'none',
      deviceId: entry.device_id ?? DEFAULT_BACKEND_SETTINGS.deviceId,
      intraOpThreads: entry.intra_op_threads ?? DEFAULT_BACKEND_SETTINGS.intraOpThreads,
      interOpThreads: entry.inter_op_threads ?? DEFAULT_BACKEND_SETTINGS.interOpThreads,
      modelPath: entry.model !== undefined ? ctx.resolvePath(entry.model) : ctx.onnxPath,
      logitsOutput: ctx.logitsOutput,
    };
  },

  create(written, ctx, prepared) {
    let spec = written;
    if (isDerived(written)) {
      if (!prepared) {
        return {
          unavailable: `no ${stepsOf(written)} variant was derived for this backend (tr118 run derives them before the matrix)`,
        };
      }
      if (!('ready' in prepared)) return prepared;
      // The worker opens the derived file; the base (same-run A/B) is the base model's own variant, made the same way.
      spec = { ...written, modelPath: prepared.ready.variantPath };
      ctx = { ...ctx, base: prepared.base?.variantPath ?? ctx.base };
    }
    const options = {
      baseModelPath: ctx.base,
      openTimeoutMs: ctx.openTimeoutMs,
      checkOpened: (info: SessionInfo) => placementProblem(spec, info),
      pool: ctx.workerPool,
    };
    const launch = ortLaunch(spec, ctx);
    return 'launch' in launch ? { backend: new ProcessBackend(spec, launch.launch, options) } : launch;
  },

  // The process and its onnxruntime import start before the ONNX file (export or variant) exists.
  workerLaunch(spec, ctx) {
    const launch = ortLaunch(spec, ctx);
    return 'launch' in launch ? launch.launch : undefined;
  },

  checkOpened: placementProblem,

  needsGpuProviders: (spec) => spec.provider !== 'cpu',

  prepare: prepareVariants,
  needsPreparation: isDerived,
  artifacts: {
    resultsKey: 'onnxVariants',
    kind: VARIANT_KIND,
    recordSchema: variantRecordSchema,
    describe: (record) => `the ${stepsOf(record)} variant of ${record.backend}`,
    logLine: describeVariant,
    table: variantTable,
  },

  openQueue: (spec) => (spec.provider === 'cpu' ? undefined : `cuda:${spec.deviceId}`),

  // Where ONNX Runtime ran the graph (one profiled pass at open): shape nodes on the CPU are normal under a GPU
  // provider and listed; compute nodes there make the backend degraded (placement.ts).
  sessionNotes: {
    heading: 'Where ONNX Runtime ran the nodes (graph nodes per provider; op types on the CPU in parentheses)',
    note: (session) =>
      session.placement ? describePlacement(summarizePlacement(session.placement)) || 'no node reported' : undefined,
  },

  settings: (spec) =>
    `${spec.provider} provider in ${spec.worker === 'python' ? 'Python' : 'Node'}, graph optimization ${spec.graphOptimization}` +
    (spec.optimize === 'transformers' ? ', transformer fusions' : ''),

  comparability(spec, session, artifact) {
    return {
      // The runtime that ran: onnxruntime-node's version in Node, the Python package's in the native worker.
      onnxruntimeVersion: session?.runtimeVersion ?? '',
      provider: spec.provider,
      // Only when it is not node, so that results measured before the key existed keep their fingerprint.
      ...(spec.worker === 'python' ? { worker: spec.worker } : {}),
      precision: spec.precision,
      intraOpThreads: spec.intraOpThreads,
      interOpThreads: spec.interOpThreads,
      graphOptimization: spec.graphOptimization,
      // A derived file: the transform and the tool that made it (its bytes are in the model's sha256 already).
      ...(spec.variant ? { variant: spec.variant } : {}),
      // Only when set, so that results measured before the key existed keep their fingerprint.
      ...(spec.optimize === 'transformers' ? { optimize: spec.optimize } : {}),
      ...(artifact ? { variantTool: artifact.tool } : {}),
    };
  },
};
