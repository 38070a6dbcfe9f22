/**
 * The parts of docs/ and README.md that must not be typed by hand: the tables of measured figures (from
 * bench/results/*.json), and the CLI's help texts (from the CLI itself). Each sits between marker comments
 *
 *     <!-- generated:NAME (npm run docs) -->  …  <!-- /generated:NAME -->
 *
 * and `npm run docs` rewrites what is between them; test/unit/docs.test.ts fails when the committed text differs
 * from what this script makes, and when docs/configuration.md and the config schema disagree on a key.
 *   npm run docs            rewrite the generated regions
 *   npm run docs -- --check exit 1, naming each stale file, when a region differs (nothing is written)
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { parseAllDocuments } from 'yaml';
import { z } from 'zod';
import { buildProgram } from '../src/cli/main.js';
import { configSchema } from '../src/config/schema.js';

export const ROOT = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
const RESULTS = 'bench/results';

// ---------------------------------------------------------------------------------------------- generated regions

/** A region's text, made from files under `root`. */
type Render = (root: string) => string;

/** Every generated region: the file that holds it, and what makes it. */
export const REGIONS: Record<string, { file: string; render: Render }> = {
  'bench-figures': { file: 'docs/development.md', render: renderBenchFigures },
  'gate-quality-xeon': { file: 'docs/verdict.md', render: (root) => renderGateQuality(root, XEON_ROWS) },
  'gate-quality-local': { file: 'docs/verdict.md', render: (root) => renderGateQuality(root, LOCAL_ROWS) },
  'cli-help': { file: 'docs/cli.md', render: () => renderCliHelp() },
};

const open = (name: string) => `<!-- generated:${name} (npm run docs) -->`;
const close = (name: string) => `<!-- /generated:${name} -->`;

/**
 * `text` with the region `name` replaced by `body`. A file that lacks either marker is an error naming the file and
 * the marker, so a region deleted by an edit is noticed instead of silently no longer checked.
 */
export function replaceRegion(file: string, text: string, name: string, body: string): string {
  const start = text.indexOf(open(name));
  const end = text.indexOf(close(name));
  if (start < 0 || end < start)
    throw new Error(`${file}: expected the markers "${open(name)}" and, after it, "${close(name)}"`);
  return `${text.slice(0, start)}${open(name)}\n${body.trimEnd()}\n${text.slice(end)}`;
}

/** Every file that holds generated regions, as `npm run docs` would write it. */
export function renderAll(root: string = ROOT): Map<string, string> {
  const files = new Map<string, string>();
  for (const [name, { file, render }] of Object.entries(REGIONS)) {
    const text = files.get(file) ?? readFileSync(path.join(root, file), 'utf8');
    files.set(file, replaceRegion(file, text, name, render(root)));
  }
  return files;
}

/** The files whose committed text differs from what `npm run docs` makes. */
export function staleFiles(root: string = ROOT): string[] {
  return [...renderAll(root)]
    .filter(([file, text]) => readFileSync(path.join(root, file), 'utf8') !== text)
    .map(([file]) => file);
}

// ------------------------------------------------------------------------------------------------ bench figures

interface BenchRecord {
  bench: string;
  startedAt: string;
  machine: { slug: string; notes?: string | null; loadAverageAtStart?: number[]; gpus?: { name: string }[] };
  figures: Record<string, unknown>;
}

const num = (value: unknown, digits: number) => (typeof value === 'number' ? value.toFixed(digits) : 'n/a');
const pct = (fraction: unknown, digits = 1) =>
  typeof fraction === 'number' ? `${fraction > 0 ? '+' : ''}${(fraction * 100).toFixed(digits)}%` : 'n/a';
const at = (value: unknown, key: string): unknown =>
  value !== null && typeof value === 'object' ? (value as Record<string, unknown>)[key] : undefined;

