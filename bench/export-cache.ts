/**
 * What the artifact cache saves (issue 10): `tr118 run` on a config that names only a checkpoint (model.hf, so it is
 * exported) — cold (empty cache: the export runs), then warm (a hit) — against the same run given the ONNX file
 * directly. Through the built CLI, as a user runs it; the warm run's overhead over the given-ONNX run is the cost of
 * a hit (hashing the checkpoint, asking the worker Python for its versions, re-hashing the cached file).
 *   npm run build && npm run bench:export [-- --hf DIR --onnx FILE --pairs N --out FILE --notes TEXT]
 * Default model: the fixture (fixtures/model/hf and the model.onnx exported from it). Writes
 * bench/results/export-cache-<machine>.json (bench/record.ts).
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { median } from 'simple-statistics';
import { packageRoot } from '../src/paths.js';
import { startBenchRecord, scratchDir } from './record.js';

const { values } = parseArgs({
  options: {
    hf: { type: 'string', default: path.join(packageRoot(), 'fixtures/model/hf') },
    onnx: { type: 'string', default: path.join(packageRoot(), 'fixtures/model/model.onnx') },
    pairs: { type: 'string', default: '3' },
    out: { type: 'string' },
    notes: { type: 'string' },
  },
});
const work = scratchDir('tr118-bench-export-');
const tokens = path.join(packageRoot(), 'fixtures/model/heldout.tokens.json');
const body =
  `  context_tokens: 512\ninputs:\n  tokens: ${tokens}\nbackends: [onnxruntime-cpu]\n` +
  'scenarios:\n  s: { batch: 1, seq_len: 32 }\nrepetitions: 2\niterations: 5\nwarmup: 1\naccuracy: { enabled: false }\n';
const exportConfig = path.join(work, 'export.yml');
const givenConfig = path.join(work, 'given.yml');
writeFileSync(exportConfig, `model:\n  hf: ${path.resolve(values.hf)}\n${body}`);
writeFileSync(givenConfig, `model:\n  onnx: ${path.resolve(values.onnx)}\n${body}`);
const cacheDir = path.join(work, 'cache');
const recorder = startBenchRecord({
  bench: 'export-cache',
  parameters: { ...values, matrix: body, command: 'node dist/cli.js run -c <config> --quiet --cache-dir <cache>' },
  out: values.out,
  notes: values.notes,
});

interface RunResults {
  readonly export?: {
    readonly cache: string;
    readonly exportMs: number;
    readonly bytes: number;
    readonly opset: number;
    readonly exporter: string;
    readonly versions: Readonly<Record<string, string>>;
    readonly probeMaxAbsDiff: number | null;
  };
}

function run(config: string, label: string): { seconds: number; results: RunResults } {
  const out = path.join(work, `out-${label}`);
  const started = process.hrtime.bigint();
  const r = spawnSync(
    process.execPath,
    [path.join(packageRoot(), 'dist/cli.js'), 'run', '-c', config, '--quiet', '--out', out, '--cache-dir', cacheDir],
    { encoding: 'utf8' },
  );
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (r.status !== 0) throw new Error(`tr118 run (${label}) exited ${String(r.status)}: ${r.stderr}`);
  const results = JSON.parse(readFileSync(path.join(out, 'results.json'), 'utf8')) as RunResults;
  return { seconds, results };
}

const cold = run(exportConfig, 'cold');
if (cold.results.export?.cache !== 'built') throw new Error('the cold run did not export');
const warm: number[] = [];
const given: number[] = [];
for (let i = 0; i < Number(values.pairs); i++) {
  // alternate which goes first, so drift of the machine lands on both alike
  const order = i % 2 === 0 ? (['warm', 'given'] as const) : (['given', 'warm'] as const);
  for (const which of order) {
    const r = run(which === 'warm' ? exportConfig : givenConfig, `${which}-${i}`);
    if (which === 'warm' && r.results.export?.cache !== 'hit') throw new Error('a warm run did not hit');
    (which === 'warm' ? warm : given).push(r.seconds);
  }
}
const figures = {
  coldSeconds: cold.seconds,
  exportSeconds: cold.results.export.exportMs / 1000,
  exportBytes: cold.results.export.bytes,
  exportOpset: cold.results.export.opset,
  exporter: cold.results.export.exporter,
  exportVersions: cold.results.export.versions,
  exportProbeMaxAbsDiff: cold.results.export.probeMaxAbsDiff,
  warmSeconds: warm,
  givenSeconds: given,
  warmMedianSeconds: median(warm),
  givenMedianSeconds: median(given),
  hitOverheadSeconds: median(warm) - median(given),
};
console.log(
  `cold (export) ${figures.coldSeconds.toFixed(2)} s, of which the export ${figures.exportSeconds.toFixed(2)} s; ` +
    `warm (hit) ${figures.warmMedianSeconds.toFixed(2)} s; given ONNX ${figures.givenMedianSeconds.toFixed(2)} s; ` +
    `hit overhead ${figures.hitOverheadSeconds.toFixed(2)} s (target ≤ 1 s); ` +
    `export ${(figures.exportBytes / 1e6).toFixed(1)} MB, opset ${figures.exportOpset}, ${figures.exporter}`,
);
recorder.write(figures);
console.log(`written: ${recorder.file}`);
