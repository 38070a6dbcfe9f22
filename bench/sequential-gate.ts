/**
 * Sequential stopping, measured (docs/sequential-stopping.md): same-run A/B runs of the fixture through the built CLI,
 * `stopping: sequential` against `stopping: fixed`, for A/A (the fixture against itself: false warn/fail shares) and
 * for injected slowdowns (the fixture's `slowdown` generator: K identity MatMuls before the logits): share of runs
 * flagged and median wall time of each.
 *
 *   npm run build && npm run bench:sequential -- --extras 5,10,14,24 --rounds 25 --seconds 2100
 *
 * Conditions are interleaved round by round (each round: --aa-per-round sequential A/A runs, one fixed A/A run, and
 * for each K one sequential and one fixed run), so load from other work on the machine falls on all of them alike,
 * and a run cut short by --seconds still holds every condition. Cells: two small ones (4×32 and 1×128: the same
 * tokens, so one K slows both about alike), accuracy off (it is not what is measured), the default config otherwise.
 * Writes bench/results/sequential-gate-<machine>.json after every run (bench/record.ts).
 *
 * --backend NAME runs another backend than onnxruntime-cpu (scripts/device/sequential-gpu.sh: onnxruntime-cuda,
 * transformers-gpu-compile). A pytorch backend (`transformers-…`) measures checkpoints instead: the A/A is the
 * fixture's hf/ against itself (compare.base_hf), and each of --extras is then a number of extra GPT-2 blocks
 * (the fixture's `deeper` role: zero output projections, the same logits) rather than of identity MatMuls.
 * --warm-up first runs each model once, unrecorded, so that a compile or export cache filled by the first run
 * does not land in one condition's wall times only.
 * --default-cells keeps the default config's six scenarios and its accuracy pass instead of the two small cells and
 * accuracy off: the PR gate as `tr118 run --base-model` runs it on the bundled model (the issue's "≤ 20 s for clear
 * cases"), fewer runs: each takes 13–24 s on the 2-core VM.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { median } from 'simple-statistics';
import { runFixtureRole } from '../scripts/native.js';
import { startBenchRecord, scratchDir } from './record.js';

const { values } = parseArgs({
  options: {
    extras: { type: 'string', default: '5,10,14,24' },
    rounds: { type: 'string', default: '25' },
    'aa-per-round': { type: 'string', default: '8' },
    seconds: { type: 'string', default: '2100' },
    out: { type: 'string' },
    notes: { type: 'string' },
    root: { type: 'string', default: process.cwd() },
    backend: { type: 'string', default: 'onnxruntime-cpu' },
    'warm-up': { type: 'boolean', default: false },
    'default-cells': { type: 'boolean', default: false },
    repetitions: { type: 'string' },
    iterations: { type: 'string' },
    'look-iterations': { type: 'string' },
  },
});
const backend = values.backend;
if (!/^[a-z0-9-]+$/.test(backend)) throw new Error(`--backend: a backend name (e.g. onnxruntime-cuda), not ${backend}`);
/** Pytorch backends measure checkpoints (model.hf, compare.base_hf); the others the ONNX file. */
const checkpoints = backend.startsWith('transformers');
const root = path.resolve(values.root);
const extras = values.extras.split(',').map(Number);
const rounds = Number(values.rounds);
const aaPerRound = Number(values['aa-per-round']);
const deadline = Date.now() + Number(values.seconds) * 1000;
const work = scratchDir('tr118-seq-');
const fixture = path.join(root, checkpoints ? 'fixtures/model/hf' : 'fixtures/model/model.onnx');
const cli = path.join(root, 'dist/cli.js');

const models = new Map<number, string>([[0, fixture]]);
for (const k of extras) {
  if (checkpoints) {
    const dir = path.join(work, `deeper-${k}`);
    runFixtureRole(root, 'deeper', ['--source', fixture, '--out', dir, '--extra-layers', String(k)]);
    models.set(k, dir);
  } else {
    const file = path.join(work, `slow-${k}.onnx`);
    runFixtureRole(root, 'slowdown', ['--out', file, '--extra', String(k)]);
    models.set(k, file);
  }
}

const SCENARIOS = 'scenarios:\n  batch_short: { batch: 4, seq_len: 32 }\n  single_medium: { batch: 1, seq_len: 128 }\n';
const defaultConfig = path.join(root, 'fixtures/configs/default.yml');
const defaults = readFileSync(defaultConfig, 'utf8')
  .replaceAll('../model/', `${root}/fixtures/model/`)
  .replace(/^scenarios:\n(?: {2}.*\n)+/m, (block) => (values['default-cells'] ? block : SCENARIOS))
  .replace(/^accuracy:\n(?: {2}.*\n)+/m, (block) => (values['default-cells'] ? block : 'accuracy:\n  enabled: false\n'))
  .replace(/^backends:\n(?: {2}- .*\n)+/m, `backends:\n  - ${backend}\n`)
  // A smaller budget than the default config's only to check the bench on a slow backend (sequential-gpu.sh's CPU mode).
  .replace(/^repetitions: \d+$/m, (line) => (values.repetitions ? `repetitions: ${values.repetitions}` : line))
  .replace(/^iterations: \d+$/m, (line) => (values.iterations ? `iterations: ${values.iterations}` : line));

