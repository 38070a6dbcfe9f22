/** Backend construction: one place that knows which engine family runs where. */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { providerUnavailableReason, pythonProviderUnavailableReason } from './onnxruntime/availability.js';
import type { BackendSpec } from './presets.js';
import { ProcessBackend, type WorkerLaunch } from './process-backend.js';
import { findPython, pythonWorkerLaunch } from './pytorch/python.js';
import type { Backend } from './types.js';

export type BackendOrUnavailable = { readonly backend: Backend } | { readonly unavailable: string };

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
}

const env = (options: BackendFactoryOptions): NodeJS.ProcessEnv => options.env ?? process.env;

export function createBackend(spec: BackendSpec, options: BackendFactoryOptions = {}): BackendOrUnavailable {
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
    case 'tensorrt':
      return {
        unavailable:
          `native TensorRT ${spec.precision} engines are not run by this version: the native/ TensorRT worker's ` +
          'builder (tr118_native/worker/trt_engine.py) is written but not wired into tr118 run, and has never run ' +
          '(TensorRT cannot be installed on the machines it was made on); for fp32 TensorRT use the backend ' +
          'onnxruntime-tensorrt',
      };
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
