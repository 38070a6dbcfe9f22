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
 * Every trial uses another seed. The measured slowdown of a K model is the median ratio over all its decisions.
 * Writes a JSON summary to --out after every trial (a killed run keeps what it measured) and prints one line.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { median } from 'simple-statistics';
import { runFixtureRole } from '../scripts/native.js';

const { values } = parseArgs({
  options: {
    mode: { type: 'string', default: 'same-run' },
    extra: { type: 'string', default: '0' },
    trials: { type: 'string', default: '17' },
    seconds: { type: 'string', default: '100000' },
    threads: { type: 'string' },
    'seed-offset': { type: 'string', default: '0' },
    out: { type: 'string', default: 'gate-quality.json' },
    root: { type: 'string', default: process.cwd() },
  },
});
const root = path.resolve(values.root);
const mode = values.mode === 'stored' ? 'stored' : 'same-run';
const extra = Number(values.extra);
const trials = Number(values.trials);
const deadline = Date.now() + Number(values.seconds) * 1000;
const work = mkdtempSync(path.join(os.tmpdir(), 'tr118-gate-'));
const fixture = path.join(root, 'fixtures/model/model.onnx');
const cli = path.join(root, 'dist/cli.js');

let candidate = fixture;
if (extra > 0) {
  candidate = path.join(work, `slow-${extra}.onnx`);
  runFixtureRole(root, 'slowdown', ['--out', candidate, '--extra', String(extra)]);
}

const defaults = readFileSync(path.join(root, 'fixtures/configs/default.yml'), 'utf8').replaceAll(
  '../model/',
  `${root}/fixtures/model/`,
);
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

interface CellDecision {
  readonly decision: string;
  readonly ratio: number | null;
  readonly minDetectableFraction: number | null;
}
const decisions: (CellDecision & { scenario: string; trial: number })[] = [];
let done = 0;
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
  const count = (d: string): number => decisions.filter((x) => x.decision === d).length;
  const ratios = decisions.flatMap((d) => (d.ratio === null ? [] : [d.ratio]));
  const mdes = decisions.flatMap((d) => (d.minDetectableFraction === null ? [] : [d.minDetectableFraction]));
  const summary = {
    mode,
    extraMatMuls: extra,
    trials: done,
    decisions: decisions.length,
    rates: Object.fromEntries(
      ['fail', 'warn', 'inconclusive', 'pass', 'improvement'].map((d) => [d, count(d) / decisions.length]),
    ),
    measuredChange: ratios.length > 0 ? median(ratios) - 1 : null,
    medianMinDetectable: mdes.length > 0 ? median(mdes) : null,
    seconds: (Date.now() - started) / 1000,
    machine: `${os.cpus()[0]?.model ?? '?'} × ${os.cpus().length}${values.threads ? `, ${values.threads} intra-op threads` : ''}`,
    perScenario: Object.fromEntries(
      [...new Set(decisions.map((d) => d.scenario))].map((s) => {
        const own = decisions.filter((d) => d.scenario === s);
        return [
          s,
          {
            fail: own.filter((d) => d.decision === 'fail').length / own.length,
            change: median(own.flatMap((d) => (d.ratio === null ? [] : [d.ratio]))) - 1,
          },
        ];
      }),
    ),
  };
  writeFileSync(values.out, `${JSON.stringify(summary, null, 2)}\n`);
}
const s = JSON.parse(readFileSync(values.out, 'utf8')) as {
  decisions: number;
  rates: Record<string, number>;
  measuredChange: number;
  medianMinDetectable: number;
  seconds: number;
};
const pct = (x: number): string => `${(100 * x).toFixed(1)}%`;
console.log(
  `${mode.padEnd(8)} extra=${String(extra).padStart(2)} decisions=${s.decisions} fail=${pct(s.rates.fail ?? 0)} warn=${pct(s.rates.warn ?? 0)} ` +
    `inconclusive=${pct(s.rates.inconclusive ?? 0)} measured change=${pct(s.measuredChange)} median MDE=${pct(s.medianMinDetectable)} (${s.seconds.toFixed(0)} s)`,
);
