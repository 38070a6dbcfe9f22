/** Backend construction: one place that knows which engine family runs where. */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { providerUnavailableReason, pythonProviderUnavailableReason } from './onnxruntime/availability.js';
import type { BackendSpec } from './presets.js';
import { ProcessBackend, type WorkerLaunch } from './process-backend.js';
import { findPython, pythonWorkerLaunch } from './pytorch/python.js';
import type { Backend } from './types.js';
import type { EnginePreparation } from '../artifacts/tensorrt-engine.js';

/**
 * A backend to open, or why there is none: unavailable (cannot run on this machine), degraded (asked to run, but what
 * it needs could not be made: a TensorRT engine whose build failed).
 */
export type CreatedBackend =
  { readonly backend: Backend } | { readonly unavailable: string } | { readonly degraded: string };

/** The ONNX Runtime worker: the TypeScript source under tsx (tests), or the bundled file beside dist/cli.js. */
export function ortWorkerLaunch(): WorkerLaunch {
  const here = fileURLToPath(import.meta.url);
  const script = here.endsWith('.ts')
    ? ['--import', 'tsx', path.join(path.dirname(here), 'onnxruntime', 'worker.ts')]
    : [path.join(path.dirname(here), 'ort-worker.js')];
  return { command: process.execPath, args: script };
}

export interface BackendFactoryOptions {
  /** Replaces the ONNX Runtime worker (tests use a worker that hangs). */
  readonly ortWorker?: WorkerLaunch;
  /** Same-run A/B: each onnxruntime backend's worker also opens this base model. */
  readonly baseModelPath?: string | undefined;
  /** Same-run A/B: each pytorch backend's worker also opens this base checkpoint (compare.base_hf). */
  readonly baseCheckpointPath?: string | undefined;
  /** Where the search for a project's .venv starts (the config's folder). */
  readonly pythonSearchFrom?: string;
  /** Replaces the native worker's launch (tests use workers that misbehave). */
  readonly nativeWorker?: WorkerLaunch;
  readonly env?: NodeJS.ProcessEnv;
  /**
   * The tensorrt backends' engines, by backend name, as the pipeline prepared them before the matrix
   * (artifacts/tensorrt-engine.ts): the engine file the worker opens, or why there is none.
   */
  readonly tensorrtEngines?: ReadonlyMap<string, EnginePreparation>;
}

const env = (options: BackendFactoryOptions): NodeJS.ProcessEnv => options.env ?? process.env;

export function createBackend(spec: BackendSpec, options: BackendFactoryOptions = {}): CreatedBackend {
  switch (spec.engine) {
    case 'onnxruntime': {
      if (spec.worker === 'python') {
        // The Python package brings its own providers (a provisioned onnxruntime-gpu wheel, or one installed in the
        // worker's Python): the worker itself says at open whether the provider is there and the GPU is usable.
        if (options.nativeWorker) {
          return { backend: new ProcessBackend(spec, options.nativeWorker, options.baseModelPath) };
        }
        const reason = pythonProviderUnavailableReason(spec.provider ?? 'cpu', env(options));
        if (reason) return { unavailable: reason };
        const python = findPython(env(options), options.pythonSearchFrom ?? process.cwd());
        if ('missing' in python) return { unavailable: python.missing };
        return {
          backend: new ProcessBackend(spec, pythonWorkerLaunch(python.command, env(options)), options.baseModelPath),
        };
      }
      const reason = providerUnavailableReason(spec.provider ?? 'cpu');
      if (reason) return { unavailable: reason };
      return { backend: new ProcessBackend(spec, options.ortWorker ?? ortWorkerLaunch(), options.baseModelPath) };
    }
    case 'tensorrt': {
      // The engine was built (or found in the artifact cache) before the matrix; the Python worker opens that file.
      const prepared = options.tensorrtEngines?.get(spec.name);
      if (!prepared) {
        return {
          unavailable: 'no TensorRT engine was prepared for this backend (tr118 run builds them before the matrix)',
        };
      }
      if (!('ready' in prepared)) return prepared;
      const engineSpec = { ...spec, modelPath: prepared.ready.enginePath };
      // Same-run A/B: the base model's engine, opened beside the candidate's in the same worker.
      const baseEngine = prepared.base?.enginePath;
      if (options.nativeWorker) return { backend: new ProcessBackend(engineSpec, options.nativeWorker, baseEngine) };
      const python = findPython(env(options), options.pythonSearchFrom ?? process.cwd());
      if ('missing' in python) return { unavailable: python.missing };
      return { backend: new ProcessBackend(engineSpec, pythonWorkerLaunch(python.command, env(options)), baseEngine) };
    }
    case 'pytorch': {
      if (options.nativeWorker) {
        return { backend: new ProcessBackend(spec, options.nativeWorker, options.baseCheckpointPath) };
      }
      const python = findPython(env(options), options.pythonSearchFrom ?? process.cwd());
      if ('missing' in python) return { unavailable: python.missing };
      return {
        backend: new ProcessBackend(spec, pythonWorkerLaunch(python.command, env(options)), options.baseCheckpointPath),
      };
    }
  }
}
