/**
 * The first phase of a run: everything that can fail before a worker starts. The models (an export of model.hf made
 * or found in the artifact cache, ONNX files and checkpoints checked and hashed), the token ids, a stored baseline,
 * and what the engine families make before the matrix (TensorRT engines). A bad input stops the run here, before
 * anything is measured.
 */
import { realpathSync } from 'node:fs';
import path from 'node:path';
import { findPython, pythonWorkerLaunch } from '../backends/native-worker.js';
import type { WorkerLaunch } from '../backends/process-backend.js';
import type { WorkerPool } from '../backends/worker-pool.js';
import { digestMemo, sha256File, type Sha256Of } from '../cache/digest-memo.js';
import { defaultArtifactCacheDir, DIGEST_MEMO_FILE, openArtifactStore, type ArtifactStore } from '../cache/store.js';
import { isSameRun, type Config } from '../config/load.js';
import type { ArtifactRecord, Preparation } from '../engines/family.js';
import {
  describeArtifact,
  familyOf,
  firstPassCompiles,
  needsPreparation,
  prepareBackends,
  workerLaunchOf,
} from '../engines/registry.js';
import { formatKeyPath, UsageError } from '../errors.js';
import { tokensNeeded } from '../measure/batches.js';
import { NO_PHASES, type PhaseClock } from '../measure/phases.js';
import { passShapes } from '../measure/plan.js';
import { resolveCheckpoints } from '../model/checkpoint.js';
import {
  describeExport,
  exportCheckpoint,
  noExportPython,
  withExportedModel,
  type ExportRecord,
} from '../model/onnx-export.js';
import {
  loadEvalTokens,
  readTokenFile,
  resolveBackendModels,
  resolveBaseModelFile,
  resolveModelFile,
  type EvalTokens,
  type ModelFile,
} from '../model/source.js';
import { defaultConfigPath, fixturePath } from '../paths.js';
import type { Results } from '../results/schema.js';
import { defaultStoreDir, loadBaseline } from '../results/store.js';
import {
  clockOf,
  EARLY_WORKERS_ENV,
  envOf,
  notesOf,
  workerContextOf,
  workerEnvOf,
  type Notes,
  type PipelineOptions,
} from './options.js';

/** Token ids from a file the config names, with the key that names it (errors point there). */
export interface TokenSource {
  readonly tokens: number[];
  readonly file: string;
  readonly keyPath: (string | number)[];
}

/** What the later phases need, all checked. */
export interface PreparedRun {
  /** The config, with model.onnx set to the export when model.hf was exported. */
  readonly config: Config;
  readonly notes: Notes;
  readonly exported: ExportRecord | undefined;
  readonly model: ModelFile;
  /** Other model files of the run (backends' own ONNX files, checkpoints), by path. */
  readonly backendModels: ReadonlyMap<string, ModelFile>;
  /** compare.base_model (or --base-model), checked and hashed. */
  readonly baseModelFile: ModelFile | undefined;
  /** The scenarios' rows are cut from these. */
  readonly input: TokenSource;
  readonly evalTokens: EvalTokens | undefined;
  /** The evaluated tokens (accuracy.max_tokens of them); undefined when accuracy is off. */
  readonly accuracyTokens: number[] | undefined;
  readonly baseline: { readonly file: string; readonly results: Results } | undefined;
  /** Why a configured baseline was dropped (compare.on_bad_baseline: no-baseline). */
  readonly baselineProblem: string | undefined;
  /** What the families made before the matrix, by backend name, and every record of it (both sides). */
  readonly prepared: ReadonlyMap<string, Preparation<ArtifactRecord>> | undefined;
  readonly artifacts: readonly ArtifactRecord[];
}

/**
 * `phases`: the time is the inputs' (hashing, tokens, baseline), but for the export and the engine builds. With a
 * `workerPool`, every backend's worker process starts first, and imports while the rest of this phase runs; the
 * caller closes the pool however the run ends (nothing started here outlives it).
 */
export async function prepareRun(
  options: PipelineOptions,
  phases: PhaseClock = NO_PHASES,
  workerPool?: WorkerPool,
): Promise<PreparedRun> {
  return phases.duringAsync('inputs', () => {
    if (workerPool) startWorkersEarly(options, workerPool);
    return prepareInputs(options, phases);
  });
}

/**
 * Starts the worker process of every backend that will have one, before the export, variants and engines their
 * models are: a process needs only its launch (its Python and what it imports), not its model. The backends take
 * them once created (2-measure.ts); a launch that no backend ends up using is killed when the pool closes.
 */
