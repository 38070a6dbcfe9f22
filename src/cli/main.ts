/**
 * The `tr118` command line: parses flags, loads the config, runs the pipeline (or a comparison, or the baseline
 * store), prints the verdict, and returns the documented exit code. Holds no logic the Action could also need.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { Command, CommanderError, Option } from 'commander';
import { median as ssMedian } from 'simple-statistics';
import { loadConfigFile, parseConfig, type Config, type LoadOverrides } from '../config/load.js';
import {
  CACHE_DIR_ENV,
  defaultArtifactCacheDir,
  openArtifactStore,
  parseMaxMib,
  PYTHON_BYTECODE_DIR,
  type ArtifactStore,
  type ArtifactSummary,
} from '../cache/store.js';
import { pruneOrphanBytecode } from '../cache/bytecode-folder.js';
import { clockFromEnv, isoOf, type Clock } from '../clock.js';
import { artifactKinds, needsGpuProviders } from '../engines/registry.js';
import { toolVersion } from '../env/collect.js';
import { EXPORT_KIND } from '../model/export-key.js';
import { describeError, ExitCode, UsageError } from '../errors.js';
import { logLine, noCommandLines } from '../github/log.js';
import { DEFAULT_FAIL_ON, FAIL_ON, failsOn, type Decision, type FailOn, type Verdict } from '../gate/verdict.js';
import { packageRoot } from '../paths.js';
import {
  activateOrtGpu,
  libraryWarnings,
  ORT_GPU_PYTHONPATH_ENV,
  parseCudaMajor,
  provisionOrtGpu,
} from '../engines/onnxruntime/provision/onnxruntime-gpu.js';
import { MERGED_FILE, OUTPUT_FILES, runPipeline } from '../pipeline/index.js';
import { mergeParts } from '../pipeline/merge.js';
import { PART_IDENTITY, partIdentities } from '../results/merge.js';
import { num } from '../format.js';
import { checkWritableDir, makeWritableDir } from '../out-dir.js';
import { readResultsFile } from '../results/read.js';
import { defaultStoreDir, listBaselines, loadBaseline, saveBaseline } from '../results/store.js';
import { judge, writeVerdictFile } from '../results/judgement.js';
import { createProgress } from './progress.js';
import { expandResultsFiles, reportCommand, type ReportFlags } from './report-command.js';

export const DEFAULT_CONFIG = 'fixtures/configs/default.yml';
export const DEFAULT_OUT_DIR = 'tr118-results';

interface RunFlags {
  readonly config?: string;
  readonly out: string;
  readonly model?: string;
  readonly baseline?: string;
  readonly baseModel?: string;
  readonly store?: string;
  readonly cacheDir?: string;
  readonly quiet?: boolean;
  readonly failOn: FailOn;
}

export interface CliIo {
  readonly stdout: NodeJS.WriteStream;
  readonly stderr: NodeJS.WriteStream;
  readonly cwd: string;
  /** The calendar (default: clockFromEnv(), i.e. TR118_NOW or the system's): cache ages, run times. */
  readonly clock?: Clock;
}

function configFrom(io: CliIo, file: string | undefined, overrides: LoadOverrides = {}): Config {
  const configFile = file ? path.resolve(io.cwd, file) : path.join(packageRoot(), DEFAULT_CONFIG);
  return loadConfigFile(configFile, overrides);
}

/** The exit code follows the same rule as the Action's step and commit status (docs/cli.md "Exit codes"). */
function exitCodeOf(decision: Decision, failOn: FailOn): number {
  return failsOn(decision, failOn) ? ExitCode.gateFailed : ExitCode.pass;
}

function failOnOption(): Option {
  return new Option(
    '--fail-on <verdict>',
    'the least severe verdict that exits 1: warn, inconclusive (an unrun or undecided gate fails), fail, or never',
  )
    .choices(FAIL_ON)
    .default(DEFAULT_FAIL_ON);
}