/** One line of figures per bench, in the words of the bench's target (bench/<name>.ts says what each key is). */
const FIGURES: Record<string, (f: Record<string, unknown>) => string> = {
  'harness-overhead': (f) =>
    Object.entries(f)
      .map(
        ([scenario, s]) =>
          `${scenario}: harness ÷ bare ${num(at(s, 'harnessOverBareRatio'), 3)}, through the worker ${num(at(s, 'runnerOverBareRatio'), 3)}`,
      )
      .join('; '),
  'default-matrix': (f) =>
    `\`tr118 run\` to report written ${num(f.wallSeconds, 1)} s (budget 60 s); perplexity ${Object.entries(
      (f.perplexityByBackend ?? {}) as Record<string, number>,
    )
      .map(([backend, ppl]) => `${num(ppl, 2)} (${backend})`)
      .join(', ')}`,
  'nll-throughput': (f) => `${num(Number(f.logitsPerSecond) / 1e6, 1)} million logits/s on one core (target ≥ 50)`,
  'accuracy-memory': (f) =>
    `peak RSS: worker ${num(f.workerPeakRssMiB, 0)} MiB, runner ${num(f.runnerPeakRssMiB, 0)} MiB (target < 1,536 MiB each)`,
  'action-overhead': (f) =>
    `the Action's own seconds over the measurement: ${Object.entries(f)
      .map(([state, s]) => `${state} ${num(at(s, 'overheadSeconds'), 1)}`)
      .join(', ')}`,
  'export-cache': (f) =>
    `cold ${num(f.coldSeconds, 2)} s (export ${num(f.exportSeconds, 2)} s), warm ${num(f.warmMedianSeconds, 2)} s, given ONNX ${num(f.givenMedianSeconds, 2)} s: a hit costs ${num(f.hitOverheadSeconds, 2)} s (target ≤ 1 s)`,
  precision: (f) =>
    `dynamo export ${num(f.dynamoExportSeconds, 1)} s (TorchScript ${num(f.torchscriptExportSeconds, 1)} s), int8 derivation ${num(f.int8DeriveSeconds, 2)} s; run cold ${num(f.coldRunSeconds, 1)} s, warm ${num(f.warmRunSeconds, 1)} s; int8 perplexity Δ ${num(f.int8PerplexityDeltaFraction, 4)} (gate ${f.int8GatePass === true ? 'passes' : 'fails'}); int8 ÷ fp32 speed-up ${Object.entries(
      (f.speed ?? {}) as Record<string, unknown>,
    )
      .map(([scenario, s]) => `${scenario} ${num(at(at(s, 'warm'), 'int8SpeedupOverFp32'), 2)}×`)
      .join(', ')} (warm run)${f.fusions === undefined ? '' : `; ${fusedFigures(f)}`}`,
  'gate-quality': (f) =>
    `${String(f.decisions)} decisions, fail ${pct(at(f.decisionFractions, 'fail'))}, measured change ${pct(f.measuredChangeFraction)}, median minimum detectable effect ${pct(f.medianMinDetectableFraction).replace(/^\+/, '')}, ${num(f.secondsPerTrial, 0)} s a trial`,
  'sequential-gate': (f) =>
    Object.entries((f.conditions ?? {}) as Record<string, Record<string, unknown>>)
      .filter(([name]) => name.endsWith('-sequential'))
      .map(([name, c]) => {
        const fixed = at(f.conditions, name.replace(/-sequential$/, '-fixed'));
        const wallShare = Number(c.medianWallSeconds) / Number(at(fixed, 'medianWallSeconds'));
        const k = c.extraLayers === undefined ? `K=${String(c.extraMatMuls)}` : `+${num(c.extraLayers, 0)} layers`;
        return `${k}: ${String(c.runs)} runs, fail ${pct(c.runFailShare).replace(/^\+/, '')}, warn ${pct(c.runWarnShare).replace(/^\+/, '')}, inconclusive ${pct(c.runInconclusiveShare).replace(/^\+/, '')}, wall ${num(wallShare * 100, 0)}% of fixed`;
      })
      .join('; '),
  'worker-bytecode': (f) =>
    `a compiled PyTorch backend's worker preload: byte code beside the sources ${num(at(f.beside, 'medianWallSeconds'), 2)} s, none ${num(at(f.none, 'medianWallSeconds'), 2)} s, from a folder an earlier process wrote ${num(at(f.folder, 'medianWallSeconds'), 2)} s (writing it ${num(at(f.folderFirst, 'medianWallSeconds'), 2)} s)`,
  'ort-harness': (f) =>
    `timer ÷ bare \`run_with_iobinding\` loop (target ≤ 1.05), provider ${String(f.provider)}: ${Object.entries(
      (f.shapes ?? {}) as Record<string, unknown>,
    )
      .map(([shape, s]) => `${shape.replace('x', '×')} ${num(at(s, 'harnessOverBareRatio'), 3)}`)
      .join(', ')}`,
};