function startWorkersEarly(options: PipelineOptions, workerPool: WorkerPool): void {
  if (envOf(options)[EARLY_WORKERS_ENV] === 'off') return;
  const { config } = options;
  const context = {
    ...workerContextOf(options, config),
    openTimeoutMs: config.openTimeoutSeconds * 1000,
    baseModelPath: config.compare.baseModelPath,
    baseCheckpointPath: config.compare.baseHfPath,
  };
  for (const spec of config.backends) {
    const launch = workerLaunchOf(spec, context);
    if (launch) workerPool.prestart(launch);
  }
}

async function prepareInputs(options: PipelineOptions, phases: PhaseClock): Promise<PreparedRun> {
  const notes = notesOf(options);
  const sha256Of = inputDigests(options);
  // model.hf → ONNX first (or a cache hit): everything after measures the exported file as model.onnx.
  const exported = options.config.model.export
    ? await phases.duringAsync('export', () => exportModel(options, sha256Of))
    : undefined;
  const config = exported ? withExportedModel(options.config, exported.onnxPath) : options.config;
  const model = await resolveModelFile(
    config,
    options.modelFromFlag ?? false,
    exported ? { path: exported.onnxPath, sha256: exported.onnxSha256 } : undefined,
    sha256Of,
  );
  // Checkpoints (the backends that load one) are other models of this run, beside other ONNX files.
  const backendModels = new Map([
    ...(await resolveBackendModels(config, sha256Of)),
    ...(await resolveCheckpoints(config, sha256Of)),
  ]);
  const { input, evalTokens, accuracyTokens } = resolveTokens(config);
  const { baseline, baselineProblem } = readBaseline(options, config);
  // Checked (and hashed) before anything is measured; the hash goes into the base side's results.
  const baseModelFile = config.compare.baseModelPath
    ? await resolveBaseModelFile(config, options.baseModelFromFlag ?? false, sha256Of)
    : undefined;
  const models = [model, ...backendModels.values(), ...(baseModelFile ? [baseModelFile] : [])];
  await noteFixtureTokens(config, models, notes);
  noteUnwarmedCompiles(config, notes);
  const known = new Map(models.map((m) => [m.path, m.sha256]));
  const prepared = needsPreparation(config.backends)
    ? await phases.duringAsync('engineBuild', () =>
        prepareBackends(config.backends, {
          ...artifactMaker(options),
          sha256Of: async (file) => known.get(file) ?? (await sha256Of(file)),
          shapes: passShapes(config, accuracyTokens?.length ?? 0),
          calibrationTokens: accuracyTokens ?? input.tokens,
          baseModelPath: config.compare.baseModelPath,
          checkpointOf: (file) =>
            path.resolve(file) === path.resolve(config.model.onnxPath) ? config.model.hfPath : undefined,
          log: options.log,
        }),
      )
    : undefined;
  const artifacts = artifactsOf(config, prepared, notes, options.log);
  return {
    ...{ config, notes, exported, model, backendModels, baseModelFile, input, evalTokens, accuracyTokens },
    ...{ baseline, baselineProblem, prepared, artifacts },
  };
}

/**
 * The scenarios' rows: inputs.tokens, else the evaluation tokens, else the fixture's ids (InputTokensSource); and
 * the evaluated tokens. Too few of either is a config error naming the key.
 */
