/**
 * Gate quality, measured: how often the verdict fails a candidate that is NOT slower (A/A false-fail rate) and how
 * often it fails one that IS (detection rate), with default settings, through the built CLI exactly as users run it.
 *
 *   npm run build && npx tsx bench/gate-quality.ts --mode same-run --extra 0 --trials 20 --out aa.json
 *
 * --mode same-run  one `tr118 run --base-model` per trial (base and candidate interleaved in one worker)
 * --mode stored    per trial, the base measured by one `tr118 run` process, then the candidate by a later process
 *                  with `--baseline` (the stored-baseline mode)
 * --extra K        the candidate is the fixture with K extra identity MatMuls before the logits (same logits,
 *                  more work: native/ `slowdown`); 0 = the fixture itself (A/A)
 * --threads N      intra-op threads (default: ONNX Runtime's); --seconds S stops starting trials after S seconds;
 * --seed-offset N   another stream of seeds, for a second stream of the same condition.
 * --out FILE       default bench/results/gate-quality-<mode>-k<K>-<machine>.json; --notes TEXT: see bench/record.ts
 * Every trial uses another seed. The measured slowdown of a K model is the median ratio over all its decisions.
 * Writes the record (bench/record.ts's header, the pass pattern and the stored-baseline allowance it ran with) after
 * every trial (a killed run keeps what it measured) and prints one line.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { median } from 'simple-statistics';
import { runFixtureRole } from '../scripts/native.js';
import { loadConfigFile } from '../src/config/load.js';
import { startBenchRecord, scratchDir } from './record.js';

/**
 * What same-run A/B does at the commit this bench records (src/engines/onnxruntime/session.ts timePairedPasses,
 * src/measure/runner.ts): stated here because no result file says it. Change it with them.
 */
const SAME_RUN_PASS_PATTERN =
  'A B A B: candidate and base passes alternate, every pass after one of the other model; the model that opens ' +
  'alternates by repetition; halfway through the repetitions each worker restarts with the other session opened first';

const { values } = parseArgs({
  options: {
    mode: { type: 'string', default: 'same-run' },
    extra: { type: 'string', default: '0' },
    trials: { type: 'string', default: '17' },
    seconds: { type: 'string', default: '100000' },
    threads: { type: 'string' },
    'seed-offset': { type: 'string', default: '0' },
    out: { type: 'string' },
    notes: { type: 'string' },
    root: { type: 'string', default: process.cwd() },
  },
});
const root = path.resolve(values.root);
const mode = values.mode === 'stored' ? 'stored' : 'same-run';
const extra = Number(values.extra);
const trials = Number(values.trials);
const deadline = Date.now() + Number(values.seconds) * 1000;
const work = scratchDir('tr118-gate-');
const fixture = path.join(root, 'fixtures/model/model.onnx');
const cli = path.join(root, 'dist/cli.js');

let candidate = fixture;
if (extra > 0) {
  candidate = path.join(work, `slow-${extra}.onnx`);
  runFixtureRole(root, 'slowdown', ['--out', candidate, '--extra', String(extra)]);
}

const defaultConfig = path.join(root, 'fixtures/configs/default.yml');
const defaults = readFileSync(defaultConfig, 'utf8').replaceAll('../model/', `${root}/fixtures/model/`);
function configFor(seed: number): string {
  let text = defaults.replace(/^seed: \d+$/m, `seed: ${seed}`);
  if (values.threads)
    text = text.replace('  - onnxruntime-cpu', `  - { name: onnxruntime-cpu, intra_op_threads: ${values.threads} }`);
  const file = path.join(work, `config-${seed}.yml`);
  writeFileSync(file, text);
  return file;
}

function tr118(args: string[]): void {
  const r = spawnSync(process.execPath, [cli, ...args, '-q'], { encoding: 'utf8' });
  if (r.status !== 0 && r.status !== 1)
    throw new Error(`tr118 ${args.join(' ')} exited ${String(r.status)}: ${r.stderr}`);
}

