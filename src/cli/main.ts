/**
 * The `tr118` command line: parses flags, loads the config, runs the pipeline (or a comparison, or the baseline
 * store), prints the verdict, and returns the documented exit code. Holds no logic the Action could also need.
 */
import path from 'node:path';
import { Command, CommanderError, Option } from 'commander';
import { median as ssMedian } from 'simple-statistics';
import { loadConfigFile, parseConfig, type Config, type LoadOverrides } from '../config/load.js';
import { toolVersion } from '../env/collect.js';
import { describeError, ExitCode, UsageError } from '../errors.js';
import { DEFAULT_FAIL_ON, FAIL_ON, failsOn, type Decision, type FailOn, type Verdict } from '../gate/verdict.js';
import { packageRoot } from '../paths.js';
import { MERGED_FILE, OUTPUT_FILES, runPipeline } from '../pipeline.js';
import { num } from '../report/format.js';
import { checkWritableDir, makeWritableDir } from '../results/out-dir.js';
import { readResultsFile } from '../results/read.js';
import { defaultStoreDir, listBaselines, loadBaseline, saveBaseline } from '../results/store.js';
import { judge, writeVerdictFile } from '../results/verdict.js';
import { createProgress } from './progress.js';
import { reportCommand, type ReportFlags } from './report-command.js';

export const DEFAULT_CONFIG = 'fixtures/configs/default.yml';
export const DEFAULT_OUT_DIR = 'tr118-results';

interface RunFlags {
  readonly config?: string;
  readonly out: string;
  readonly model?: string;
  readonly baseline?: string;
  readonly baseModel?: string;
  readonly store?: string;
  readonly quiet?: boolean;
  readonly failOn: FailOn;
}

export interface CliIo {
  readonly stdout: NodeJS.WriteStream;
  readonly stderr: NodeJS.WriteStream;
  readonly cwd: string;
}

function configFrom(io: CliIo, file: string | undefined, overrides: LoadOverrides = {}): Config {
  const configFile = file ? path.resolve(io.cwd, file) : path.join(packageRoot(), DEFAULT_CONFIG);
  return loadConfigFile(configFile, overrides);
}

/** The exit code follows the same rule as the Action's step and commit status (README "Exit codes"). */
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
function printVerdict(io: CliIo, verdict: Verdict): void {
  io.stdout.write(`verdict: ${verdict.decision} (${verdict.basis})\n`);
  for (const r of verdict.reasons) io.stdout.write(`  ${r.decision}: ${r.subject}: ${r.message}\n`);
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
 * and written by the same functions as `run --baseline BASE` (results/verdict.ts): the candidate's own gates
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
      `  ${c.decision.padEnd(12)} ${c.backend} × ${c.scenario}:${change} ${num(c.baseMedianMs)} → ${num(c.candidateMedianMs)} ms; ${c.reason}\n`,
    );
  }
  for (const a of comparison?.accuracy ?? []) io.stdout.write(`  ${a.decision.padEnd(12)} ${a.backend}: ${a.reason}\n`);
  makeWritableDir(outDir, 'output folder');
  const file = path.join(outDir, OUTPUT_FILES.verdict);
  writeVerdictFile(file, { ...judgement, accuracy: candidate.accuracy });
  io.stdout.write(`verdict file: ${file}\n`);
  return exitCodeOf(verdict.decision, flags.failOn);
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
  // tr118 report: the reports of an earlier run, rendered again without measuring (report-command.ts).
  program
    .command('report')
    .description(
      `render the reports of an earlier run again from its results.json (several, or a ${MERGED_FILE}: the merged report of a split matrix), measuring nothing`,
    )
    .argument('<results...>', `results.json files, or a ${MERGED_FILE}`)
    .option('--html', `also write ${OUTPUT_FILES.html} (self-contained: opens without a network)`)
    .option('-o, --out <dir>', 'output folder (default: the folder of the first results file)')
    .action((files: string[], flags: ReportFlags) => {
      for (const file of reportCommand(files, flags, io.cwd)) io.stdout.write(`wrote ${file}\n`);
      setExit(ExitCode.pass);
    });
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
      io.stderr.write(`tr118: ${error.message}\n`);
      return ExitCode.usage;
    }
    io.stderr.write(`tr118: internal error: ${describeError(error)}\n`);
    if (process.env.TR118_DEBUG && error instanceof Error && error.stack) io.stderr.write(`${error.stack}\n`);
    else io.stderr.write('(set TR118_DEBUG=1 for the stack trace, and please report it)\n');
    return ExitCode.internal;
  }
}