function resolveTokens(config: Config): Pick<PreparedRun, 'input' | 'evalTokens' | 'accuracyTokens'> {
  let evalTokens: EvalTokens | undefined;
  let input: TokenSource;
  if (config.inputTokens.from === 'accuracy') {
    evalTokens = loadEvalTokens(config);
    input = { tokens: evalTokens.tokens, file: evalTokens.file, keyPath: evalTokens.keyPath };
  } else {
    const keyPath = ['inputs', 'tokens'];
    const file = config.inputTokens.path;
    input = { tokens: readTokenFile(config, file, keyPath), file, keyPath };
  }
  for (const s of config.scenarios) {
    const needed = tokensNeeded(s.batch, s.seqLen);
    if (input.tokens.length < needed) {
      const used = config.inputTokens.from === 'accuracy' ? ' (inputs.tokens is not set: the scenarios use it)' : '';
      throw new UsageError(
        `config error: ${config.locate(['scenarios', s.name])}: scenarios.${s.name}: a ${s.batch}×${s.seqLen} batch of distinct rows needs ${needed} tokens; ${formatKeyPath(input.keyPath)} (${input.file}) has ${input.tokens.length}${used}`,
      );
    }
  }
  if (!config.accuracy.enabled) return { input, evalTokens, accuracyTokens: undefined };
  evalTokens ??= loadEvalTokens(config, input);
  const accuracyKey = evalTokens.keyPath;
  const accuracyTokens = evalTokens.tokens.slice(0, config.accuracy.maxTokens);
  if (accuracyTokens.length < 2) {
    throw new UsageError(
      `config error: ${config.locate(accuracyKey)}: ${formatKeyPath(accuracyKey)}: perplexity needs at least 2 tokens; got ${accuracyTokens.length}`,
    );
  }
  if (config.accuracy.windowTokens > accuracyTokens.length) {
    throw new UsageError(
      `config error: ${config.locate(['accuracy', 'window'])}: accuracy.window: expected at most the evaluated text's length (${accuracyTokens.length} tokens, after accuracy.max_tokens); got ${config.accuracy.windowTokens}`,
    );
  }
  return { input, evalTokens, accuracyTokens };
}

/** A stored baseline is read before anything is measured: a bad one fails fast (or is dropped, if configured). */
function readBaseline(options: PipelineOptions, config: Config): Pick<PreparedRun, 'baseline' | 'baselineProblem'> {
  const argument = options.baseline ?? config.compare.baselinePath;
  if (!argument || isSameRun(config)) return { baseline: undefined, baselineProblem: undefined };
  try {
    return { baseline: loadBaseline(argument, options.baselineStore ?? defaultStoreDir()), baselineProblem: undefined };
  } catch (error) {
    if (!(error instanceof UsageError) || config.compare.onBadBaseline === 'error') throw error;
    const baselineProblem = `${error.message}; compared with no baseline (compare.on_bad_baseline: no-baseline)`;
    return { baseline: undefined, baselineProblem };
  }
}

/**
 * The fixture's ids mean something to the fixture model only. Fed to another model because nobody chose other ids
 * (inputs.tokens not set, or the built-in default config with --model), that is said plainly; a user's config that
 * names them chose them.
 */
async function noteFixtureTokens(config: Config, models: readonly ModelFile[], notes: Notes): Promise<void> {
  const fixtureTokens = fixturePath('heldout.tokens.json');
  const idsByDefault = config.inputTokens.from === 'fixture' || sameFile(config.source, defaultConfigPath());
  if (!idsByDefault) return;
  const uses = [
    ...(config.inputTokens.from !== 'accuracy' && sameFile(config.inputTokens.path, fixtureTokens)
      ? ['the scenarios']
      : []),
    ...(config.accuracy.enabled &&
    config.accuracy.source.kind === 'tokens' &&
    sameFile(config.accuracy.source.path, fixtureTokens)
      ? ['the perplexity (meaningless for another tokenizer)']
      : []),
  ];
  if (uses.length === 0) return;
  const foreign = await modelsOtherThanFixture(models);
  if (foreign.length === 0) return;
  const why =
    config.inputTokens.from === 'fixture' ? ' (inputs.tokens is not set)' : ' (the built-in default config names them)';
  notes.add(
    `${uses.join(' and ')} use the bundled fixture's token ids${why}, made by the fixture model's tokenizer (${fixtureTokens}), ` +
      `but ${foreign.join(', ')} ${foreign.length === 1 ? 'is' : 'are'} not the fixture model: ` +
      'set inputs.tokens (and accuracy.tokens or accuracy.text) to text tokenized for this model',
  );
}

/**
 * `warmup: 0` with a backend that compiles at a shape's first pass: each cell's first repetition then times a compile
 * (seconds among milliseconds). Measured as asked, and said, since the per-repetition median hides it only mostly.
 */
function noteUnwarmedCompiles(config: Config, notes: Notes): void {
  if (config.warmup > 0) return;
  const compiling = config.backends.filter(firstPassCompiles).map((spec) => spec.name);
  if (compiling.length === 0) return;
  const they = compiling.length === 1 ? 'compiles' : 'compile';
  notes.add(
    `${config.locate(['warmup'])}: warmup is 0, but ${compiling.join(', ')} ${they} each new shape on its first pass, ` +
      "so that pass is a timed one (a compile's seconds among passes of milliseconds): set warmup to 1 or more",
  );
}

