/**
 * One run, from a validated config to the files in the output folder. Everything the CLI and the Action share;
 * knows nothing of GitHub or of terminals (progress goes to a callback).
 */
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { BackendFactoryOptions } from './backends/index.js';
import type { Config } from './config/load.js';
import { formatKeyPath } from './config/load.js';
import { collectEnvironment, collectGitState } from './env/collect.js';
import { UsageError } from './errors.js';
import { tokensNeeded } from './measure/inputs.js';
import { measureMatrix, type ProgressEvent } from './measure/runner.js';
import {
  checkTokensInVocab,
  loadEvalTokens,
  readTokenFile,
  resolveBackendModels,
  resolveBaseModelFile,
  resolveModelFile,
  type EvalTokens,
} from './model/source.js';
import { renderSummaryCsv } from './report/csv.js';
import { buildManifest } from './report/manifest.js';
import { renderMarkdown } from './report/markdown.js';
import { compareResults, ratioDefinitions, type CompareOptions, type ComparisonMode } from './gate/compare.js';
import { BASE_SUFFIX, type Measurement } from './measure/runner.js';
import { buildResults, withComparison, type ModelInfo, type Results } from './results/build.js';
import type { ComparableResults } from './results/read.js';
import { defaultStoreDir, loadBaseline } from './results/store.js';

export const OUTPUT_FILES = {
  raw: 'results.jsonl',
  results: 'results.json',
  summary: 'summary.csv',
  manifest: 'manifest.json',
  report: 'report.md',
  verdict: 'verdict.json',
} as const;

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
  readonly backendOptions?: BackendFactoryOptions;
  /** The measured repository, for the manifest's git commit. */
  readonly cwd?: string;
}

export interface PipelineResult {
  readonly results: Results;
  readonly files: Readonly<Record<keyof typeof OUTPUT_FILES, string>>;
}