async function runCommand(flags: RunFlags, io: CliIo): Promise<number> {
  if (flags.baseline && flags.baseModel) throw new UsageError('give either --baseline or --base-model, not both');
  const config = configFrom(io, flags.config, {
    modelPath: flags.model ? path.resolve(io.cwd, flags.model) : undefined,
    baseModelPath: flags.baseModel ? path.resolve(io.cwd, flags.baseModel) : undefined,
  });
  const outDir = outDirFrom(io, flags.out);
  // What `tr118 provision` made earlier (no network): the workers' LD_LIBRARY_PATH and the Python package's path.
  if (needsGpuProviders(config.backends)) {
    await activateOrtGpu(process.env, { searchFrom: path.dirname(config.source) });
  }
  const progress = createProgress(io.stderr, flags.quiet ?? false);
  let result;
  try {
    result = await runPipeline({
      config,
      outDir,
      modelFromFlag: flags.model !== undefined,
      baseModelFromFlag: flags.baseModel !== undefined,
      baseline: flags.baseline ? resolveArgument(io, flags.baseline) : undefined,
      baselineStore: flags.store ? path.resolve(io.cwd, flags.store) : undefined,
      cacheDir: flags.cacheDir ? path.resolve(io.cwd, flags.cacheDir) : undefined,
      ...(flags.quiet ? {} : { log: (line: string) => io.stderr.write(`tr118: ${line}\n`) }),
      progress: progress.onEvent,
      // Printed even with --quiet: a warning says a figure may not mean what it seems to.
      warn: (message) => io.stderr.write(`tr118: warning: ${message}\n`),
      cwd: io.cwd,
    });
  } finally {
    progress.stop();
  }
  const { results } = result;
  const v = results.verdict;
  printVerdict(io, v);
  for (const b of results.backends) {
    const g = b.geomean;
    const figure = g ? `geomean median ${g.latencyMs.toFixed(3)} ms over ${g.scenarios} scenarios` : (b.reason ?? '');
    io.stdout.write(`  ${b.spec.name}: ${b.status}; ${figure}\n`);
  }
  const others = Object.values(OUTPUT_FILES).filter((f) => f !== OUTPUT_FILES.report);
  io.stdout.write(`report: ${path.join(outDir, OUTPUT_FILES.report)} (and ${others.join(', ')})\n`);
  return exitCodeOf(v.decision, flags.failOn);
}

/** The verdict and every reason, as `run` and `compare` print them. */
function printVerdict(
  io: CliIo,
  verdict: Pick<Verdict, 'decision' | 'basis'> & {
    readonly reasons: readonly (Verdict['reasons'][number] & { readonly part?: string })[];
  },
): void {
  io.stdout.write(`${logLine(`verdict: ${verdict.decision} (${verdict.basis})`)}\n`);
  // A part is named by its folder, and a folder name can hold a line break: each reason stays one line.
  for (const r of verdict.reasons)
    io.stdout.write(
      `  ${logLine(`${r.decision}: ${r.part !== undefined ? `${r.part}: ` : ''}${r.subject}: ${r.message}`)}\n`,
    );
}

/** --out as a folder; an empty one would quietly mean the current folder, so it is refused. */
function outDirFrom(io: CliIo, out: string): string {
  if (out.trim() === '') {
    throw new UsageError(
      '--out: expected an output folder; got an empty path (to write into this folder, give --out .)',
    );
  }
  return path.resolve(io.cwd, out);
}

/** A baseline argument that names an existing file is resolved against the working directory; a name is kept. */
function resolveArgument(io: CliIo, value: string): string {
  return value.includes('/') || value.endsWith('.json') ? path.resolve(io.cwd, value) : value;
}

interface CompareFlags {
  readonly config?: string;
  readonly out: string;
  readonly failOn: FailOn;
}

/**
 * Two result files, compared offline (stored-baseline rules: unpaired). Thresholds: --config, else defaults. Decided
 * and written by the same functions as `run --baseline BASE` (results/judgement.ts): the candidate's own gates
 * (accuracy across its backends, degraded runs, backends that did not run) count as they would there.
 */
