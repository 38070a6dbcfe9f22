/**
 * Every `bench:*` script writes its figures through this module, so a figure quoted in the README comes from a
 * file that says what produced it: the bench, the git commit (and whether the tree differed from it), the config or
 * parameters, the machine, and when.
 *
 * Default file: `bench/results/<stem>-<machine slug>.json` under the repository root, so a rerun on the same machine
 * replaces its own file (and the README's citation stays valid) while another machine adds one beside it.
 *   --out FILE    write there instead
 *   --notes TEXT  what else was true of the machine (e.g. "other work on the machine"): kept in machine.notes
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { collectEnvironment, type Environment } from '../src/env/collect.js';
import { packageRoot } from '../src/paths.js';

/** Where the records land, relative to the repository root. */
export const RESULTS_DIR_RELATIVE = 'bench/results';

export interface GitRecord {
  readonly commit: string;
  /** True when tracked or untracked files outside bench/results differ from the commit (`git status --porcelain`). */
  readonly dirty: boolean;
  /** The paths `git status --porcelain` named (bench/results left out: earlier records are not code that ran). */
  readonly changedPaths: readonly string[];
}

export interface ConfigRecord {
  /** The config file the bench ran, relative to the repository root when inside it; null when it ran none. */
  readonly file: string | null;
  readonly sha256: string | null;
  /** The bench's own parameters and the flags it was given. */
  readonly parameters: Readonly<Record<string, unknown>>;
}

export interface MachineRecord extends Environment {
  /** File-name form of the CPU model and count, e.g. `intel-xeon-2cpu`. */
  readonly slug: string;
  /** 1, 5 and 15 minute load averages at the start: other work on the machine shows here. */
  readonly loadAverageAtStart: readonly number[];
  readonly notes: string | null;
}

export interface BenchRecord {
  readonly bench: string;
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly git: GitRecord | null;
  readonly config: ConfigRecord;
  readonly machine: MachineRecord;
  /** The measured values; every key names its unit (`wallSeconds`, `medianMs`, `peakRssMiB`, `…Fraction`). */
  readonly figures: Readonly<Record<string, unknown>>;
}

export interface BenchRecordOptions {
  /** The bench's name, as in `npm run bench:…` scripts' file names: `harness-overhead`, `default-matrix`, … */
  readonly bench: string;
  /** The file name before the machine slug; default the bench name (gate-quality adds mode and K). */
  readonly fileStem?: string;
  readonly configFile?: string;
  readonly parameters: Readonly<Record<string, unknown>>;
  /** Explicit output path (relative to the working directory); default `bench/results/<stem>-<slug>.json`. */
  readonly out?: string | undefined;
  readonly notes?: string | undefined;
  /** The repository whose commit is recorded and under which the default file lands; default this package. */
  readonly root?: string;
}

export interface BenchRecorder {
  /** The file every write goes to. */
  readonly file: string;
  /** Writes (or rewrites: a long bench writes after every step) the record with these figures; returns it. */
  write(figures: Readonly<Record<string, unknown>>): BenchRecord;
}

/** `--out` and `--notes`, the flags every bench but gate-quality (which has more) understands. */
export function parseBenchFlags(argv: readonly string[] = process.argv.slice(2)): {
  out: string | undefined;
  notes: string | undefined;
} {
  const { values } = parseArgs({
    args: [...argv],
    options: { out: { type: 'string' }, notes: { type: 'string' } },
  });
  return { out: values.out, notes: values.notes };
}

/** `Intel(R) Xeon(R) Processor` × 16 → `intel-xeon-16cpu`: stable across runs, readable in a file name. */
/** A scratch folder for one bench run (figures go to bench/results/, never here): removed however the script ends. */
export function scratchDir(prefix: string): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export function machineSlug(cpuModel: string, cpuCount: number): string {
  const words = cpuModel
    .toLowerCase()
    .replace(/\((r|tm)\)/g, ' ')
    .replace(/@.*$/, ' ') // the clock in "… CPU @ 2.60GHz": the model already says it
    .replace(/\b(processor|cpu|\d+-core)\b/g, ' ')
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
  return `${words || 'unknown-cpu'}-${cpuCount}cpu`;
}

export function sha256File(file: string): string {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

function git(root: string, args: string[]): string | undefined {
  try {
    return execFileSync('git', args, { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  } catch {
    return undefined;
  }
}

/** The commit of `root` and what differs from it; null outside a git repository. */
export function collectGitRecord(root: string): GitRecord | null {
  const commit = git(root, ['rev-parse', 'HEAD'])?.trim();
  if (!commit) return null;
  // bench/results is left out: a bench run writes there, and that must not make the next bench's record dirty.
  const status = git(root, ['status', '--porcelain', '--', '.', `:(exclude)${RESULTS_DIR_RELATIVE}`]) ?? '';
  const changedPaths = status
    .split('\n')
    .filter((line) => line.length > 3)
    .map((line) => line.slice(3));
  return { commit, dirty: changedPaths.length > 0, changedPaths };
}

function relativeIfInside(root: string, file: string): string {
  const relative = path.relative(root, path.resolve(file));
  return relative.startsWith('..') || path.isAbsolute(relative) ? path.resolve(file) : relative;
}

/**
 * Collects the header once, at the start (the commit and machine that the run measures), and returns a recorder
 * that writes the record with the figures when they are known.
 */
export function startBenchRecord(options: BenchRecordOptions): BenchRecorder {
  const root = options.root ?? packageRoot();
  const startedAt = new Date().toISOString();
  const environment = collectEnvironment();
  const machine: MachineRecord = {
    slug: machineSlug(environment.cpuModel, environment.cpuCount),
    ...environment,
    loadAverageAtStart: os.loadavg().map((load) => Math.round(load * 100) / 100),
    notes: options.notes ?? null,
  };
  const config: ConfigRecord = {
    file: options.configFile === undefined ? null : relativeIfInside(root, options.configFile),
    sha256: options.configFile === undefined ? null : sha256File(options.configFile),
    parameters: options.parameters,
  };
  const gitRecord = collectGitRecord(root);
  const file = path.resolve(
    options.out ?? path.join(root, RESULTS_DIR_RELATIVE, `${options.fileStem ?? options.bench}-${machine.slug}.json`),
  );
  return {
    file,
    write(figures) {
      const record: BenchRecord = {
        bench: options.bench,
        startedAt,
        finishedAt: new Date().toISOString(),
        git: gitRecord,
        config,
        machine,
        figures,
      };
      mkdirSync(path.dirname(file), { recursive: true });
      writeFileSync(file, `${JSON.stringify(record, null, 2)}\n`);
      return record;
    },
  };
}
