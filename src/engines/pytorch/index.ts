/**
 * The pytorch family: a Hugging Face checkpoint (model.hf, or the backend's own folder) in PyTorch, in the native
 * Python worker (tr118_native/worker/torch_engine.py), on the CPU or a CUDA GPU, eager or through torch.compile.
 */
import { z } from 'zod';
import { findPython, PRELOAD_ENV, pythonWorkerLaunch } from '../../backends/native-worker.js';
import { ProcessBackend, type WorkerLaunch } from '../../backends/process-backend.js';
import type { SessionInfo } from '../../backends/protocol.js';
import type { EngineFamily } from '../family.js';
import { commonSpecShape, DEFAULT_BACKEND_SETTINGS } from '../spec.js';
import { COMPILE_CACHE_KIND, compileCacheHooks, machineFacts } from './compile-cache.js';

export const TORCH_DEVICES = ['cpu', 'cuda'] as const;
export const TORCH_DTYPES = ['fp32', 'fp16', 'bf16'] as const;
export const COMPILE_MODES = ['off', 'default', 'reduce-overhead', 'max-autotune'] as const;
/** transformers' attention implementations a checkpoint can be loaded with (absent: transformers chooses, sdpa). */
export const ATTENTION_IMPLEMENTATIONS = ['sdpa', 'eager'] as const;

export const torchSpecSchema = z.object({
  ...commonSpecShape,
  engine: z.literal('pytorch'),
  /** Where the checkpoint runs. */
  device: z.enum(TORCH_DEVICES),
  /** torch.compile's mode, or off. */
  compile: z.enum(COMPILE_MODES),
  /** The Hugging Face checkpoint folder (model.hf, or the backend's own `model`). */
  checkpointPath: z.string(),
  /** Pickled *.bin weights may be loaded (model.trust_pickle). */
  trustPickle: z.boolean(),
  /** Weight names (shell patterns) the checkpoint may lack, add or reshape (model.allowed_weight_differences). */
  allowedWeightDifferences: z.array(z.string()),
  /** The attention implementation to load the checkpoint with; absent: transformers' own choice. */
  attention: z.enum(ATTENTION_IMPLEMENTATIONS).optional(),
});
export type TorchSpec = Readonly<z.infer<typeof torchSpecSchema>>;

/** The seed's "compiled" baseline never compiled: a compile asked for and not reported is not a compiled figure. */
function compileProblem(spec: TorchSpec, session: SessionInfo): string | undefined {
  if (spec.compile === 'off' || session.compileMs !== undefined) return undefined;
  return `torch.compile(mode=${spec.compile}) was asked for, but the worker reports no compile: its figures would be eager ones`;
}

/**
 * What the native worker prepares as soon as it starts, before its open request (tr118_native/worker/__main__.py):
 * torch and transformers' imports (seconds), torch.compile's (`compile`), and on a GPU the device's CUDA context
 * (`cuda:N`). The runner starts every worker at once and opens them one device queue at a time, so this work
 * overlaps instead of queueing.
 */
export function torchPreload(spec: Pick<TorchSpec, 'device' | 'deviceId' | 'compile'>): string {
  return [
    'torch',
    ...(spec.compile !== 'off' ? ['compile'] : []),
    ...(spec.device === 'cuda' ? [`cuda:${spec.deviceId}`] : []),
  ].join(',');
}

function torchWorkerLaunch(python: string, env: NodeJS.ProcessEnv, spec: TorchSpec): WorkerLaunch {
  const launch = pythonWorkerLaunch(python, env);
  return { ...launch, env: { ...launch.env, [PRELOAD_ENV]: torchPreload(spec) } };
}