function compareCommand(baseFile: string, candidateFile: string, flags: CompareFlags, io: CliIo): number {
  const outDir = outDirFrom(io, flags.out);
  checkWritableDir(outDir, 'output folder');
  // Labelled by its full path, as `run --baseline FILE` labels it.
  const basePath = path.resolve(io.cwd, baseFile);
  const base = readResultsFile(basePath, `base ${baseFile}`);
  const candidate = readResultsFile(path.resolve(io.cwd, candidateFile), `candidate ${candidateFile}`);
  const config = flags.config
    ? configFrom(io, flags.config)
    : parseConfig(
        'model: { onnx: unused.onnx }\nbackends: [onnxruntime-cpu]\nscenarios: { s: { batch: 1, seq_len: 1 } }\n',
        '<defaults>',
        io.cwd,
      );
  const judgement = judge(config, candidate, { kind: 'stored', base, label: basePath });
  const { verdict, comparison } = judgement;
  printVerdict(io, verdict);
  // Every cell's figures, passes included: what an offline comparison is usually run to see.
  for (const c of comparison?.cells ?? []) {
    const change = c.ratio === null ? '' : ` ${(100 * (c.ratio - 1)).toFixed(1)}%`;
    io.stdout.write(
      `  ${logLine(`${c.decision.padEnd(12)} ${c.backend} × ${c.scenario}:${change} ${num(c.baseMedianMs)} → ${num(c.candidateMedianMs)} ms; ${c.reason}`)}\n`,
    );
  }
  for (const a of comparison?.accuracy ?? [])
    io.stdout.write(`  ${logLine(`${a.decision.padEnd(12)} ${a.backend}: ${a.reason}`)}\n`);
  makeWritableDir(outDir, 'output folder');
  const file = path.join(outDir, OUTPUT_FILES.verdict);
  writeVerdictFile(file, { ...judgement, accuracy: candidate.accuracy });
  io.stdout.write(`verdict file: ${file}\n`);
  return exitCodeOf(verdict.decision, flags.failOn);
}

interface MergeFlags {
  readonly out: string;
  readonly failOn: FailOn;
  readonly allowPartDifferences?: string;
}

/**
 * `tr118 merge PART…`: the Action's `mode: merge` on this machine (pipeline/merge.ts, one function for both): one
 * verdict over the parts of a split matrix, its reports and merged.json, and the exit code the Action's step gets.
 */
function mergeCommand(files: readonly string[], flags: MergeFlags, io: CliIo): number {
  const outDir = outDirFrom(io, flags.out);
  const resolved = expandResultsFiles(files.map((f) => path.resolve(io.cwd, f)));
  const { merged, reportPath, htmlPath, resultsPath } = mergeParts(resolved, outDir, {
    allowed: partIdentities(flags.allowPartDifferences, '--allow-part-differences'),
    allowedSaidAs: 'give --allow-part-differences',
  });
  printVerdict(io, merged);
  io.stdout.write(`report: ${reportPath} (and ${path.basename(htmlPath)}, ${path.basename(resultsPath)})\n`);
  return exitCodeOf(merged.decision, flags.failOn);
}

interface ProvisionFlags {
  readonly cuda?: string;
  readonly python?: string;
}

