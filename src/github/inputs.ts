/**
 * The Action's inputs, read once into one validated, readonly object. Errors quote the input and its value.
 * Input names live here only (action.yml declares the same names; a test checks they agree).
 */
import { UsageError } from '../errors.js';
import { DEFAULT_FAIL_ON, FAIL_ON, type FailOn } from '../gate/verdict.js';
import { ORT_GPU_MODES, type OrtGpuMode } from '../engines/onnxruntime/provision/pins.js';
import { partIdentities, type PartIdentity } from '../results/merge.js';
import { FORK_TRIGGERS, type ForkTrigger } from './event.js';

export const INPUTS = {
  config: 'config',
  model: 'model',
  baseline: 'baseline',
  baselineStore: 'baseline-store',
  githubToken: 'github-token',
  mode: 'mode',
  comment: 'comment',
  failOn: 'fail-on',
  cache: 'cache',
  cacheDir: 'cache-dir',
  workingDirectory: 'working-directory',
  allowForks: 'allow-forks',
  out: 'out',
  results: 'results',
  allowPartDifferences: 'allow-part-differences',
  onnxruntimeGpu: 'onnxruntime-gpu',
  onnxruntimeCuda12Sha256: 'onnxruntime-cuda12-sha256',
  reportArtifact: 'report-artifact',
} as const;

export const OUTPUTS = {
  verdict: 'verdict',
  reportPath: 'report-path',
  resultsPath: 'results-path',
  regressions: 'regressions',
  commentUrl: 'comment-url',
} as const;

export interface ActionInputs {
  readonly config: string | undefined;
  readonly model: string | undefined;
  /** A results.json path, `branch` (the base branch's stored result), or `none`. */
  readonly baseline:
    { readonly kind: 'none' } | { readonly kind: 'branch' } | { readonly kind: 'file'; readonly path: string };
  readonly baselineStore: string | undefined;
  readonly githubToken: string | undefined;
  readonly mode: 'gate' | 'baseline' | 'merge';
  readonly comment: 'always' | 'on-change' | 'never';
  /** The least severe verdict that fails the step and sets a failure status (the CLI's --fail-on: one rule). */
  readonly failOn: FailOn;
  readonly cache: 'local' | 'actions' | 'off';
  /** The artifact cache folder (ONNX exports, TensorRT engines); default $TR118_CACHE_DIR or the user's cache folder. */
  readonly cacheDir: string | undefined;
  readonly workingDirectory: string | undefined;
  /**
   * The events on which a fork's code may run (github/event.ts forkRefusal): none by default; `true` is
   * pull_request alone, since pull_request_target and workflow_run hand the job secrets and must be named.
   */
  readonly allowForks: readonly ForkTrigger[];
  readonly out: string;
  /** mode merge: results.json paths or glob patterns of the parts (one per line or comma-separated). */
  readonly results: readonly string[];
  /** mode merge: what the parts may differ in (results/merge.ts PART_IDENTITY); default nothing. */
  readonly allowPartDifferences: readonly PartIdentity[];
  /** ONNX Runtime's GPU provider libraries: auto (a cuda/tensorrt backend and a GPU), off, or a forced build. */
  readonly onnxruntimeGpu: OrtGpuMode;
  /** The user's pin of the CUDA 12 NuGet package (tr118 pins none for it). */
  readonly onnxruntimeCuda12Sha256: string | undefined;
  /**
   * The name a later actions/upload-artifact step gives the output folder: the PR comment then links the run's
   * artifacts for report.html (the Action cannot know what a later step uploads, so it is told).
   */
  readonly reportArtifact: string | undefined;
}

function oneOf<T extends string>(get: (name: string) => string, name: string, allowed: readonly T[], fallback: T): T {
  const value = get(name).trim();
  if (value === '') return fallback;
  if ((allowed as readonly string[]).includes(value)) return value as T;
  throw new UsageError(`input ${name}: expected one of ${allowed.join(', ')}; got ${JSON.stringify(value)}`);
}

function optional(get: (name: string) => string, name: string): string | undefined {
  const value = get(name).trim();
  return value === '' ? undefined : value;
}

