/**
 * One run, from a validated config to the files in the output folder. Everything the CLI and the Action share;
 * knows nothing of GitHub or of terminals (progress goes to a callback).
 */
import { appendFileSync, realpathSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { clockFromEnv, type Clock } from './clock.js';
import {
  describeExport,
  exportCheckpoint,
  noExportPython,
  withExportedModel,
  type ExportRecord,
} from './model/onnx-export.js';
import type { ArtifactRecord } from './engines/family.js';
import {
  describeArtifact,
  familyOf,
  needsPreparation,
  prepareBackends,
  type BackendOptions,
} from './engines/registry.js';
import {
  defaultArtifactCacheDir,
  DIGEST_MEMO_FILE,
  openArtifactStore,
  type ArtifactStore,
  type RemoteArtifactStore,
} from './cache/store.js';
import type { WorkerLaunch } from './backends/process-backend.js';
import { findPython, pythonWorkerLaunch } from './backends/native-worker.js';
import type { Config } from './config/load.js';
import { isSameRun } from './config/load.js';
import { collectEnvironment, collectGitState } from './env/collect.js';
import { formatKeyPath, UsageError } from './errors.js';
import { tokensNeeded } from './measure/batches.js';
import { checkLogitsMemory, memoryBudget } from './measure/memory.js';
import { passShapes, plannedPasses } from './measure/plan.js';
import { measureMatrix, type ProgressEvent } from './measure/runner.js';
import {
  baseModelWhere,
  checkTokensInVocab,
  loadEvalTokens,
  readTokenFile,
  resolveBackendModels,
  resolveBaseModelFile,
  resolveModelFile,
  type EvalTokens,
  type ModelFile,
} from './model/source.js';
import { defaultConfigPath, fixturePath } from './paths.js';
import { resolveCheckpoints } from './model/checkpoint.js';
import { digestMemo, sha256File, type Sha256Of } from './cache/digest-memo.js';
import { renderSummaryCsv } from './report/csv.js';
import { buildManifest } from './report/manifest.js';
import { renderHtml } from './report/html.js';
import { renderMarkdown } from './report/markdown.js';
import { readChartLibrary } from './report/write-html.js';
import { splitMeasurement } from './measure/pairing.js';
import type { Side } from './backends/types.js';
import { buildResults } from './results/build.js';
import { readHistory } from './results/history.js';
import { claimOutDir } from './out-dir.js';
import type { MeasuredResults, ModelInfo, Results } from './results/schema.js';
import { defaultStoreDir, loadBaseline } from './results/store.js';
import { judge, withJudgement, writeVerdictFile, type Against } from './results/verdict.js';

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

/** The merged verdict of a split matrix (the Action's mode: merge), written instead of the files above. */
export const MERGED_FILE = 'merged.json';

/** Every file a run of any kind writes into its output folder: what a new run clears first. */
export const RUN_FILES: readonly string[] = [...Object.values(OUTPUT_FILES), MERGED_FILE];

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
}

function clockOf(options: PipelineOptions): Clock {
  return options.clock ?? clockFromEnv(options.backendOptions?.env ?? process.env);
}

/** The artifact cache (exports and engines) and the native worker that makes what it misses. */
function artifactMaker(options: PipelineOptions): {
  readonly store: ArtifactStore;
  readonly launch: WorkerLaunch | { readonly missing: string };
} {
  const env = options.backendOptions?.env ?? process.env;
  const store = openArtifactStore({
    ...(options.cacheDir !== undefined ? { cacheDir: options.cacheDir } : {}),
    env,
    clock: clockOf(options),
    ...(options.remoteStore ? { remote: options.remoteStore } : {}),
    warn: (message) => {
      options.warn?.(message);
    },
  });
  if (options.backendOptions?.nativeWorker) return { store, launch: options.backendOptions.nativeWorker };
  const python = findPython(env, options.backendOptions?.pythonSearchFrom ?? path.dirname(options.config.source));
  return { store, launch: 'missing' in python ? python : pythonWorkerLaunch(python.command, env) };
}

/** TR118_DIGEST_MEMO=off: every input file is hashed on every run. */
export const DIGEST_MEMO_ENV = 'TR118_DIGEST_MEMO';