/** bench:precision --optimize: the transformer fusions' line (what fused, their gate, their speed against fp32). */
function fusedFigures(f: Record<string, unknown>): string {
  const fusions = Object.entries((f.fusions ?? {}) as Record<string, number>)
    .map(([op, count]) => `${op} ${count}`)
    .join(', ');
  const speed = Object.entries((f.speed ?? {}) as Record<string, unknown>)
    .map(([scenario, s]) => `${scenario} ${num(at(at(s, 'warm'), 'fusedSpeedupOverFp32'), 2)}×`)
    .join(', ');
  return `optimize: transformers (fused ${fusions || 'nothing'}) derivation ${num(f.fusedDeriveSeconds, 2)} s, perplexity Δ ${typeof f.fusedPerplexityDeltaFraction === 'number' ? f.fusedPerplexityDeltaFraction.toExponential(1) : '—'} (gate ${f.fusedGatePass === true ? 'passes' : 'fails'}), fused ÷ fp32 speed-up ${speed} (warm run)`;
}

function readRecords(root: string): { file: string; record: BenchRecord }[] {
  return readdirSync(path.join(root, RESULTS))
    .filter((file) => file.endsWith('.json'))
    .sort()
    .map((file) => ({ file, record: JSON.parse(readFileSync(path.join(root, RESULTS, file), 'utf8')) as unknown }))
    .filter((r): r is { file: string; record: BenchRecord } => at(r.record, 'figures') !== undefined)
    .map((r) => ({ file: r.file, record: r.record }));
}

/** One row per file bench/record.ts wrote: the bench, where and when, its figures, the file. */
export function renderBenchFigures(root: string): string {
  const rows = readRecords(root).map(({ file, record }) => {
    const figures = FIGURES[record.bench];
    if (!figures)
      throw new Error(
        `${RESULTS}/${file}: bench "${record.bench}" has no line in FIGURES of scripts/docs.ts: add one saying which figures to show`,
      );
    const load = record.machine.loadAverageAtStart?.[0];
    // A GPU run's CPU slug alone would hide the card that gave its figures.
    const gpu = record.machine.gpus?.[0]?.name;
    const machine = `${record.machine.slug}${gpu === undefined ? '' : ` + ${gpu}`}, ${record.startedAt.slice(0, 10)}${load === undefined ? '' : `, load ${load.toFixed(1)}`}`;
    return `| \`${record.bench}\` | ${machine} | ${figures(record.figures)} | [\`${file}\`](../${RESULTS}/${file}) |`;
  });
  return ['| bench | machine, date, 1-min load at start | figures | file |', '| --- | --- | --- | --- |', ...rows].join(
    '\n',
  );
}

// ------------------------------------------------------------------------------------------------- gate quality

interface GateFile {
  decisions: number;
  rates: Record<'fail' | 'warn' | 'inconclusive', number>;
  measuredChange: number;
}

/** A row of a gate-quality table: its label (from the README of the time, see bench/results/README.md) and files. */
type GateRow = readonly [mode: string, candidate: string, files: readonly string[]];

const XEON_ROWS: readonly GateRow[] = [
  ['same-run', 'A/A', ['same-host-round2-aa1', 'same-host-round2-aa2', 'same-host-round2-aa3']],
  ['same-run', 'K=8', ['same-host-round2-sr8']],
  ['same-run', 'K=16', ['same-host-round2-sr16']],
  ['same-run', 'K=24', ['same-host-round2-sr24']],
  ['stored, 5% allowance, 1 of 8 slices stored', 'A/A', ['same-host-round2-st0']],
  ['stored, 5% allowance', 'K=16', ['same-host-round2-st16']],
  [
    'stored, 10% allowance, 8 of 8 slices stored',
    'A/A',
    ['stored-round3-st0a', 'stored-round3-st0b', 'stored-round3-st0c', 'stored-round3-st0d'],
  ],
  ['stored, 10% allowance', 'K=16, two streams', ['stored-round3-st16a', 'stored-round3-st16b']],
];
const LOCAL_ROWS: readonly GateRow[] = [
  ['same-run', 'A/A', ['local-2core-swap-aa']],
  ['same-run', 'K=16', ['local-2core-swap-k16']],
];