/** `tr118 provision`: the GPU provider libraries, then what landed where and what the machine still lacks. */
async function provisionCommand(flags: ProvisionFlags, io: CliIo): Promise<number> {
  const result = await provisionOrtGpu({
    ...(flags.cuda !== undefined ? { cudaMajor: parseCudaMajor(flags.cuda, '--cuda') } : {}),
    ...(flags.python !== undefined ? { python: path.resolve(io.cwd, flags.python) } : {}),
    searchFrom: io.cwd,
    log: (line) => io.stderr.write(`tr118: ${line}\n`),
  });
  const { record, binding } = result;
  const out = (line: string) => io.stdout.write(`${line}\n`);
  const how = {
    downloaded: 'downloaded and verified',
    'tool-cache': 'already in the tool cache',
    'actions-cache': 'restored from the Actions cache',
  }[result.source];
  out(`ONNX Runtime ${record.version} GPU providers, CUDA ${record.cudaMajor} (${record.variant}): ${how}`);

  out(`  package: ${record.url} (sha256 ${record.sha256})`);
  out(`  unpacked: ${record.entryDir}`);
  const copied = binding.copied.length > 0 ? `copied ${binding.copied.join(', ')}` : '';
  const unchanged = binding.unchanged.length > 0 ? `already there: ${binding.unchanged.join(', ')}` : '';
  out(`  onnxruntime-node binding ${binding.bindingDir}: ${[copied, unchanged].filter((s) => s !== '').join('; ')}`);
  out(
    result.pythonPath
      ? `  Python worker: import onnxruntime from ${result.pythonPath} (${ORT_GPU_PYTHONPATH_ENV})`
      : `  Python worker: not provisioned (${result.pythonNote ?? 'no Python package in this variant'})`,
  );
  const dirs = result.libraries.search.libraryDirs;
  const { found, missing } = result.libraries.search;
  const where =
    dirs.length > 0
      ? `; ${dirs.join(', ')} put on LD_LIBRARY_PATH for the workers`
      : found.length > 0
        ? '; the loader finds them by itself'
        : '';
  out(`  CUDA libraries: ${found.length} of ${found.length + missing.length} found${where}`);
  for (const line of libraryWarnings(result.libraries, record.cudaMajor)) io.stderr.write(`tr118: warning: ${line}\n`);
  out('`tr118 run` finds all this by itself; for other programs:');
  if (dirs.length > 0) out(`  export LD_LIBRARY_PATH=${process.env.LD_LIBRARY_PATH ?? ''}`);
  if (result.pythonPath) out(`  export PYTHONPATH=${result.pythonPath}`);
  return ExitCode.pass;
}

/** The artifact cache of `tr118 cache …`: --cache-dir, else $TR118_CACHE_DIR or the user's cache folder. */
function artifactStoreOf(io: CliIo, cacheDir: string | undefined): ArtifactStore {
  const root = cacheDir !== undefined ? path.resolve(io.cwd, cacheDir) : defaultArtifactCacheDir(process.env);
  // Opening a store creates its folder: a misspelled --cache-dir would then "verify" an empty new cache as fine.
  if (!existsSync(root)) {
    const given =
      cacheDir !== undefined
        ? '--cache-dir'
        : `the default cache folder ($${CACHE_DIR_ENV} or ~/.cache/tr118/artifacts)`;
    throw new UsageError(`${given} ${root}: no such folder (nothing was cached there yet; check the path)`);
  }
  return openArtifactStore({
    cacheDir: root,
    warn: (m) => io.stderr.write(`tr118: ${m}\n`),
    clock: clockOf(io),
  });
}

function clockOf(io: CliIo): Clock {
  return io.clock ?? clockFromEnv();
}

/** Entries as a table a person reads: key prefix, kind, size, last used, build time. */
function cacheTable(entries: readonly ArtifactSummary[]): string {
  const rows = [
    ['key', 'kind', 'size MiB', 'last used (UTC)', 'build s'],
    ...entries.map((e) => [
      e.key.slice(0, 12),
      e.kind,
      (e.sizeBytes / 2 ** 20).toFixed(1),
      isoOf(e.lastUsedMs).slice(0, 16).replace('T', ' '),
      e.buildMs !== undefined ? (e.buildMs / 1000).toFixed(1) : (e.problem ?? '?'),
    ]),
  ];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => `${r.map((c, i) => c.padEnd(widths[i]!)).join('  ')}`.trimEnd()).join('\n') + '\n';
}

