/**
 * Which Python runs the native/ worker, and how it is started. The first that exists: $TR118_PYTHON; a `.venv` in the
 * config's folder or the nearest folder above it (as uv and most editors find a project's environment); `python3`
 * on PATH. Nothing here imports torch: the worker itself says, at `open`, whether torch is there.
 */
import { accessSync, constants, existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { packageRoot } from '../paths.js';
import type { WorkerLaunch } from './process-backend.js';

/** The modules a native worker imports as it starts, before any request (`torch`: torch and transformers). */
export const PRELOAD_ENV = 'TR118_WORKER_PRELOAD';
/**
 * Where a Python worker keeps the byte code of its imports when its packages have none it can use (a `uv`-made
 * environment with PYTHONDONTWRITEBYTECODE set compiles torch and transformers in every worker of every run):
 * tr118_native/worker/bytecode.py. The pipeline gives `.python-bytecode` in the artifact cache; `off`: never.
 */
export const BYTECODE_ENV = 'TR118_PYTHON_BYTECODE';

export type PythonChoice =
  { readonly command: string; readonly from: 'TR118_PYTHON' | '.venv' | 'PATH' } | { readonly missing: string };

function isExecutableFile(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return statSync(file).isFile();
  } catch {
    return false;
  }
}

export function findPython(env: NodeJS.ProcessEnv, searchFrom: string): PythonChoice {
  const configured = env.TR118_PYTHON;
  if (configured !== undefined && configured !== '') {
    return isExecutableFile(configured)
      ? { command: configured, from: 'TR118_PYTHON' }
      : { missing: `TR118_PYTHON=${configured} is not an executable file` };
  }
  for (let dir = path.resolve(searchFrom); ; dir = path.dirname(dir)) {
    const venv = path.join(dir, '.venv', 'bin', 'python');
    if (existsSync(venv) && isExecutableFile(venv)) return { command: venv, from: '.venv' };
    if (path.dirname(dir) === dir) break;
  }
  for (const dir of (env.PATH ?? '').split(path.delimiter)) {
    if (dir !== '' && isExecutableFile(path.join(dir, 'python3')))
      return { command: path.join(dir, 'python3'), from: 'PATH' };
  }
  return {
    missing:
      'no Python found (TR118_PYTHON unset, no .venv at or above the config, no python3 on PATH): install Python ≥ 3.11 ' +
      'with what the backend needs (torch and transformers for pytorch; onnxruntime-gpu for ONNX Runtime on a GPU), ' +
      'or set TR118_PYTHON',
  };
}

/**
 * `python -m tr118_native.worker`, with this package's native/ on the import path, then `ahead` (a family's own
 * packages that must win over site-packages: the onnxruntime-gpu wheel `tr118 provision` unpacked), then PYTHONPATH.
 */
export function pythonWorkerLaunch(
  python: string,
  env: NodeJS.ProcessEnv,
  ahead: readonly (string | undefined)[] = [],
): WorkerLaunch {
  const native = path.join(packageRoot(), 'native');
  const paths = [native, ...ahead, env.PYTHONPATH].filter((p): p is string => !!p);
  return {
    command: python,
    args: ['-m', 'tr118_native.worker'],
    env: {
      PYTHONPATH: paths.join(path.delimiter),
      // stderr is the worker's log, read back on failure: unbuffered, so the last words before a crash are there.
      PYTHONUNBUFFERED: '1',
      ...(env[BYTECODE_ENV] !== undefined ? { [BYTECODE_ENV]: env[BYTECODE_ENV] } : {}),
    },
  };
}