const recorder = startBenchRecord({
  bench: 'gate-quality',
  fileStem: `gate-quality-${mode}-k${extra}`,
  root,
  configFile: defaultConfig,
  parameters: {
    mode,
    extraMatMuls: extra,
    trialsAsked: trials,
    secondsLimit: Number(values.seconds),
    intraOpThreads: values.threads === undefined ? 'ONNX Runtime default' : Number(values.threads),
    seedOffset: Number(values['seed-offset']),
    seeds: `1000 + seedOffset + trial, written into the config's seed`,
    passPattern: mode === 'same-run' ? SAME_RUN_PASS_PATTERN : 'none: one model per process (stored baseline)',
    // The allowance the trials' config carried (it widens stored-baseline intervals; same-run ignores it).
    betweenRunsFraction: loadConfigFile(configFor(1000)).thresholds.latency.betweenRunsFraction,
  },
  out: values.out,
  notes: values.notes,
});

interface CellDecision {
  readonly decision: string;
  readonly ratio: number | null;
  readonly minDetectableFraction: number | null;
}
const decisions: (CellDecision & { scenario: string; trial: number })[] = [];

/** The figures so far: decision rates, measured change, minimum detectable effect; overall and per scenario. */
function summarize(trialsDone: number, elapsedSeconds: number) {
  const count = (d: string): number => decisions.filter((x) => x.decision === d).length;
  const ratios = decisions.flatMap((d) => (d.ratio === null ? [] : [d.ratio]));
  const mdes = decisions.flatMap((d) => (d.minDetectableFraction === null ? [] : [d.minDetectableFraction]));
  const fraction = (xs: number[]): number | null => (xs.length > 0 ? median(xs) : null);
  return {
    trialsDone,
    decisions: decisions.length,
    decisionFractions: Object.fromEntries(
      ['fail', 'warn', 'inconclusive', 'pass', 'improvement'].map((d) => [d, count(d) / decisions.length]),
    ),
    measuredChangeFraction: ratios.length > 0 ? median(ratios) - 1 : null,
    medianMinDetectableFraction: fraction(mdes),
    wallSeconds: elapsedSeconds,
    secondsPerTrial: elapsedSeconds / trialsDone,
    perScenario: Object.fromEntries(
      [...new Set(decisions.map((d) => d.scenario))].map((s) => {
        const own = decisions.filter((d) => d.scenario === s);
        const ownRatios = own.flatMap((d) => (d.ratio === null ? [] : [d.ratio]));
        return [
          s,
          {
            failFraction: own.filter((d) => d.decision === 'fail').length / own.length,
            changeFraction: ownRatios.length > 0 ? median(ownRatios) - 1 : null,
            medianMinDetectableFraction: fraction(
              own.flatMap((d) => (d.minDetectableFraction === null ? [] : [d.minDetectableFraction])),
            ),
          },
        ];
      }),
    ),
  };
}

let done = 0;
let last: ReturnType<typeof summarize> | undefined;
const started = Date.now();
for (let trial = 0; trial < trials && Date.now() < deadline; trial++) {
  const seed = 1000 + Number(values['seed-offset']) + trial;
  const config = configFor(seed);
  const out = path.join(work, `trial-${trial}`);
  if (mode === 'same-run') {
    tr118(['run', '--config', config, '--model', candidate, '--base-model', fixture, '--out', out]);
  } else {
    tr118(['run', '--config', config, '--out', `${out}-base`]);
    tr118(['run', '--config', config, '--model', candidate, '--baseline', `${out}-base/results.json`, '--out', out]);
  }
  const verdict = JSON.parse(readFileSync(path.join(out, 'verdict.json'), 'utf8')) as {
    cells: (CellDecision & { scenario: string })[];
  };
  for (const c of verdict.cells)
    decisions.push({
      scenario: c.scenario,
      decision: c.decision,
      ratio: c.ratio,
      minDetectableFraction: c.minDetectableFraction,
      trial,
    });
  done++;
  last = summarize(done, (Date.now() - started) / 1000);
  recorder.write(last);
}
if (last === undefined) throw new Error('no trial ran: --trials 0, or --seconds too small');
const pct = (x: number | null | undefined): string => (x == null ? '—' : `${(100 * x).toFixed(1)}%`);
const rates = last.decisionFractions;
console.log(
  `${mode.padEnd(8)} extra=${String(extra).padStart(2)} decisions=${last.decisions} fail=${pct(rates.fail)} warn=${pct(rates.warn)} ` +
    `inconclusive=${pct(rates.inconclusive)} measured change=${pct(last.measuredChangeFraction)} median MDE=${pct(last.medianMinDetectableFraction)} (${last.wallSeconds.toFixed(0)} s)`,
);
console.log(`written: ${recorder.file}`);