function addCacheCommands(program: Command, io: CliIo, setExit: (code: number) => void): void {
  const group = program
    .command('cache')
    .description('manage the artifact cache: model files built before the matrix (ONNX exports), kept by content key');
  const dirOption = () =>
    new Option('--cache-dir <dir>', `cache folder (default: $TR118_CACHE_DIR, else ~/.cache/tr118/artifacts)`);
  group
    .command('ls')
    .description('list the entries, least recently used first')
    .option('--kind <kind>', `only this kind (${[EXPORT_KIND, ...artifactKinds()].join(', ')})`)
    .addOption(dirOption())
    .action((flags: { kind?: string; cacheDir?: string }) => {
      const store = artifactStoreOf(io, flags.cacheDir);
      const entries = store.list(flags.kind);
      const total = entries.reduce((sum, e) => sum + e.sizeBytes, 0) / 2 ** 20;
      io.stdout.write(entries.length > 0 ? cacheTable(entries) : `no entries in ${store.root}\n`);
      if (entries.length > 0) io.stdout.write(`${entries.length} entries, ${total.toFixed(1)} MiB in ${store.root}\n`);
      setExit(ExitCode.pass);
    });
  group
    .command('unlock')
    .description(
      'remove the lock of an artifact key that no run will release (a crashed container, another host): the key the waiting message names',
    )
    .argument('<key>', 'the artifact key (or its first 8+ hex digits)')
    .option('--force', 'remove it even if its holder is running on this machine')
    .addOption(dirOption())
    .action((key: string, flags: { cacheDir?: string; force?: boolean }) => {
      const store = artifactStoreOf(io, flags.cacheDir);
      for (const line of store.unlock(key, flags.force ?? false)) io.stdout.write(`${line}\n`);
      setExit(ExitCode.pass);
    });
  group
    .command('verify')
    .description('re-hash every entry; corrupt ones are evicted and listed (exit 1 if there were any)')
    .addOption(dirOption())
    .action(async (flags: { cacheDir?: string }) => {
      const store = artifactStoreOf(io, flags.cacheDir);
      const results = await store.verify();
      for (const r of results) {
        if (r.status === 'ok') io.stdout.write(`ok       ${r.kind}/${r.key.slice(0, 12)}\n`);
        else io.stdout.write(`${r.status.padEnd(8)} ${r.kind}/${r.key.slice(0, 12)}: ${r.reason ?? ''}\n`);
      }
      const corrupt = results.filter((r) => r.status === 'corrupt').length;
      io.stdout.write(
        `${results.length} entries checked in ${store.root}; ${corrupt} corrupt${corrupt > 0 ? ' (evicted: the next run rebuilds them)' : ''}\n`,
      );
      setExit(corrupt > 0 ? ExitCode.gateFailed : ExitCode.pass);
    });
  group
    .command('prune')
    .description(
      'remove entries not used for a while, then least recently used ones above a size; and the Python byte code of sources that are gone',
    )
    .option('--max-mib <n>', 'keep at most this many MiB (default: $TR118_CACHE_MAX_MIB, else 20480)')
    .option('--older-than-days <n>', 'remove entries last used more than this many days ago')
    .addOption(dirOption())
    .action((flags: { maxMib?: string; olderThanDays?: string; cacheDir?: string }) => {
      const maxBytes =
        flags.maxMib !== undefined ? Math.floor(parseMaxMib(flags.maxMib, '--max-mib') * 2 ** 20) : undefined;
      const days = flags.olderThanDays !== undefined ? Number(flags.olderThanDays) : undefined;
      if (days !== undefined && !(Number.isFinite(days) && days >= 0)) {
        throw new UsageError(
          `--older-than-days: expected a number of days ≥ 0; got ${JSON.stringify(flags.olderThanDays)}`,
        );
      }
      const store = artifactStoreOf(io, flags.cacheDir);
      const removed = store.prune({
        maxBytes: maxBytes ?? store.maxBytes,
        ...(days !== undefined ? { usedBefore: clockOf(io)() - days * 24 * 3600 * 1000 } : {}),
      });
      if (removed.length > 0) io.stdout.write(cacheTable(removed));
      const mib = removed.reduce((sum, e) => sum + e.sizeBytes, 0) / 2 ** 20;
      io.stdout.write(`removed ${removed.length} entries (${mib.toFixed(1)} MiB) from ${store.root}\n`);
      // The workers' byte code folder is no entry: it loses only the byte code of sources that are gone.
      const bytecode = pruneOrphanBytecode(path.join(store.root, PYTHON_BYTECODE_DIR));
      if (bytecode.files > 0)
        io.stdout.write(
          `removed ${bytecode.files} byte code files of Python sources that are gone (${(bytecode.bytes / 2 ** 20).toFixed(1)} MiB) from ${bytecode.folder}\n`,
        );
      setExit(ExitCode.pass);
    });
}