/** Decision-weighted rates over a row's files; each file's measured change as it is. */
export function renderGateQuality(root: string, rows: readonly GateRow[]): string {
  const lines = rows.map(([mode, candidate, files]) => {
    const parts = files.map((f) => JSON.parse(readFileSync(path.join(root, RESULTS, `${f}.json`), 'utf8')) as GateFile);
    const decisions = parts.reduce((sum, p) => sum + p.decisions, 0);
    const rate = (key: keyof GateFile['rates']) =>
      pct(parts.reduce((sum, p) => sum + p.rates[key] * p.decisions, 0) / decisions).replace(/^\+/, '');
    const changes = parts.map((p) => pct(p.measuredChange)).join(' / ');
    const names = files.map((f) => `\`${f}.json\``).join(', ');
    return `| ${mode} | ${candidate} (${changes}) | ${String(decisions)} | ${rate('fail')} | ${rate('warn')} | ${rate('inconclusive')} | ${names} |`;
  });
  return [
    '| mode | candidate (measured change per file) | decisions | fail | warn | inconclusive | file (`bench/results/`) |',
    '| --- | --- | --- | --- | --- | --- | --- |',
    ...lines,
  ].join('\n');
}

// ---------------------------------------------------------------------------------------------------- CLI help

/** Help is wrapped at this width whatever the terminal, so the text is the same on every machine. */
const HELP_WIDTH = 100;

function allCommands(command: Command): Command[] {
  return [command, ...command.commands.flatMap(allCommands)];
}

