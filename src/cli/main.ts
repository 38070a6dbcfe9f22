/**
 * The `tr118` command line: parses flags, loads the config, runs the pipeline, prints the verdict, and returns the
 * documented exit code. Holds no logic the Action could also need.
 */
import path from 'node:path';
import { Command, CommanderError } from 'commander';
import { loadConfigFile, type LoadOverrides } from '../config/load.js';
import { toolVersion } from '../env/collect.js';
import { describeError, ExitCode, UsageError } from '../errors.js';
import { packageRoot } from '../paths.js';
import { OUTPUT_FILES, runPipeline } from '../pipeline.js';
import { createProgress } from './progress.js';

export const DEFAULT_CONFIG = 'fixtures/configs/default.yml';
export const DEFAULT_OUT_DIR = 'tr118-results';

interface RunFlags {
  readonly config?: string;
  readonly out: string;
  readonly model?: string;
  readonly quiet?: boolean;
}

export interface CliIo {
  readonly stdout: NodeJS.WriteStream;
  readonly stderr: NodeJS.WriteStream;
  readonly cwd: string;
}

async function runCommand(flags: RunFlags, io: CliIo): Promise<number> {
  const configFile = flags.config ? path.resolve(io.cwd, flags.config) : path.join(packageRoot(), DEFAULT_CONFIG);
  const overrides: LoadOverrides = { modelPath: flags.model ? path.resolve(io.cwd, flags.model) : undefined };
  const config = loadConfigFile(configFile, overrides);
  const outDir = path.resolve(io.cwd, flags.out);
  const progress = createProgress(io.stderr, flags.quiet ?? false);
  let result;
  try {
    result = await runPipeline({
      config,
      outDir,
      modelFromFlag: flags.model !== undefined,
      progress: progress.onEvent,
      cwd: io.cwd,
    });
  } finally {
    progress.stop();
  }
  const { results } = result;
  const v = results.verdict;
  io.stdout.write(`verdict: ${v.decision} (${v.basis})\n`);
  for (const r of v.reasons) io.stdout.write(`  ${r.decision}: ${r.subject}: ${r.message}\n`);
  for (const b of results.backends) {
    const g = b.geomean;
    const figure = g ? `geomean median ${g.latencyMs.toFixed(3)} ms over ${g.scenarios} scenarios` : (b.reason ?? '');
    io.stdout.write(`  ${b.spec.name}: ${b.status}; ${figure}\n`);
  }
  io.stdout.write(
    `report: ${path.join(outDir, OUTPUT_FILES.report)} (and ${Object.values(OUTPUT_FILES)
      .filter((f) => f !== OUTPUT_FILES.report)
      .join(', ')})\n`,
  );
  return v.decision === 'fail' ? ExitCode.gateFailed : ExitCode.pass;
}

export function buildProgram(io: CliIo, setExit: (code: number) => void): Command {
  const program = new Command()
    .name('tr118')
    .description(
      'Prefill latency, throughput and perplexity gate for ONNX language models (ONNX Runtime; TensorRT and PyTorch through native workers).',
    )
    .version(toolVersion(), '-V, --version')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) })
    .addHelpText(
      'after',
      '\nExit codes: 0 pass (or no gate failed), 1 gate failed, 2 usage or config error, 3 internal error.\n' +
        'Run `tr118 run` with no flags to benchmark the bundled fixture model with the default matrix.',
    );
  program
    .command('run')
    .description('run the prefill matrix and write the report files')
    .option('-c, --config <file>', `matrix config (YAML); default: the built-in ${DEFAULT_CONFIG}`)
    .option('-o, --out <dir>', 'output folder', DEFAULT_OUT_DIR)
    .option('-m, --model <onnx>', 'ONNX model to measure, replacing model.onnx of the config')
    .option('-q, --quiet', 'no progress output')
    .action(async (flags: RunFlags) => setExit(await runCommand(flags, io)));
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