function addBaselineCommands(program: Command, io: CliIo, setExit: (code: number) => void): void {
  const baseline = program.command('baseline').description('manage the local baseline store');
  baseline
    .command('save')
    .description('store a results.json as a named baseline')
    .argument('[results]', 'the results.json to store', path.join(DEFAULT_OUT_DIR, OUTPUT_FILES.results))
    .option('-n, --name <name>', 'baseline name (e.g. the branch)', 'main')
    .option('--store <dir>', 'store folder')
    .action((results: string, flags: { name: string; store?: string }) => {
      const target = saveBaseline(
        path.resolve(io.cwd, results),
        flags.name,
        flags.store ? path.resolve(io.cwd, flags.store) : defaultStoreDir(),
      );
      io.stdout.write(`saved baseline ${flags.name}: ${target}\n`);
      setExit(ExitCode.pass);
    });
  baseline
    .command('show')
    .description('list stored baselines, or summarize one')
    .argument('[name]', 'a stored baseline name (or a results.json path)')
    .option('--store <dir>', 'store folder')
    .action((name: string | undefined, flags: { store?: string }) => {
      const store = flags.store ? path.resolve(io.cwd, flags.store) : defaultStoreDir();
      if (!name) {
        const names = listBaselines(store);
        io.stdout.write(names.length > 0 ? `${names.join('\n')}\n` : `no baselines in ${store}\n`);
        return setExit(ExitCode.pass);
      }
      const { file, results } = loadBaseline(resolveArgument(io, name), store);
      io.stdout.write(
        `${file}\n  model ${results.model.name} (sha256 ${results.model.sha256.slice(0, 12)}…), measured ${results.startedAt}\n`,
      );
      for (const c of results.cells) {
        const all = c.repetitionLatenciesMs.flat();
        const median = all.length > 0 ? ssMedian(all) : undefined;
        io.stdout.write(
          `  ${c.backend} × ${c.scenario}: ${c.status}, ${c.repetitionLatenciesMs.length} repetitions, median ≈ ${num(median)} ms\n`,
        );
      }
      setExit(ExitCode.pass);
    });
}