export async function runPipeline(options: PipelineOptions): Promise<PipelineResult> {
  const { config } = options;
  const startedAt = new Date();
  const model = await resolveModelFile(config, options.modelFromFlag ?? false);
  const backendModels = await resolveBackendModels(config);
  const inputTokens = readTokenFile(config, config.inputTokensPath, ['inputs', 'tokens']);
  for (const s of config.scenarios) {
    const needed = tokensNeeded(s.batch, s.seqLen);
    if (inputTokens.length < needed) {
      throw new UsageError(
        `config error: ${config.locate(['scenarios', s.name])}: scenarios.${s.name}: a ${s.batch}×${s.seqLen} batch of distinct rows needs ${needed} tokens; inputs.tokens (${config.inputTokensPath}) has ${inputTokens.length}`,
      );
    }
  }
  let evalTokens: EvalTokens | undefined;
  let accuracyTokens: number[] | undefined;
  if (config.accuracy.enabled) {
    evalTokens = loadEvalTokens(config, inputTokens);
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
  let baseline: { file: string; results: ComparableResults } | undefined;
  let baselineProblem: string | undefined;
  if (baselineArgument && !config.compare.baseModelPath) {
    try {
      baseline = loadBaseline(baselineArgument, options.baselineStore ?? defaultStoreDir());
    } catch (error) {
      if (!(error instanceof UsageError) || config.compare.onBadBaseline === 'error') throw error;
      baselineProblem = `${error.message}; compared with no baseline (compare.on_bad_baseline: no-baseline)`;
    }
  }
  // Checked (and hashed) before anything is measured; the hash goes into the base side's results.
  const baseModelFile = config.compare.baseModelPath
    ? await resolveBaseModelFile(config, options.baseModelFromFlag ?? false)
    : undefined;

  try {
    mkdirSync(options.outDir, { recursive: true });
  } catch (error) {
    throw new UsageError(
      `cannot create the output folder ${options.outDir}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`,
    );
  }
  const files = Object.fromEntries(
    Object.entries(OUTPUT_FILES).map(([key, name]) => [key, path.join(options.outDir, name)]),
  ) as Record<keyof typeof OUTPUT_FILES, string>;
  // A new run starts a new raw file; every record is appended (and flushed by the OS) as soon as it exists.
  writeFileSync(files.raw, '');

  // Same-run A/B: each backend's worker holds both models and alternates their passes (records: name@base).
  const baseModel = config.compare.baseModelPath;
  const measurement = await measureMatrix({
    config,
    baseModelPath: baseModel,
    inputTokens,
    accuracyTokens,
    record: (record) => appendFileSync(files.raw, `${JSON.stringify(record)}\n`),
    checkVocab: (vocabSize) => {
      checkTokensInVocab(config, inputTokens, vocabSize, config.inputTokensPath, ['inputs', 'tokens']);
      if (accuracyTokens && evalTokens) {
        checkTokensInVocab(config, accuracyTokens, vocabSize, evalTokens.file, evalTokens.keyPath);
      }
    },
    ...(options.progress ? { progress: options.progress } : {}),
    ...(options.backendOptions ? { backendOptions: options.backendOptions } : {}),
  });

  const environment = collectEnvironment();
  const git = collectGitState(options.cwd ?? process.cwd());
  const finishedAt = new Date();
  const build = (part: Measurement, modelFile: ModelInfo): Results =>
    buildResults({
      config,
      measurement: part,
      model: modelFile,
      backendModels: [...backendModels.values()],
      environment,
      git,
      startedAt,
      finishedAt,
      evaluatedTokens: accuracyTokens?.length ?? 0,
      evalTokens,
    });
  const candidate = build(splitMeasurement(measurement, 'candidate'), { name: config.model.name, ...model });
  let results: Results;
  if (baseModel && baseModelFile) {
    const base = build(splitMeasurement(measurement, 'base'), { name: path.basename(baseModel), ...baseModelFile });
    const comparison = compareResults(base, candidate, path.basename(baseModel), compareOptions(config, 'same-run'));
    results = withComparison(candidate, config, comparison, { sameRunBase: base });
  } else if (baseline) {
    const comparison = compareResults(baseline.results, candidate, baseline.file, compareOptions(config, 'stored'));
    results = withComparison(candidate, config, comparison);
  } else {
    results = withComparison(candidate, config, null, { baselineProblem });
  }
  writeFileSync(files.verdict, `${JSON.stringify(verdictFile(results), null, 2)}\n`);
  writeFileSync(files.results, `${JSON.stringify(results, null, 2)}\n`);
  writeFileSync(files.summary, renderSummaryCsv(results));
  writeFileSync(files.report, renderMarkdown(results));
  const relative = Object.fromEntries(Object.entries(files).map(([k, f]) => [k, path.basename(f)]));
  writeFileSync(files.manifest, `${JSON.stringify(buildManifest(results, relative), null, 2)}\n`);
  return { results, files };
}

/** The records of one side of a same-run A/B, with the base twins' names restored. */
export function splitMeasurement(measurement: Measurement, side: 'candidate' | 'base'): Measurement {
  const isBase = (name: string): boolean => name.endsWith(BASE_SUFFIX);
  const keep = (name: string): boolean => (side === 'base' ? isBase(name) : !isBase(name));
  const rename = <T extends { readonly backend: string }>(r: T): T =>
    side === 'base' ? { ...r, backend: r.backend.slice(0, -BASE_SUFFIX.length) } : r;
  return {
    backends: measurement.backends.filter((r) => keep(r.backend)).map(rename),
    runs: measurement.runs.filter((r) => keep(r.backend)).map(rename),
    accuracy: measurement.accuracy.filter((r) => keep(r.backend)).map(rename),
    // Parity is against the run's reference backend, a candidate backend: it belongs to the candidate side only.
    parity: side === 'candidate' ? measurement.parity.filter((r) => !isBase(r.backend)) : [],
  };
}

export function compareOptions(config: Config, mode: ComparisonMode): CompareOptions {
  return {
    mode,
    latency: config.thresholds.latency,
    perplexityDeltaFraction: config.thresholds.perplexityDeltaFraction,
    maxDegradedRateIncrease: config.thresholds.maxDegradedRateIncrease,
    allowEnvironmentChange: config.compare.allowEnvironmentChange,
    missingCell: config.compare.missingCell,
    seed: config.seed,
  };
}

/** verdict.json: the verdict, what it rests on, and every cell's decision with its numbers. */
export function verdictFile(results: Results): Record<string, unknown> {
  return {
    schemaVersion: results.schemaVersion,
    decision: results.verdict.decision,
    basis: results.verdict.basis,
    mode: results.comparison?.mode ?? 'no-baseline',
    base: results.comparison?.base ?? null,
    // What each cell's ratio and medianRatio are (a paired change is not a ratio of medians).
    definitions: results.comparison ? ratioDefinitions(results.comparison.mode) : null,
    reasons: results.verdict.reasons,
    cells: results.comparison?.cells ?? [],
    accuracy: { withinRun: results.accuracy?.rows ?? [], againstBase: results.comparison?.accuracy ?? [] },
  };
}
