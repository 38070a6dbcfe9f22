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
  resolveModelFile,
  type EvalTokens,
} from './model/source.js';
import { renderSummaryCsv } from './report/csv.js';
import { buildManifest } from './report/manifest.js';
import { renderMarkdown } from './report/markdown.js';
import { buildResults, type Results } from './results/build.js';

export const OUTPUT_FILES = {
  raw: 'results.jsonl',
  results: 'results.json',
  summary: 'summary.csv',
  manifest: 'manifest.json',
  report: 'report.md',
} as const;

export interface PipelineOptions {
  readonly config: Config;
  readonly outDir: string;
  /** True when --model replaced model.onnx (errors then name the flag, not the config key). */
  readonly modelFromFlag?: boolean;
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

  const measurement = await measureMatrix({
    config,
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

  const results = buildResults({
    config,
    measurement,
    model: { name: config.model.name, ...model },
    backendModels: [...backendModels.values()],
    environment: collectEnvironment(),
    git: collectGitState(options.cwd ?? process.cwd()),
    startedAt,
    finishedAt: new Date(),
    evaluatedTokens: accuracyTokens?.length ?? 0,
    evalTokens,
  });
  writeFileSync(files.results, `${JSON.stringify(results, null, 2)}\n`);
  writeFileSync(files.summary, renderSummaryCsv(results));
  writeFileSync(files.report, renderMarkdown(results));
  const relative = Object.fromEntries(Object.entries(files).map(([k, f]) => [k, path.basename(f)]));
  writeFileSync(files.manifest, `${JSON.stringify(buildManifest(results, relative), null, 2)}\n`);
  return { results, files };
}