export function buildProgram(io: CliIo, setExit: (code: number) => void): Command {
  const program = new Command()
    .name('tr118')
    .description(
      'Prefill latency, throughput and perplexity gate for ONNX language models on ONNX Runtime (CPU; CUDA and TensorRT providers where their libraries are installed) and for their Hugging Face checkpoints on PyTorch (CPU or CUDA, eager or torch.compile, in a Python worker).',
    )
    .version(toolVersion(), '-V, --version')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) })
    .addHelpText(
      'after',
      '\nExit codes: 0 pass (or a verdict below --fail-on), 1 the verdict reached --fail-on (default: inconclusive or fail),\n' +
        '2 usage or config error, 3 internal error.\n' +
        'Run `tr118 run` with no flags to benchmark the bundled fixture model with the default matrix.',
    );
  program
    .command('run')
    .description('run the prefill matrix and write the report files')
    .option('-c, --config <file>', `matrix config (YAML); default: the built-in ${DEFAULT_CONFIG}`)
    .option('-o, --out <dir>', 'output folder', DEFAULT_OUT_DIR)
    .option('-m, --model <onnx>', 'ONNX model to measure, replacing model.onnx of the config')
    .option('-b, --baseline <file-or-name>', 'compare with an earlier results.json, or a stored baseline by name')
    .option(
      '--base-model <onnx>',
      'same-run A/B: measure this base model interleaved with the candidate (recommended on noisy machines)',
    )
    .option('--store <dir>', 'baseline store folder (default: $TR118_BASELINE_DIR or ~/.cache/tr118/baselines)')
    .option(
      '--cache-dir <dir>',
      'artifact cache for ONNX exports of model.hf (default: $TR118_CACHE_DIR or ~/.cache/tr118/artifacts)',
    )
    .option('-q, --quiet', 'no progress output')
    .addOption(failOnOption())
    .action(async (flags: RunFlags) => setExit(await runCommand(flags, io)));
  program
    .command('compare')
    .description(
      "compare two results.json files offline (stored-baseline rules; the candidate's own gates count, as in run --baseline) and write verdict.json",
    )
    .argument('<base>', 'the base results.json')
    .argument('<candidate>', 'the candidate results.json')
    .option(
      '-c, --config <file>',
      'take thresholds and compare settings from this config (default: the documented defaults)',
    )
    .option('-o, --out <dir>', 'where verdict.json goes', DEFAULT_OUT_DIR)
    .addOption(failOnOption())
    .action((base: string, candidate: string, flags: CompareFlags) =>
      setExit(compareCommand(base, candidate, flags, io)),
    );
  program
    .command('merge')
    .description(
      `merge the results.json of a split matrix's parts into one verdict (as the Action's mode: merge), write report.md, ${OUTPUT_FILES.html} and ${MERGED_FILE}; parts of other commits, models, tokens or matrices are refused`,
    )
    .argument('<results...>', "the parts' results.json files")
    .option('-o, --out <dir>', 'output folder', DEFAULT_OUT_DIR)
    .option(
      '--allow-part-differences <list>',
      `what the parts may differ in, comma-separated: ${PART_IDENTITY.join(', ')} (default: nothing)`,
    )
    .addOption(failOnOption())
    .action((files: string[], flags: MergeFlags) => setExit(mergeCommand(files, flags, io)));
  program
    .command('provision')
    .description(
      "download, verify (pinned sha256) and install ONNX Runtime's CUDA and TensorRT provider libraries for onnxruntime-node and the Python worker, on a GPU machine",
    )
    .addOption(
      new Option(
        '--cuda <major>',
        "the CUDA major version of the build (default: the driver's, from nvidia-smi)",
      ).choices(['12', '13']),
    )
    .option('--python <path>', "the worker's Python: its version picks the wheel (default: as `tr118 run` finds it)")
    .action(async (flags: ProvisionFlags) => setExit(await provisionCommand(flags, io)));
  // tr118 report: the reports of an earlier run, rendered again without measuring (report-command.ts).
  program
    .command('report')
    .description(
      `render the reports of an earlier run again from its results.json (several, or a ${MERGED_FILE}: the merged report of a split matrix), measuring nothing`,
    )
    .argument('<results...>', `results.json files, or a ${MERGED_FILE}`)
    .option('--html', `also write ${OUTPUT_FILES.html} (self-contained: opens without a network)`)
    .option('-o, --out <dir>', 'output folder (default: the folder of the first results file)')
    .option(
      '--allow-part-differences <list>',
      `several parts: what they may differ in, comma-separated: ${PART_IDENTITY.join(', ')}`,
    )
    .action((files: string[], flags: ReportFlags) => {
      for (const file of reportCommand(files, flags, io.cwd)) io.stdout.write(`wrote ${file}\n`);
      setExit(ExitCode.pass);
    });
  addBaselineCommands(program, io, setExit);
  addCacheCommands(program, io, setExit);
  return program;
}

/** Runs the CLI and returns its exit code; never throws. */
export async function main(argv: readonly string[], io: CliIo): Promise<number> {
  let exitCode: number = ExitCode.pass;
  const program = buildProgram(io, (code) => (exitCode = code));
  try {
    if (argv.length === 0) {
      program.outputHelp();
      return ExitCode.usage;
    }
    await program.parseAsync([...argv], { from: 'user' });
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version "fail" with exit code 0 in commander's terms; real parse errors are usage errors.
      return error.exitCode === 0 ? ExitCode.pass : ExitCode.usage;
    }
    if (error instanceof UsageError) {
      // A usage error may name parts or files by untrusted names: its lines are kept, but none starts a command.
      io.stderr.write(`tr118: ${noCommandLines(error.message)}\n`);
      return ExitCode.usage;
    }
    io.stderr.write(`tr118: internal error: ${noCommandLines(describeError(error))}\n`);
    if (process.env.TR118_DEBUG && error instanceof Error && error.stack) io.stderr.write(`${error.stack}\n`);
    else io.stderr.write('(set TR118_DEBUG=1 for the stack trace, and please report it)\n');
    return ExitCode.internal;
  }
}