/** allow-forks: true, false, or the events named (comma- or newline-separated). */
function forkTriggers(text: string): ForkTrigger[] {
  const value = text.trim();
  if (value === '' || value === 'false') return [];
  if (value === 'true') return ['pull_request'];
  const names = value
    .split(/[\n,]/)
    .map((n) => n.trim())
    .filter((n) => n !== '');
  for (const name of names) {
    if (!(FORK_TRIGGERS as readonly string[]).includes(name)) {
      throw new UsageError(
        `input ${INPUTS.allowForks}: expected true, false, or events among ${FORK_TRIGGERS.join(', ')} ` +
          `(comma-separated); got ${JSON.stringify(name)}`,
      );
    }
  }
  return FORK_TRIGGERS.filter((t) => names.includes(t));
}

/** `get` returns '' for an input that was not given (as @actions/core getInput does). */
export function parseInputs(get: (name: string) => string): ActionInputs {
  const baseline = optional(get, INPUTS.baseline) ?? 'none';
  const allowForks = forkTriggers(get(INPUTS.allowForks));
  const mode = oneOf(get, INPUTS.mode, ['gate', 'baseline', 'merge'], 'gate');
  const cache = oneOf(get, INPUTS.cache, ['local', 'actions', 'off'], 'local');
  const results = (optional(get, INPUTS.results) ?? '')
    .split(/[\n,]/)
    .map((p) => p.trim())
    .filter((p) => p !== '');
  if (mode === 'merge' && results.length === 0) {
    throw new UsageError(`input ${INPUTS.results}: mode "merge" needs the parts' results.json files (paths or globs)`);
  }
  if (mode !== 'merge' && results.length > 0) {
    throw new UsageError(`input ${INPUTS.results}: only read with mode "merge" (mode is "${mode}")`);
  }
  // cache: off stores nothing, so nothing that needs a stored baseline can work: say so before measuring.
  if (cache === 'off' && mode === 'baseline') {
    throw new UsageError(
      `input ${INPUTS.mode}: "${mode}" stores a baseline, but ${INPUTS.cache} is "off" (use local or actions)`,
    );
  }
  if (cache === 'off' && baseline === 'branch') {
    throw new UsageError(
      `input ${INPUTS.baseline}: "branch" reads a stored baseline, but ${INPUTS.cache} is "off" (use local or actions)`,
    );
  }
  const cuda12Sha256 = optional(get, INPUTS.onnxruntimeCuda12Sha256)?.toLowerCase();
  if (cuda12Sha256 !== undefined && !/^[0-9a-f]{64}$/.test(cuda12Sha256)) {
    throw new UsageError(
      `input ${INPUTS.onnxruntimeCuda12Sha256}: expected a sha256 (64 hex digits); got ${JSON.stringify(cuda12Sha256)}`,
    );
  }
  return {
    config: optional(get, INPUTS.config),
    model: optional(get, INPUTS.model),
    baseline:
      baseline === 'none'
        ? { kind: 'none' }
        : baseline === 'branch'
          ? { kind: 'branch' }
          : { kind: 'file', path: baseline },
    baselineStore: optional(get, INPUTS.baselineStore),
    githubToken: optional(get, INPUTS.githubToken),
    mode,
    comment: oneOf(get, INPUTS.comment, ['always', 'on-change', 'never'], 'always'),
    failOn: oneOf(get, INPUTS.failOn, FAIL_ON, DEFAULT_FAIL_ON),
    cache,
    cacheDir: optional(get, INPUTS.cacheDir),
    workingDirectory: optional(get, INPUTS.workingDirectory),
    allowForks,
    out: optional(get, INPUTS.out) ?? 'tr118-results',
    results,
    allowPartDifferences: partIdentities(
      optional(get, INPUTS.allowPartDifferences),
      `input ${INPUTS.allowPartDifferences}`,
    ),
    onnxruntimeGpu: oneOf(get, INPUTS.onnxruntimeGpu, ORT_GPU_MODES, 'auto'),
    onnxruntimeCuda12Sha256: cuda12Sha256,
    reportArtifact: optional(get, INPUTS.reportArtifact),
  };
}