export const pytorch: EngineFamily<TorchSpec> = {
  name: 'pytorch',
  specSchema: torchSpecSchema,
  configKeys: {
    /** cpu or cuda. */
    device: z.enum(TORCH_DEVICES).optional(),
    /** The dtype the checkpoint is loaded in; picks the accuracy threshold as precision does. */
    dtype: z.enum(TORCH_DTYPES).optional(),
    /** torch.compile's mode, or off (eager). */
    compile: z.enum(COMPILE_MODES).optional(),
    /** transformers' attention implementation: sdpa (scaled_dot_product_attention) or eager (its own matmuls). */
    attention: z.enum(ATTENTION_IMPLEMENTATIONS).optional(),
  },
  // The seed's Hugging Face transformers backends.
  presets: {
    'transformers-cpu': { engine: 'pytorch', device: 'cpu', compile: 'off' },
    'transformers-gpu': { engine: 'pytorch', device: 'cuda', compile: 'off' },
    'transformers-gpu-compile': { engine: 'pytorch', device: 'cuda', compile: 'default' },
    // bf16 on the GPU, gated by the bf16 perplexity threshold (thresholds.perplexity_delta_fraction.bf16).
    'transformers-gpu-bf16': { engine: 'pytorch', device: 'cuda', compile: 'off', dtype: 'bf16' },
  },
  sameRunBase: 'base_hf',

  resolve(entry, ctx) {
    if (entry.precision !== undefined) {
      ctx.fail(
        ['backends', ctx.index, 'precision'],
        `a pytorch backend's precision is its dtype: write dtype: ${entry.precision} (fp32, fp16 or bf16)`,
      );
    }
    const checkpointPath =
      entry.model !== undefined
        ? ctx.resolvePath(entry.model)
        : (ctx.hfPath ??
          ctx.fail(
            ['model', 'hf'],
            `required by backend ${JSON.stringify(entry.name)} (engine pytorch, at backends[${ctx.index}]): expected the Hugging Face checkpoint folder (config.json + *.safetensors) that model.onnx was exported from`,
          ));
    return {
      name: entry.name,
      engine: 'pytorch',
      precision: (entry.dtype as TorchSpec['precision'] | undefined) ?? 'fp32',
      device: (entry.device as TorchSpec['device'] | undefined) ?? 'cpu',
      compile: (entry.compile as TorchSpec['compile'] | undefined) ?? 'off',
      deviceId: entry.device_id ?? DEFAULT_BACKEND_SETTINGS.deviceId,
      intraOpThreads: entry.intra_op_threads ?? DEFAULT_BACKEND_SETTINGS.intraOpThreads,
      interOpThreads: entry.inter_op_threads ?? DEFAULT_BACKEND_SETTINGS.interOpThreads,
      modelPath: ctx.onnxPath,
      logitsOutput: ctx.logitsOutput,
      checkpointPath,
      trustPickle: ctx.trustPickle,
      allowedWeightDifferences: [...ctx.allowedWeightDifferences],
      ...(entry.attention !== undefined ? { attention: entry.attention as TorchSpec['attention'] } : {}),
    };
  },

  create(spec, ctx) {
    const python = ctx.nativeWorker ? undefined : findPython(ctx.env, ctx.pythonSearchFrom);
    if (python && 'missing' in python) return { unavailable: python.missing };
    const launch = ctx.nativeWorker ?? torchWorkerLaunch(python!.command, ctx.env, spec);
    // torch.compile's caches, when there is a store and the checkpoints were hashed (compile-cache.ts).
    const candidateSha256 = ctx.checkpointSha256?.get(spec.checkpointPath);
    const facts = ctx.compileCacheFacts ?? (python ? machineFacts(python.command) : undefined);
    const cache =
      spec.compile !== 'off' && ctx.artifactStore && candidateSha256 !== undefined && facts
        ? compileCacheHooks(
            spec,
            {
              candidateSha256,
              baseSha256: ctx.base !== undefined ? ctx.checkpointSha256?.get(ctx.base) : undefined,
            },
            ctx.artifactStore,
            facts,
          )
        : {};
    const options = {
      baseModelPath: ctx.base,
      openTimeoutMs: ctx.openTimeoutMs,
      checkOpened: (info: SessionInfo) => compileProblem(spec, info),
      pool: ctx.workerPool,
      ...cache,
    };
    return { backend: new ProcessBackend(spec, launch, options) };
  },

  // Needs only the checkpoint's Python: torch and transformers import while the export runs.
  workerLaunch(spec, ctx) {
    if (ctx.nativeWorker) return ctx.nativeWorker;
    const python = findPython(ctx.env, ctx.pythonSearchFrom);
    return 'missing' in python ? undefined : torchWorkerLaunch(python.command, ctx.env, spec);
  },

  checkOpened: compileProblem,

  sessionKinds: [COMPILE_CACHE_KIND],

  // Whether torch.compile's cache from an earlier run was used at open (compile-cache.ts): a hit shortens the open,
  // it never changes what is measured.
  sessionNotes: {
    heading: "torch.compile's cache at open (a hit shortens the open; the compiled model and its figures are the same)",
    note: (session) =>
      session.compileCache
        ? `compile cache: ${session.compileCache}, compile ${((session.compileMs ?? 0) / 1000).toFixed(1)} s` +
          lookupsNote(session.compileCacheLookups) +
          (session.compileCacheNote ? ` (${session.compileCacheNote})` : '')
        : undefined,
  },

  checkpointOf: (spec) => spec.checkpointPath,

  // torch.compile traces and compiles at a shape's first call (the open's probe covers a batch of 1 only).
  firstPassCompiles: (spec) => spec.compile !== 'off',

  openQueue: (spec) => (spec.device === 'cuda' ? `cuda:${spec.deviceId}` : undefined),

  settings: (spec) =>
    `${spec.device}${spec.compile === 'off' ? ', eager' : `, torch.compile ${spec.compile}`}` +
    (spec.attention ? `, ${spec.attention} attention` : ''),

  comparability(spec, session) {
    const said = session?.environment ?? {};
    return {
      torchVersion: said.torch ?? '',
      transformersVersion: said.transformers ?? '',
      device: spec.device,
      // CUDA and cuDNN builds choose the kernels a GPU runs.
      ...(spec.device === 'cuda' ? { cudaVersion: said.cuda ?? '', cudnnVersion: said.cudnn ?? '' } : {}),
      dtype: spec.precision,
      compile: spec.compile,
      // How the compiled graphs are shaped (the worker says): which graph a scenario runs changes its figure.
      ...(spec.compile !== 'off' ? { compileShapes: session?.compileShapes ?? '' } : {}),
      // The implementation the loaded model uses (the worker reads it back), and on a GPU whether fp32 matmuls may
      // run in TF32: both change the kernels a pass runs.
      attention: said.attention ?? spec.attention ?? '',
      ...(spec.device === 'cuda' ? { tf32: said.tf32 ?? '' } : {}),
      intraOpThreads: spec.intraOpThreads,
      interOpThreads: spec.interOpThreads,
    };
  },

  isAccuracyTruth: (spec) => spec.device === 'cpu' && spec.precision === 'fp32',
};

/** "; Inductor graphs 2 of 3 from the cache": what torch found of the loaded entry while it compiled at open. */
function lookupsNote(lookups: SessionInfo['compileCacheLookups']): string {
  if (!lookups) return '';
  const graphs = lookups.inductorHits + lookups.inductorMisses;
  return graphs === 0
    ? '; no Inductor graph looked up'
    : `; Inductor graphs ${lookups.inductorHits} of ${graphs} from the cache`;
}