/**
 * The sha256 of the files the config names (checkpoints, ONNX files), remembered by stat beside the artifact cache,
 * so an unchanged multi-GB checkpoint is not read again on every run (cache/digest-memo.ts). Without a cache folder
 * (no home) every file is hashed.
 */
function inputDigests(options: PipelineOptions): Sha256Of {
  const env = options.backendOptions?.env ?? process.env;
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

export interface PipelineResult {
  readonly results: Results;
  readonly files: Readonly<Record<keyof typeof OUTPUT_FILES, string>>;
}

export async function runPipeline(options: PipelineOptions): Promise<PipelineResult> {
  const clock = clockOf(options);
  const startedAt = new Date(clock());
  const sha256Of = inputDigests(options);
  // model.hf → ONNX first (or a cache hit): everything after measures the exported file as model.onnx.
  const exported = options.config.model.export ? await exportModel(options, sha256Of) : undefined;
  const config = exported ? withExportedModel(options.config, exported.onnxPath) : options.config;
  const model = await resolveModelFile(
    config,
    options.modelFromFlag ?? false,
    exported ? { path: exported.onnxPath, sha256: exported.onnxSha256 } : undefined,
    sha256Of,
  );
  // Checkpoints of the pytorch backends are other models of this run, beside other ONNX files.
  const backendModels = new Map([
    ...(await resolveBackendModels(config, sha256Of)),
    ...(await resolveCheckpoints(config, sha256Of)),
  ]);
  const notes: string[] = [];
  const note = (message: string): void => {
    notes.push(message);
    options.warn?.(message);
  };
  // The scenarios' rows: inputs.tokens, else the evaluation tokens, else the fixture's ids (InputTokensSource).
  let evalTokens: EvalTokens | undefined;
  let input: { readonly tokens: number[]; readonly file: string; readonly keyPath: (string | number)[] };
  if (config.inputTokens.from === 'accuracy') {
    evalTokens = loadEvalTokens(config);
    input = { tokens: evalTokens.tokens, file: evalTokens.file, keyPath: evalTokens.keyPath };
  } else {
    const keyPath = ['inputs', 'tokens'];
    const file = config.inputTokens.path;
    input = { tokens: readTokenFile(config, file, keyPath), file, keyPath };
  }
  const inputTokens = input.tokens;
  for (const s of config.scenarios) {
    const needed = tokensNeeded(s.batch, s.seqLen);
    if (inputTokens.length < needed) {
      const used = config.inputTokens.from === 'accuracy' ? ' (inputs.tokens is not set: the scenarios use it)' : '';
      throw new UsageError(
        `config error: ${config.locate(['scenarios', s.name])}: scenarios.${s.name}: a ${s.batch}×${s.seqLen} batch of distinct rows needs ${needed} tokens; ${formatKeyPath(input.keyPath)} (${input.file}) has ${inputTokens.length}${used}`,
      );
    }
  }
  let accuracyTokens: number[] | undefined;
  if (config.accuracy.enabled) {
    evalTokens ??= loadEvalTokens(config, input);
    const all = evalTokens.tokens;
    const accuracyKey = evalTokens.keyPath;
    accuracyTokens = all.slice(0, config.accuracy.maxTokens);
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
  }

  // A stored baseline is read before anything is measured: a bad one fails fast (or is dropped, if configured).
  const baselineArgument = options.baseline ?? config.compare.baselinePath;
  let baseline: { file: string; results: Results } | undefined;
  let baselineProblem: string | undefined;
  if (baselineArgument && !isSameRun(config)) {
    try {
      baseline = loadBaseline(baselineArgument, options.baselineStore ?? defaultStoreDir());
    } catch (error) {
      if (!(error instanceof UsageError) || config.compare.onBadBaseline === 'error') throw error;
      baselineProblem = `${error.message}; compared with no baseline (compare.on_bad_baseline: no-baseline)`;
    }
  }
  // Checked (and hashed) before anything is measured; the hash goes into the base side's results.
  const baseModelFile = config.compare.baseModelPath
    ? await resolveBaseModelFile(config, options.baseModelFromFlag ?? false, sha256Of)
    : undefined;
  // The fixture's ids mean something to the fixture model only. Fed to another model because nobody chose other ids
  // (inputs.tokens not set, or the built-in default config with --model), that is said plainly; a user's config
  // that names them chose them.
  const fixtureTokens = fixturePath('heldout.tokens.json');
  const idsByDefault = config.inputTokens.from === 'fixture' || sameFile(config.source, defaultConfigPath());
  const fixtureUses = idsByDefault
    ? [
        ...(config.inputTokens.from !== 'accuracy' && sameFile(config.inputTokens.path, fixtureTokens)
          ? ['the scenarios']
          : []),
        ...(config.accuracy.enabled &&
        config.accuracy.source.kind === 'tokens' &&
        sameFile(config.accuracy.source.path, fixtureTokens)
          ? ['the perplexity (meaningless for another tokenizer)']
          : []),
      ]
    : [];
  if (fixtureUses.length > 0) {
    const foreign = await modelsOtherThanFixture([
      model,
      ...backendModels.values(),
      ...(baseModelFile ? [baseModelFile] : []),
    ]);
    if (foreign.length > 0) {
      const why =
        config.inputTokens.from === 'fixture'
          ? ' (inputs.tokens is not set)'
          : ' (the built-in default config names them)';
      note(
        `${fixtureUses.join(' and ')} use the bundled fixture's token ids${why}, made by the fixture model's tokenizer (${fixtureTokens}), ` +
          `but ${foreign.join(', ')} ${foreign.length === 1 ? 'is' : 'are'} not the fixture model: ` +
          'set inputs.tokens (and accuracy.tokens or accuracy.text) to text tokenized for this model',
      );
    }
  }

  // What the engine families make before anything is measured (TensorRT engines), built or from the artifact cache.
  const prepared = needsPreparation(config.backends)
    ? await prepareBackends(config.backends, {
        ...artifactMaker(options),
        sha256Of: async (file) =>
          file === model.path
            ? model.sha256
            : file === baseModelFile?.path
              ? baseModelFile.sha256
              : (backendModels.get(file)?.sha256 ?? (await sha256Of(file))),
        shapes: passShapes(config, accuracyTokens?.length ?? 0),
        calibrationTokens: accuracyTokens ?? inputTokens,
        baseModelPath: config.compare.baseModelPath,
        log: options.log,
      })
    : undefined;
  // Every artifact the run uses: each backend's, and in same-run A/B its base's beside it.
  const artifactRecords: ArtifactRecord[] = [...(prepared?.values() ?? [])].flatMap((p) =>
    'ready' in p ? [p.ready, ...(p.base ? [p.base] : [])] : [],
  );
  for (const record of artifactRecords) {
    const spec = config.backends.find((b) => b.name === record.backend)!;
    if (record.corrupt)
      note(
        `the cached ${describeArtifact(spec, record).replace(/^the /, '')} was unusable and was rebuilt: ${record.corrupt}`,
      );
    options.log?.(familyOf(spec).artifacts?.logLine(record) ?? describeArtifact(spec, record));
  }

  // From here on this run owns the folder: locked, and the previous run's files gone (out-dir.ts).
  const claim = claimOutDir(options.outDir, RUN_FILES);
  try {
    const files = Object.fromEntries(
      Object.entries(OUTPUT_FILES).map(([key, name]) => [key, path.join(options.outDir, name)]),
    ) as Record<keyof typeof OUTPUT_FILES, string>;
    // A new run starts a new raw file; every record is appended (and flushed by the OS) as soon as it exists.
    writeFileSync(files.raw, '');

    const budget = memoryBudget(config.limits.memoryBudgetMiB);
    // Same-run A/B: each backend's worker holds both models and alternates their passes (measure/pairing.ts).
    const baseModel = config.compare.baseModelPath;
    const measurement = await measureMatrix({
      clock,
      config,
      baseModelPath: baseModel,
      sameRun: isSameRun(config),
      inputTokens,
      accuracyTokens,
      record: (record) => appendFileSync(files.raw, `${JSON.stringify(record)}\n`),
      rejectBaseModel: (backend, reason) => {
        const spec = config.backends.find((b) => b.name === backend);
        if (spec && familyOf(spec).sameRunBase === 'base_hf') {
          throw new UsageError(
            `config error: ${config.locate(['compare', 'base_hf'])}: compare.base_hf: backend ${backend} could not load the base checkpoint ${config.compare.baseHfPath ?? ''}: ${reason}; expected a checkpoint this tool can run (nothing was measured)`,
          );
        }
        throw new UsageError(
          `config error: ${baseModelWhere(config, options.baseModelFromFlag ?? false)}: backend ${backend} could not open the base model ${baseModel ?? ''}: ${reason}; expected an ONNX model this tool can run (nothing was measured)`,
        );
      },
      checkVocab: (vocabSize) => {
        checkTokensInVocab(config, inputTokens, vocabSize, input.file, input.keyPath);
        if (accuracyTokens && evalTokens) {
          checkTokensInVocab(config, accuracyTokens, vocabSize, evalTokens.file, evalTokens.keyPath);
        }
        const findings = checkLogitsMemory(plannedPasses(config), vocabSize, budget);
        const refused = findings.find((f) => f.level === 'refuse');
        if (refused) throw new UsageError(`config error: ${config.locate(refused.pass.keyPath)}: ${refused.message}`);
        // Every backend that opens reports its vocabulary: each warning once.
        for (const f of findings) if (!notes.includes(f.message)) note(f.message);
      },
      ...(options.progress ? { progress: options.progress } : {}),
      backendOptions: {
        // The native worker's Python: a .venv is looked for from the config's folder up.
        pythonSearchFrom: path.dirname(config.source),
        baseCheckpointPath: config.compare.baseHfPath,
        ...options.backendOptions,
        ...(prepared ? { prepared } : {}),
      },
    });

    const environment = collectEnvironment();
    const git = collectGitState(options.cwd ?? process.cwd());
    const finishedAt = new Date(clock());
    const build = (side: Side, modelFile: ModelInfo): MeasuredResults =>
      buildResults({
        config,
        side,
        measurement: splitMeasurement(measurement, side),
        model: modelFile,
        backendModels: [...backendModels.values()],
        environment,
        git,
        startedAt,
        finishedAt,
        evaluatedTokens: accuracyTokens?.length ?? 0,
        evalTokens,
        notes,
        export: exported,
        artifacts: artifactRecords,
      });
    const candidate = build('candidate', { name: config.model.name, ...model });
    // The same-run base model's own results, judged on their own (it has no base): kept in results.json.
    // The base's identity: its ONNX file, or (pytorch backends only) its checkpoint folder.
    const baseCheckpoint = config.compare.baseHfPath ? backendModels.get(config.compare.baseHfPath) : undefined;
    const baseFile = baseModelFile ?? baseCheckpoint;
    const baseLabel = path.basename(baseModel ?? config.compare.baseHfPath ?? '');
    const base = isSameRun(config) && baseFile ? build('base', { name: baseLabel, ...baseFile }) : undefined;
    const sameRunBase = base ? withJudgement(base, judge(config, base, { kind: 'none' }), null) : null;
    const against: Against = base
      ? { kind: 'same-run', base, label: baseLabel }
      : baseline
        ? { kind: 'stored', base: baseline.results, label: baseline.file }
        : { kind: 'none', baselineProblem };
    const results = withJudgement(candidate, judge(config, candidate, against), sameRunBase);
    writeVerdictFile(files.verdict, results);
    writeFileSync(files.results, `${JSON.stringify(results, null, 2)}\n`);
    writeFileSync(files.summary, renderSummaryCsv(results));
    writeFileSync(files.report, renderMarkdown(results));
    // A stored baseline kept in the store has the branch's history beside it (results/history.ts).
    const history = baseline ? readHistory(baseline.file) : null;
    writeFileSync(
      files.html,
      renderHtml(results, readChartLibrary(), {
        base: baseline?.results ?? null,
        history: history?.entries ?? [],
        historySkipped: history?.skipped ?? 0,
      }),
    );
    const relative = Object.fromEntries(Object.entries(files).map(([k, f]) => [k, path.basename(f)]));
    writeFileSync(files.manifest, `${JSON.stringify(buildManifest(results, relative), null, 2)}\n`);
    return { results, files };
  } finally {
    claim.release();
  }
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