function commandPath(command: Command): string {
  const names: string[] = [];
  for (let c: Command | null = command; c; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

/** `tr118 --help` and every subcommand's `--help`, in one text block each. */
export function cliHelpTexts(): { command: string; help: string }[] {
  const program = buildProgram({ stdout: process.stdout, stderr: process.stderr, cwd: ROOT }, () => undefined);
  return allCommands(program).map((command) => {
    command.configureHelp({ ...command.configureHelp(), helpWidth: HELP_WIDTH });
    return { command: commandPath(command), help: command.helpInformation().trimEnd() };
  });
}

function renderCliHelp(): string {
  return cliHelpTexts()
    .map(({ command, help }) => `### \`${command} --help\`\n\n\`\`\`text\n${help}\n\`\`\``)
    .join('\n\n');
}

/** Every `--flag` the CLI's help texts name. */
export function cliFlags(): Set<string> {
  return new Set(cliHelpTexts().flatMap(({ help }) => [...help.matchAll(/--[a-z][a-z-]*/g)].map((m) => m[0])));
}

export const CLI_REFERENCE = 'docs/cli.md';

/**
 * What docs/cli.md's own text (the generated help aside) and the CLI disagree on: a flag the text names that no
 * command has, or a flag of the CLI the text never names. One sentence each, naming the flag and the file to edit.
 */
export function cliReferenceProblems(markdown: string, flags: ReadonlySet<string> = cliFlags()): string[] {
  const start = markdown.indexOf(open('cli-help'));
  const end = markdown.indexOf(close('cli-help'));
  const written = start >= 0 && end > start ? markdown.slice(0, start) + markdown.slice(end) : markdown;
  const named = new Set([...written.matchAll(/(?<![\w-])--[a-z][a-z-]*/g)].map((m) => m[0]));
  return [
    ...[...named]
      .filter((flag) => !flags.has(flag))
      .map(
        (flag) => `${CLI_REFERENCE} names ${flag}, which no tr118 command has (tr118 … --help): fix ${CLI_REFERENCE}`,
      ),
    ...[...flags]
      .filter((flag) => !named.has(flag))
      .map((flag) => `tr118 has ${flag}, which ${CLI_REFERENCE} does not describe: add it to ${CLI_REFERENCE}`),
  ];
}

// ------------------------------------------------------------------------------------------- config reference

/**
 * The key paths of a zod schema: `model.onnx`, `backends[].engine`, `scenarios.*.batch`. Records become `*`, array
 * elements `[]`; a union contributes the keys of each of its object members.
 */
export function schemaKeyPaths(schema: z.ZodType, prefix = ''): string[] {
  const def = (schema as unknown as { _zod: { def: Record<string, unknown> } })._zod.def;
  switch (def.type) {
    case 'object':
      return Object.entries(def.shape as Record<string, z.ZodType>).flatMap(([key, value]) => {
        const keyPath = prefix ? `${prefix}.${key}` : key;
        return [keyPath, ...schemaKeyPaths(value, keyPath)];
      });
    case 'optional':
    case 'nullable':
    case 'default':
    case 'prefault':
    case 'readonly':
    case 'nonoptional':
      return schemaKeyPaths(def.innerType as z.ZodType, prefix);
    case 'pipe':
      return schemaKeyPaths(def.in as z.ZodType, prefix);
    case 'array':
      return schemaKeyPaths(def.element as z.ZodType, `${prefix}[]`);
    case 'record':
      return [`${prefix}.*`, ...schemaKeyPaths(def.valueType as z.ZodType, `${prefix}.*`)];
    case 'union':
      return [...new Set((def.options as z.ZodType[]).flatMap((option) => schemaKeyPaths(option, prefix)))];
    default:
      return [];
  }
}

/** The key paths of a documented value, in the schema's words: a record's keys become `*`, list items `[]`. */
function documentedKeyPaths(value: unknown, recordPaths: ReadonlySet<string>, prefix = ''): string[] {
  if (Array.isArray(value)) return value.flatMap((item) => documentedKeyPaths(item, recordPaths, `${prefix}[]`));
  if (value === null || typeof value !== 'object') return [];
  return Object.entries(value as Record<string, unknown>).flatMap(([key, inner]) => {
    const keyPath = recordPaths.has(prefix) ? `${prefix}.*` : prefix ? `${prefix}.${key}` : key;
    return [keyPath, ...documentedKeyPaths(inner, recordPaths, keyPath)];
  });
}

/** The ```yaml blocks of a markdown text, parsed (comments dropped). */
export function yamlBlocks(file: string, markdown: string): unknown[] {
  return [...markdown.matchAll(/^```yaml\n([\s\S]*?)^```/gm)].flatMap((match) =>
    parseAllDocuments(match[1] ?? '').map((doc) => {
      if (doc.errors.length > 0) throw new Error(`${file}: a yaml block does not parse: ${doc.errors[0]?.message}`);
      return doc.toJS() as unknown;
    }),
  );
}

export const CONFIG_REFERENCE = 'docs/configuration.md';

/**
 * What docs/configuration.md and the config schema disagree on, one sentence each, naming the key and the file to
 * edit; empty when every key of the schema is in the reference's YAML blocks and every key there is in the schema.
 */
export function configReferenceProblems(
  markdown: string,
  schema: z.ZodType = configSchema,
  file: string = CONFIG_REFERENCE,
): string[] {
  const known = schemaKeyPaths(schema);
  const recordPaths = new Set(known.filter((p) => p.endsWith('.*')).map((p) => p.slice(0, -2)));
  const documented = new Set(yamlBlocks(file, markdown).flatMap((block) => documentedKeyPaths(block, recordPaths)));
  const knownSet = new Set(known);
  return [
    ...known
      .filter((key) => !documented.has(key) && !key.endsWith('.*'))
      .map(
        (key) =>
          `config key "${key}" (src/config/schema.ts) is not documented: add it, with a comment saying what it does, to a \`\`\`yaml block of ${file}`,
      ),
    ...[...documented]
      .filter((key) => !knownSet.has(key))
      .map(
        (key) =>
          `${file} documents config key "${key}", which src/config/schema.ts does not have: remove or rename it in ${file}`,
      ),
  ];
}

// ------------------------------------------------------------------------------------------------------------ main

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  if (process.argv.includes('--check')) {
    const stale = staleFiles();
    for (const file of stale) console.error(`${file}: a generated region differs from its sources: run npm run docs`);
    process.exit(stale.length > 0 ? 1 : 0);
  }
  for (const [file, text] of renderAll()) {
    if (readFileSync(path.join(ROOT, file), 'utf8') === text) continue;
    writeFileSync(path.join(ROOT, file), text);
    console.log(`wrote ${file}`);
  }
}