/** Every artifact the run uses (each backend's, and in same-run A/B its base's beside it), said in the log. */
function artifactsOf(
  config: Config,
  prepared: ReadonlyMap<string, Preparation<ArtifactRecord>> | undefined,
  notes: Notes,
  log: ((line: string) => void) | undefined,
): ArtifactRecord[] {
  const records = [...(prepared?.values() ?? [])].flatMap((p) =>
    'ready' in p ? [p.ready, ...(p.base ? [p.base] : [])] : [],
  );
  for (const record of records) {
    const spec = config.backends.find((b) => b.name === record.backend)!;
    const what = describeArtifact(spec, record);
    if (record.corrupt)
      notes.add(`the cached ${what.replace(/^the /, '')} was unusable and was rebuilt: ${record.corrupt}`);
    if (record.note) notes.add(`${what}: ${record.note}`);
    log?.(familyOf(spec).artifacts?.logLine(record) ?? what);
  }
  return records;
}

/** The artifact cache (exports and engines) and the native worker that makes what it misses. */
function artifactMaker(options: PipelineOptions): {
  readonly store: ArtifactStore;
  readonly launch: WorkerLaunch | { readonly missing: string };
} {
  const env = workerEnvOf(options);
  const store = runArtifactStore(options);
  if (options.backendOptions?.nativeWorker) return { store, launch: options.backendOptions.nativeWorker };
  const python = findPython(env, options.backendOptions?.pythonSearchFrom ?? path.dirname(options.config.source));
  return { store, launch: 'missing' in python ? python : pythonWorkerLaunch(python.command, env) };
}

/** The run's artifact store: --cache-dir or the default, with the Actions cache behind it when asked for. */
export function runArtifactStore(options: PipelineOptions): ArtifactStore {
  const env = envOf(options);
  return openArtifactStore({
    ...(options.cacheDir !== undefined ? { cacheDir: options.cacheDir } : {}),
    env,
    clock: clockOf(options),
    ...(options.remoteStore ? { remote: options.remoteStore } : {}),
    warn: (message) => options.warn?.(message),
    log: (line) => options.log?.(line),
  });
}

/** TR118_DIGEST_MEMO=off: every input file is hashed on every run. */
export const DIGEST_MEMO_ENV = 'TR118_DIGEST_MEMO';

/**
 * The sha256 of the files the config names (checkpoints, ONNX files), remembered by stat beside the artifact cache,
 * so an unchanged multi-GB checkpoint is not read again on every run (cache/digest-memo.ts). Without a cache folder
 * (no home) every file is hashed.
 */
function inputDigests(options: PipelineOptions): Sha256Of {
  const env = envOf(options);
  // Off for a filesystem whose inode or ctime cannot be trusted (some network mounts), and for measuring the memo.
  if (env[DIGEST_MEMO_ENV] === 'off') return sha256File;
  let root: string;
  try {
    root = options.cacheDir ?? defaultArtifactCacheDir(env);
  } catch {
    return sha256File;
  }
  return digestMemo({
    file: path.join(root, DIGEST_MEMO_FILE),
    ...(options.digestMemoMinBytes !== undefined ? { minBytes: options.digestMemoMinBytes } : {}),
  });
}

/** The export of model.hf through the artifact cache, with the Python the native workers use. */
async function exportModel(options: PipelineOptions, sha256Of: Sha256Of): Promise<ExportRecord> {
  const { config } = options;
  const { store, launch } = artifactMaker(options);
  const at = `${config.locate(['model', 'hf'])}: model.hf`;
  if ('missing' in launch) throw noExportPython(at, launch.missing);
  const record = await exportCheckpoint(config, {
    store,
    launch,
    at,
    sha256Of,
    ...(options.log ? { log: options.log } : {}),
  });
  if (record.corrupt) options.warn?.(`the cached ONNX export was unusable and was rebuilt: ${record.corrupt}`);
  options.log?.(describeExport(record));
  return record;
}

/** Whether two paths name the same file (through links); false if either cannot be resolved. */
function sameFile(a: string, b: string): boolean {
  try {
    return realpathSync(a) === realpathSync(b);
  } catch {
    return false;
  }
}

/** The files among `models` that are not the bundled fixture model (by content), for a warning. */
async function modelsOtherThanFixture(models: readonly ModelFile[]): Promise<string[]> {
  let fixtureSha256: string | undefined;
  try {
    fixtureSha256 = await sha256File(fixturePath('model.onnx'));
  } catch {
    // No fixture here: every model is another model.
  }
  return [...new Set(models.filter((m) => m.sha256 !== fixtureSha256).map((m) => m.path))];
}
