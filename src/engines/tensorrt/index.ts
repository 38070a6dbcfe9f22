/**
 * The tensorrt family: an ONNX file built into a TensorRT engine before the matrix (engines.ts: probe, key, build or
 * a cache hit), which the native Python worker opens (tr118_native/worker/trt_engine.py).
 *
 * NEVER RUN against a real TensorRT: it cannot be installed on the machines this was made on (docs/artifact-cache.md "TensorRT engines").
 * Everything here is tested with the real artifact store and a stand-in worker; what the worker does with TensorRT
 * itself is written against the documented API.
 */
import { findPython, pythonWorkerLaunch } from '../../backends/native-worker.js';
import { ProcessBackend } from '../../backends/process-backend.js';
import { num } from '../../format.js';
import type { EngineFamily } from '../family.js';
import { DEFAULT_BACKEND_SETTINGS } from '../spec.js';
import { describeEngine, engineRecordSchema, prepareEngines, type EngineRecord } from './prepare.js';
import { ENGINE_KIND } from './key.js';
import { trtSpecSchema, type TrtSpec } from './spec.js';

function cacheCell(cache: EngineRecord['cache'], ms: number): string {
  return cache === 'built' ? 'miss' : `${cache} (saved ${num(ms / 1000)} s)`;
}

export const tensorrt: EngineFamily<TrtSpec, EngineRecord> = {
  name: 'tensorrt',
  specSchema: trtSpecSchema,
  configKeys: {},
  presets: {
    'tensorrt-fp32': { engine: 'tensorrt', precision: 'fp32' },
    'tensorrt-fp16': { engine: 'tensorrt', precision: 'fp16' },
    'tensorrt-int8': { engine: 'tensorrt', precision: 'int8' },
  },
  // The base model's engine is built from the base ONNX file.
  sameRunBase: 'base_model',

  resolve(entry, ctx) {
    if (entry.precision === 'bf16') {
      ctx.fail(['backends', ctx.index, 'precision'], 'a TensorRT engine is built at fp32, fp16 or int8; got bf16');
    }
    return {
      name: entry.name,
      engine: 'tensorrt',
      precision: entry.precision ?? 'fp32',
      deviceId: entry.device_id ?? DEFAULT_BACKEND_SETTINGS.deviceId,
      intraOpThreads: entry.intra_op_threads ?? DEFAULT_BACKEND_SETTINGS.intraOpThreads,
      interOpThreads: entry.inter_op_threads ?? DEFAULT_BACKEND_SETTINGS.interOpThreads,
      modelPath: entry.model !== undefined ? ctx.resolvePath(entry.model) : ctx.onnxPath,
      logitsOutput: ctx.logitsOutput,
    };
  },

  prepare: prepareEngines,

  openQueue: (spec) => `cuda:${spec.deviceId}`,

  settings: (spec) => `a TensorRT engine of ${spec.modelPath.split('/').pop() ?? spec.modelPath}`,

  create(spec, ctx, prepared) {
    // The engine was built (or found in the artifact cache) before the matrix; the Python worker opens that file.
    if (!prepared) {
      return {
        unavailable: 'no TensorRT engine was prepared for this backend (tr118 run builds them before the matrix)',
      };
    }
    if (!('ready' in prepared)) return prepared;
    // The worker opens the engine file where the spec names its model.
    const engineSpec: TrtSpec = { ...spec, modelPath: prepared.ready.enginePath };
    // Same-run A/B: the base model's engine, opened beside the candidate's in the same worker.
    const options = {
      baseModelPath: prepared.base?.enginePath,
      openTimeoutMs: ctx.openTimeoutMs,
      pool: ctx.workerPool,
    };
    if (ctx.nativeWorker) return { backend: new ProcessBackend(engineSpec, ctx.nativeWorker, options) };
    const python = findPython(ctx.env, ctx.pythonSearchFrom);
    if ('missing' in python) return { unavailable: python.missing };
    return { backend: new ProcessBackend(engineSpec, pythonWorkerLaunch(python.command, ctx.env), options) };
  },

  // The worker process (Python and the protocol) starts while the engine builds; it opens the engine once built.
  workerLaunch(_spec, ctx) {
    if (ctx.nativeWorker) return ctx.nativeWorker;
    const python = findPython(ctx.env, ctx.pythonSearchFrom);
    return 'missing' in python ? undefined : pythonWorkerLaunch(python.command, ctx.env);
  },

  comparability(spec, session, engine) {
    const shape = (s: readonly number[]): string => s.join('x');
    return {
      tensorrtVersion: engine?.tensorrtVersion ?? session?.runtimeVersion ?? '',
      precision: spec.precision,
      // The kernels TensorRT chose depend on how the precision was reached, the profile and the builder settings.
      precisionPath: engine?.precisionPath ?? '',
      profile: engine ? `${shape(engine.profile.min)}/${shape(engine.profile.opt)}/${shape(engine.profile.max)}` : '',
      builder: engine
        ? Object.entries(engine.builder)
            .sort(([a], [b]) => a.localeCompare(b))
            .map(([key, value]) => `${key}=${value}`)
            .join(',')
        : '',
    };
  },

  artifacts: {
    resultsKey: 'engines',
    kind: ENGINE_KIND,
    recordSchema: engineRecordSchema,
    describe: (e) => `the TensorRT engine of ${e.backend}${e.side === 'base' ? ' for the base model' : ''}`,
    logLine: describeEngine,
    table(engines) {
      if (engines.length === 0) return null;
      const shape = (s: readonly number[]): string => s.join('×');
      return {
        title: 'TensorRT engines',
        note: 'one optimization profile each, batch×sequence, for input_ids and attention_mask',
        header: [
          'Backend',
          'precision path',
          'engine MB',
          'build s',
          'profile min / opt / max',
          'TensorRT',
          'GPU (compute capability)',
          'cache',
        ],
        rows: engines.map((e) => [
          e.side === 'base' ? `${e.backend} (base model)` : e.backend,
          e.precisionPath,
          num(e.bytes / 1e6),
          num(e.buildMs / 1000),
          `${shape(e.profile.min)} / ${shape(e.profile.opt)} / ${shape(e.profile.max)}`,
          e.tensorrtVersion,
          `${e.gpu} (${e.computeCapability})`,
          cacheCell(e.cache, e.buildMs),
        ]),
      };
    },
  },
};
