/** What a run is given, and the files it writes: shared by the phases of src/pipeline/. */
import path from 'node:path';
import { BYTECODE_ENV } from '../backends/native-worker.js';
import { defaultArtifactCacheDir, PYTHON_BYTECODE_DIR, type RemoteArtifactStore } from '../cache/store.js';
import { clockFromEnv, type Clock } from '../clock.js';
import type { Config } from '../config/load.js';
import type { CommandRunner } from '../env/command.js';
import type { BackendOptions, FactoryOptions } from '../engines/registry.js';
import type { MonotonicMs } from '../measure/phases.js';
import type { ProgressEvent } from '../measure/runner.js';

export const OUTPUT_FILES = {
  raw: 'results.jsonl',
  results: 'results.json',
  summary: 'summary.csv',
  manifest: 'manifest.json',
  report: 'report.md',
  /** The pictures: self-contained (charting library and data inline), opened without a network. */
  html: 'report.html',
  verdict: 'verdict.json',
} as const;

export type OutputFiles = Readonly<Record<keyof typeof OUTPUT_FILES, string>>;

/** The merged verdict of a split matrix (the Action's mode: merge), written instead of the files above. */
export const MERGED_FILE = 'merged.json';

/** Every file a run of any kind writes into its output folder: what a new run clears first. */
export const RUN_FILES: readonly string[] = [...Object.values(OUTPUT_FILES), MERGED_FILE];

/** The run's files in `outDir`. */
export function outputFiles(outDir: string): OutputFiles {
  return Object.fromEntries(
    Object.entries(OUTPUT_FILES).map(([key, name]) => [key, path.join(outDir, name)]),
  ) as Record<keyof typeof OUTPUT_FILES, string>;
}

export interface PipelineOptions {
  readonly config: Config;
  readonly outDir: string;
  /** True when --model replaced model.onnx (errors then name the flag, not the config key). */
  readonly modelFromFlag?: boolean;
  /** --base-model replaced compare.base_model. */
  readonly baseModelFromFlag?: boolean;
  /** --baseline: a results.json file, or the name of a stored baseline (replaces compare.baseline). */
  readonly baseline?: string | undefined;
  /** Where named baselines are stored (default: defaultStoreDir()). */
  readonly baselineStore?: string | undefined;
  readonly progress?: (event: ProgressEvent) => void;
  /** Something the user should know about this run (also kept in results.json `notes` and the report). */
  readonly warn?: (message: string) => void;
  readonly backendOptions?: BackendOptions;
  /** The measured repository, for the manifest's git commit. */
  readonly cwd?: string;
  /** The artifact cache (exports): --cache-dir / the Action's cache-dir, else $TR118_CACHE_DIR or the user's cache. */
  readonly cacheDir?: string | undefined;
  /** Files from this size up have their sha256 remembered by stat (cache/digest-memo.ts; tests lower it). */
  readonly digestMemoMinBytes?: number;
  /**
   * A store beside the local artifact cache that outlives the machine (the Action's `cache: actions`: src/action
   * hands in the GitHub Actions cache; a service failure is a warning). The CLI has none.
   */
  readonly remoteStore?: RemoteArtifactStore | undefined;
  /** Long work before the matrix (an export), in words. */
  readonly log?: (line: string) => void;
  /** The calendar: the run's start and end, raw records' times, cache stamps (default: clockFromEnv(env)). */
  readonly clock?: Clock;
  /** The monotonic clock that times the run's phases, results.json `phases` (default: performance.now()). */
  readonly monotonic?: MonotonicMs;
  /** How git and nvidia-smi are run (default: for real; tests hand in recorded output). */
  readonly commands?: CommandRunner;
}

export function envOf(options: PipelineOptions): NodeJS.ProcessEnv {
  return options.backendOptions?.env ?? process.env;
}

/**
 * The environment Python workers are launched from: the run's, with TR118_PYTHON_BYTECODE set to the artifact cache's
 * byte code folder unless it is set already (`off` included). No cache folder (no home): none.
 */
export function workerEnvOf(options: PipelineOptions): NodeJS.ProcessEnv {
  const env = envOf(options);
  if (env[BYTECODE_ENV] !== undefined) return env;
  let root: string;
  try {
    root = options.cacheDir ?? defaultArtifactCacheDir(env);
  } catch {
    return env;
  }
  return { ...env, [BYTECODE_ENV]: path.join(root, PYTHON_BYTECODE_DIR) };
}

/** TR118_EARLY_WORKERS=off: worker processes start with the matrix, not while the export runs (for measuring it). */
export const EARLY_WORKERS_ENV = 'TR118_EARLY_WORKERS';

/**
 * What decides which process a backend's worker runs (its Python, found from the config's folder; the test hooks),
 * the same when the pipeline starts it early (1-prepare.ts) and when the matrix creates the backend (2-measure.ts):
 * an early process is taken only by a backend whose launch is the same.
 */
export function workerContextOf(
  options: PipelineOptions,
  config: Config,
): BackendOptions & Pick<FactoryOptions, 'env' | 'pythonSearchFrom'> {
  return {
    ...options.backendOptions,
    env: workerEnvOf(options),
    pythonSearchFrom: options.backendOptions?.pythonSearchFrom ?? path.dirname(config.source),
  };
}

export function clockOf(options: PipelineOptions): Clock {
  return options.clock ?? clockFromEnv(envOf(options));
}

/**
 * The run's notes: what the user should know (a figure that may not mean what it seems), kept in results.json and
 * the report, and said as it happens.
 */
export interface Notes {
  readonly list: string[];
  add(message: string): void;
}

export function notesOf(options: PipelineOptions): Notes {
  const list: string[] = [];
  return {
    list,
    add(message) {
      if (list.includes(message)) return;
      list.push(message);
      options.warn?.(message);
    },
  };
}