type Stopping = 'sequential' | 'fixed';
/**
 * The config of one run. A checkpoint run names its candidate (model.hf) and base (compare.base_hf) here: there are
 * no flags for them. It keeps model.onnx, which the pytorch backends do not load: without it the run would export
 * the checkpoint first.
 */
function configFor(seed: number, stopping: Stopping, extra: number): string {
  let text = `${defaults.replace(/^seed: \d+$/m, `seed: ${seed}`)}stopping: ${stopping}\n`;
  // The sequential runs' look (config look_iterations; absent: its default): the same passes in all, other looks.
  if (values['look-iterations']) text = `${text}look_iterations: ${values['look-iterations']}\n`;
  if (checkpoints)
    text = `${text.replace(/^ {2}hf: .*$/m, `  hf: ${models.get(extra)!}`)}compare:\n  base_hf: ${fixture}\n`;
  const file = path.join(work, `config-${seed}-${stopping}.yml`);
  writeFileSync(file, text);
  return file;
}

interface RunResult {
  readonly extra: number;
  readonly stopping: Stopping;
  readonly seed: number;
  readonly wallSeconds: number;
  readonly loadAverage1m: number;
  /** results.json `phases` (seconds): where the run's time went (worker starts, opens, warm-up, timed passes, …). */
  readonly phasesSeconds: Readonly<Record<string, number>> | null;
  readonly verdict: string;
  readonly cells: readonly {
    readonly scenario: string;
    readonly decision: string;
    readonly ratio: number | null;
    readonly repetitions: number | null;
    readonly why: string | null;
  }[];
}
const runs: RunResult[] = [];

let seed = 5000;
function runOnce(extra: number, stopping: Stopping, record = true): void {
  const out = path.join(work, `run-${seed}`);
  const args = ['run', '--config', configFor(seed, stopping, extra)];
  if (!checkpoints) args.push('--model', models.get(extra)!, '--base-model', fixture);
  const started = performance.now();
  const r = spawnSync(process.execPath, [cli, ...args, '--out', out, '-q'], { encoding: 'utf8' });
  const wallSeconds = (performance.now() - started) / 1000;
  if (r.status !== 0 && r.status !== 1) throw new Error(`tr118 exited ${String(r.status)}: ${r.stderr}`);
  if (!record) {
    rmSync(out, { recursive: true, force: true });
    console.log(`warm-up run (K=${extra}, not recorded): ${wallSeconds.toFixed(1)} s`);
    seed++;
    return;
  }
  const verdict = JSON.parse(readFileSync(path.join(out, 'verdict.json'), 'utf8')) as {
    decision: string;
    cells: {
      scenario: string;
      decision: string;
      ratio: number | null;
      stopping?: { repetitions: number; why: string };
    }[];
  };
  runs.push({
    extra,
    stopping,
    seed,
    wallSeconds,
    loadAverage1m: os.loadavg()[0]!,
    phasesSeconds:
      (JSON.parse(readFileSync(path.join(out, 'results.json'), 'utf8')) as { phases?: Record<string, number> })
        .phases ?? null,
    verdict: verdict.decision,
    cells: verdict.cells.map((c) => ({
      scenario: c.scenario,
      decision: c.decision,
      ratio: c.ratio,
      repetitions: c.stopping?.repetitions ?? null,
      why: c.stopping?.why ?? null,
    })),
  });
  rmSync(out, { recursive: true, force: true });
  seed++;
}

const share = (xs: readonly boolean[]): number | null => (xs.length > 0 ? xs.filter(Boolean).length / xs.length : null);
const med = (xs: readonly number[]): number | null => (xs.length > 0 ? median([...xs]) : null);

