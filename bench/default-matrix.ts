/**
 * Wall time of the default matrix (six CPU scenarios × 10 repetitions + perplexity), from `tr118 run` to the report
 * written, through the built CLI exactly as `npm start` runs it.
 *   npm run build && npm run bench:matrix [-- --out FILE --notes TEXT]
 * writes bench/results/default-matrix-<machine>.json (bench/record.ts), with results.json `phases` (where the
 * seconds went) and the wall time over the timed passes (issue 23: what the gate costs per second it measures); then
 * the same matrix as a same-run A/B (`--base-model` the fixture itself: the PR gate's run, base and candidate passes
 * alternating), with its wall over its timed passes (both sides', from `phases`); then that A/B with `stopping: fixed`
 * (every cell's whole budget, as issue 23 first measured the gate).
 * TR118_BENCH_FROM_SOURCE=1 runs src/ under tsx instead of dist/ (a tree not built yet; slower start).
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { packageRoot } from '../src/paths.js';
import { parseBenchFlags, startBenchRecord, scratchDir } from './record.js';

const flags = parseBenchFlags();
const recorder = startBenchRecord({
  bench: 'default-matrix',
  configFile: path.join(packageRoot(), 'fixtures/configs/default.yml'),
  parameters: { command: 'node dist/cli.js run --quiet --out <temporary folder>' },
  out: flags.out,
  notes: flags.notes,
});
const out = scratchDir('tr118-bench-');
const fromSource = process.env.TR118_BENCH_FROM_SOURCE === '1';
const cli = fromSource
  ? ['--import', 'tsx', path.join(packageRoot(), 'src/cli/index.ts')]
  : [path.join(packageRoot(), 'dist/cli.js')];
interface RunResults {
  durationSeconds: number;
  /** Absent from a tr118 older than issue 23. */
  phases?: Record<string, number>;
  environment: { cpuModel: string; cpuCount: number };
  cells: {
    scenario: string;
    stats: { latencyMs: { median: number } } | null;
    repetitionLatenciesMs: number[][];
  }[];
  accuracy: { rows: { backend: string; perplexity: number | null }[] } | null;
}

/** One `tr118 run` of the default matrix into its own folder: its process wall time and results.json. */
function runOnce(name: string, extra: readonly string[]): { seconds: number; results: RunResults } {
  const dir = path.join(out, name);
  const started = process.hrtime.bigint();
  const r = spawnSync(process.execPath, [...cli, 'run', '--quiet', '--out', dir, ...extra], { encoding: 'utf8' });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (r.status !== 0) throw new Error(`tr118 run ${extra.join(' ')} exited ${String(r.status)}: ${r.stderr}`);
  return { seconds, results: JSON.parse(readFileSync(path.join(dir, 'results.json'), 'utf8')) as RunResults };
}

const { seconds, results } = runOnce('default', []);
console.log(`machine: ${results.environment.cpuModel} × ${results.environment.cpuCount}`);
for (const c of results.cells)
  console.log(`  ${c.scenario.padEnd(14)} median ${c.stats?.latencyMs.median.toFixed(3) ?? '—'} ms`);
for (const a of results.accuracy?.rows ?? [])
  console.log(`  perplexity ${a.backend}: ${a.perplexity?.toFixed(3) ?? '—'}`);
console.log(`default matrix, tr118 run → report written: ${seconds.toFixed(2)} s (budget 60 s)`);
// From the gated samples themselves, so a tr118 without `phases` gives the same figure.
const timedPassesSeconds =
  results.cells.flatMap((c) => c.repetitionLatenciesMs.flat()).reduce((sum, ms) => sum + ms, 0) / 1000;
console.log(
  `timed passes ${timedPassesSeconds.toFixed(2)} s; wall / timed passes ${(seconds / timedPassesSeconds).toFixed(2)}`,
);
for (const [phase, phaseSeconds] of Object.entries(results.phases ?? {}))
  if (phaseSeconds >= 0.01) console.log(`  ${phase.padEnd(15)} ${phaseSeconds.toFixed(2)} s`);
// The PR gate's run: the same matrix, same-run A/B against the fixture itself (every pass alternates base and candidate).
const fixtureModel = path.join(packageRoot(), 'fixtures/model/model.onnx');
const ab = runOnce('same-run-ab', [
  '--config',
  path.join(packageRoot(), 'fixtures/configs/default.yml'),
  '--base-model',
  fixtureModel,
]);
/** A same-run A/B's figures: its wall over both sides' timed passes (from `phases`), said on one line. */
function abFigures(label: string, run: { seconds: number; results: RunResults }) {
  const timedPassesSeconds = run.results.phases?.timedPasses ?? Number.NaN;
  console.log(
    `${label}: ${run.seconds.toFixed(2)} s; timed passes (both sides) ${timedPassesSeconds.toFixed(2)} s; wall / timed passes ${(run.seconds / timedPassesSeconds).toFixed(2)}`,
  );
  return {
    wallSeconds: run.seconds,
    pipelineSeconds: run.results.durationSeconds,
    timedPassesSeconds,
    wallOverTimedPasses: run.seconds / timedPassesSeconds,
    phasesSeconds: run.results.phases ?? null,
  };
}
const sameRunAb = abFigures('same-run A/B (--base-model the fixture)', ab);
for (const [phase, phaseSeconds] of Object.entries(ab.results.phases ?? {}))
  if (phaseSeconds >= 0.01) console.log(`  ${phase.padEnd(15)} ${phaseSeconds.toFixed(2)} s`);
// The same A/B with `stopping: fixed`: every cell runs the whole 10 × 40 per side, as issue 23 measured the gate
// (sequential stopping, the default since, ends a cell once its decision is settled: fewer timed passes, so the fixed
// costs weigh more in its wall / timed passes, while its wall is shorter).
const fixedConfig = path.join(out, 'default-fixed.yml');
writeFileSync(
  fixedConfig,
  readFileSync(path.join(packageRoot(), 'fixtures/configs/default.yml'), 'utf8').replaceAll(
    '../model/',
    `${path.join(packageRoot(), 'fixtures/model')}/`,
  ) + '\nstopping: fixed\n',
);
const sameRunAbFixed = abFigures(
  'same-run A/B, stopping: fixed',
  runOnce('same-run-ab-fixed', ['--config', fixedConfig, '--base-model', fixtureModel]),
);
recorder.write({
  sameRunAbFixed,
  sameRunAb,
  wallSeconds: seconds,
  pipelineSeconds: results.durationSeconds,
  timedPassesSeconds,
  wallOverTimedPasses: seconds / timedPassesSeconds,
  phasesSeconds: results.phases ?? null,
  cli: fromSource ? 'src/cli/index.ts under tsx' : 'dist/cli.js',
  medianLatencyMsByScenario: Object.fromEntries(
    results.cells.map((c) => [c.scenario, c.stats?.latencyMs.median ?? null]),
  ),
  perplexityByBackend: Object.fromEntries((results.accuracy?.rows ?? []).map((a) => [a.backend, a.perplexity])),
});
console.log(`written: ${recorder.file}`);