/** Per condition (K, stopping): shares of runs and of cells by decision, median wall, measured change. */
function summarize() {
  const conditions: Record<string, unknown> = {};
  for (const extra of [0, ...extras]) {
    for (const stopping of ['sequential', 'fixed'] as const) {
      const mine = runs.filter((r) => r.extra === extra && r.stopping === stopping);
      if (mine.length === 0) continue;
      const cells = mine.flatMap((r) => r.cells);
      const any = (d: string) => mine.map((r) => r.cells.some((c) => c.decision === d));
      conditions[`k${extra}-${stopping}`] = {
        // What K counts: identity MatMuls in the ONNX file, or GPT-2 blocks in the checkpoint.
        ...(checkpoints ? { extraLayers: extra } : { extraMatMuls: extra }),
        stopping,
        runs: mine.length,
        runFailShare: share(any('fail')),
        runWarnShare: share(
          mine.map((r) => r.cells.some((c) => c.decision === 'warn') && !r.cells.some((c) => c.decision === 'fail')),
        ),
        runFlaggedShare: share(mine.map((r) => r.cells.some((c) => c.decision === 'warn' || c.decision === 'fail'))),
        runInconclusiveShare: share(any('inconclusive')),
        cellDecisionShares: Object.fromEntries(
          ['fail', 'warn', 'inconclusive', 'pass', 'improvement'].map((d) => [
            d,
            share(cells.map((c) => c.decision === d)),
          ]),
        ),
        medianWallSeconds: med(mine.map((r) => r.wallSeconds)),
        medianPhasesSeconds: Object.fromEntries(
          [...new Set(mine.flatMap((r) => Object.keys(r.phasesSeconds ?? {})))].map((k) => [
            k,
            med(mine.flatMap((r) => (r.phasesSeconds?.[k] === undefined ? [] : [r.phasesSeconds[k]]))),
          ]),
        ),
        medianRepetitions: med(cells.flatMap((c) => (c.repetitions === null ? [] : [c.repetitions]))),
        stopReasons: Object.fromEntries(
          [...new Set(cells.map((c) => c.why ?? 'fixed'))].map((w) => [
            w,
            share(cells.map((c) => (c.why ?? 'fixed') === w)),
          ]),
        ),
        measuredChangeFraction: (() => {
          const m = med(cells.flatMap((c) => (c.ratio === null ? [] : [c.ratio])));
          return m === null ? null : m - 1;
        })(),
      };
    }
  }
  return {
    conditions,
    loadAverage1mMedian: med(runs.map((r) => r.loadAverage1m)),
    runs,
  };
}

const recorder = startBenchRecord({
  bench: 'sequential-gate',
  fileStem: 'sequential-gate',
  root,
  configFile: defaultConfig,
  parameters: {
    backend,
    extras,
    extrasAre: checkpoints
      ? 'GPT-2 blocks added to fixtures/model/hf (deeper role)'
      : 'identity MatMuls (slowdown role)',
    warmUp: values['warm-up'],
    repetitions: values.repetitions ? Number(values.repetitions) : "the default config's",
    iterations: values.iterations ? Number(values.iterations) : "the default config's",
    lookIterations: values['look-iterations'] ? Number(values['look-iterations']) : "the config's default",
    rounds,
    aaPerRound,
    secondsLimit: Number(values.seconds),
    scenarios: values['default-cells'] ? "the default config's six" : SCENARIOS.trim(),
    accuracy: values['default-cells'] ? "the default config's" : 'off',
    seeds: '5000 upward, one per run',
    interleaving:
      'per round: aa-per-round sequential A/A runs, one fixed A/A run, then per K one sequential and one fixed run',
  },
  out: values.out,
  notes: values.notes,
});

if (values['warm-up']) for (const k of [0, ...extras]) runOnce(k, 'sequential', false);
const started = Date.now();
// A round starts only if one as long as the rounds so far would end before --seconds: a device call has a hard limit.
const roundFits = (done: number): boolean =>
  done === 0 ? Date.now() < deadline : Date.now() + (Date.now() - started) / done <= deadline;
for (let round = 0; round < rounds && roundFits(round); round++) {
  for (let i = 0; i < aaPerRound; i++) runOnce(0, 'sequential');
  runOnce(0, 'fixed');
  for (const k of extras) {
    runOnce(k, 'sequential');
    runOnce(k, 'fixed');
  }
  recorder.write({ roundsDone: round + 1, wallSeconds: (Date.now() - started) / 1000, ...summarize() });
  console.log(`round ${round + 1}/${rounds}: ${runs.length} runs, ${((Date.now() - started) / 1000).toFixed(0)} s`);
}
const pct = (x: unknown): string => (typeof x === 'number' ? `${(100 * x).toFixed(1)}%` : '—');
for (const [name, c] of Object.entries(summarize().conditions) as [string, Record<string, unknown>][])
  console.log(
    `${name.padEnd(16)} runs=${String(c.runs).padStart(3)} fail=${pct(c.runFailShare)} flagged=${pct(c.runFlaggedShare)} ` +
      `inconclusive=${pct(c.runInconclusiveShare)} change=${pct(c.measuredChangeFraction)} median wall=${Number(c.medianWallSeconds).toFixed(1)} s`,
  );
console.log(`written: ${recorder.file}`);
