/**
 * Precision variants on the CPU (issue 22): `tr118 run` from model.hf alone (exported with the dynamo exporter, the
 * default) with backends [onnxruntime-cpu, onnxruntime-cpu-int8], cold (empty artifact cache: the export and the int8
 * derivation run) then warm (both hit); the TorchScript exporter's cold export beside it for its time. Figures: int8
 * against fp32 speed per scenario (medians) and perplexity (delta, gate, logits parity), export and derivation times
 * cold, and the wall time of a cold and a warm run. From the source under tsx (dist/ is rebuilt when merging).
 * --optimize adds a third backend, onnxruntime-cpu with `optimize: transformers` (ONNX Runtime's transformer fusions),
 * and its figures beside int8's (fusion counts, derivation time, speed against fp32, perplexity and parity); its
 * record goes to bench/results/precision-fusions-<machine>.json, so the two-backend record stays as it was made.
 *   npm run bench:precision [-- --hf DIR --optimize --out FILE --notes TEXT]
 * Writes bench/results/precision-<machine>.json (bench/record.ts).
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { packageRoot } from '../src/paths.js';
import { startBenchRecord, scratchDir } from './record.js';

const { values } = parseArgs({
  options: {
    hf: { type: 'string', default: path.join(packageRoot(), 'fixtures/model/hf') },
    optimize: { type: 'boolean', default: false },
    out: { type: 'string' },
    notes: { type: 'string' },
  },
});
const FUSED = 'onnxruntime-cpu-fused';
const fusedBackend = values.optimize
  ? `, { name: ${FUSED}, engine: onnxruntime, provider: cpu, optimize: transformers }`
  : '';
const work = scratchDir('tr118-bench-precision-');
const tokens = path.join(packageRoot(), 'fixtures/model/heldout.tokens.json');
const matrix =
  `inputs:\n  tokens: ${tokens}\nbackends: [onnxruntime-cpu, onnxruntime-cpu-int8${fusedBackend}]\n` +
  'scenarios:\n  single_128: { batch: 1, seq_len: 128 }\n  batch4_128: { batch: 4, seq_len: 128 }\n' +
  'repetitions: 3\niterations: 20\nwarmup: 3\naccuracy: { max_tokens: 4000, window: 512, stride: 256 }\n';
const configOf = (exporter: string): string => {
  const file = path.join(work, `${exporter}.yml`);
  writeFileSync(
    file,
    `model:\n  hf: ${path.resolve(values.hf)}\n  context_tokens: 512\n  export: { exporter: ${exporter} }\n${matrix}`,
  );
  return file;
};
const cacheDir = path.join(work, 'cache');
const recorder = startBenchRecord({
  bench: 'precision',
  ...(values.optimize ? { fileStem: 'precision-fusions' } : {}),
  parameters: {
    ...values,
    matrix,
    command: 'node --import tsx src/cli/index.ts run -c <config> --quiet --cache-dir <cache>',
  },
  out: values.out,
  notes: values.notes,
});

interface RunResults {
  readonly export?: {
    readonly cache: string;
    readonly exportMs: number;
    readonly exporter: string;
    readonly opset: number;
  };
  readonly onnxVariants?: readonly {
    readonly backend: string;
    readonly fusions?: Readonly<Record<string, number>>;
    readonly cache: string;
    readonly buildMs: number;
    readonly tool: string;
    readonly bytes: number;
  }[];
  readonly cells: readonly {
    readonly backend: string;
    readonly scenario: string;
    readonly stats: { readonly latencyMs: { readonly median: number } } | null;
  }[];
  readonly accuracy: {
    readonly rows: readonly {
      readonly backend: string;
      readonly perplexity: number | null;
      readonly deltaFraction: number | null;
      readonly thresholdFraction: number | null;
      readonly pass: boolean | null;
      readonly maxAbsLogitDelta: number | null;
      readonly top1Agreement: number | null;
    }[];
  } | null;
}

/** One `tr118 run` from the source, timed from start to exit (the wall time a user waits). */
function run(config: string, label: string): { seconds: number; results: RunResults } {
  const out = path.join(work, `out-${label}`);
  const started = process.hrtime.bigint();
  const r = spawnSync(
    process.execPath,
    [
      ...['--import', 'tsx', path.join(packageRoot(), 'src/cli/index.ts'), 'run', '-c', config, '--quiet'],
      ...['--out', out, '--cache-dir', cacheDir],
    ],
    // The config lies in a scratch folder, where no .venv is found: the project's, unless TR118_PYTHON says otherwise.
    {
      encoding: 'utf8',
      cwd: packageRoot(),
      env: { ...process.env, TR118_PYTHON: process.env.TR118_PYTHON ?? path.join(packageRoot(), '.venv/bin/python') },
    },
  );
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (r.status !== 0) throw new Error(`tr118 run (${label}) exited ${String(r.status)}: ${r.stderr}`);
  return { seconds, results: JSON.parse(readFileSync(path.join(out, 'results.json'), 'utf8')) as RunResults };
}

const variantOf = (r: RunResults, backend: string) => r.onnxVariants?.find((v) => v.backend === backend);
const cold = run(configOf('dynamo'), 'cold');
const coldInt8 = variantOf(cold.results, 'onnxruntime-cpu-int8');
if (cold.results.export?.cache !== 'built' || coldInt8?.cache !== 'built') {
  throw new Error('the cold run did not export and derive');
}
const warm = run(configOf('dynamo'), 'warm');
if (warm.results.export?.cache !== 'hit' || warm.results.onnxVariants?.some((v) => v.cache !== 'hit') !== false) {
  throw new Error('the warm run did not hit all');
}
const torchscript = run(configOf('torchscript'), 'torchscript-cold');
if (torchscript.results.export?.cache !== 'built') throw new Error('the TorchScript run did not export');

const median = (r: RunResults, backend: string, scenario: string): number | null =>
  r.cells.find((c) => c.backend === backend && c.scenario === scenario)?.stats?.latencyMs.median ?? null;
const scenarios = [...new Set(warm.results.cells.map((c) => c.scenario))];
/** Speed from both runs' cells (the cold and warm runs measure alike once their files are made). */
const speed = Object.fromEntries(
  scenarios.map((s) => {
    const per = (r: RunResults) => {
      const fp32MedianMs = median(r, 'onnxruntime-cpu', s);
      const int8MedianMs = median(r, 'onnxruntime-cpu-int8', s);
      const ratio = (other: number | null) => (fp32MedianMs !== null && other !== null ? fp32MedianMs / other : null);
      const fusedMedianMs = median(r, FUSED, s);
      return {
        fp32MedianMs,
        int8MedianMs,
        int8SpeedupOverFp32: ratio(int8MedianMs),
        ...(values.optimize ? { fusedMedianMs, fusedSpeedupOverFp32: ratio(fusedMedianMs) } : {}),
      };
    };
    return [s, { cold: per(cold.results), warm: per(warm.results) }];
  }),
);
const row = (r: RunResults, backend: string) => r.accuracy?.rows.find((x) => x.backend === backend) ?? null;
const int8 = row(warm.results, 'onnxruntime-cpu-int8');
const fused = row(warm.results, FUSED);
const coldFused = variantOf(cold.results, FUSED);
const fusedFigures = values.optimize
  ? {
      fusedDeriveSeconds: coldFused ? coldFused.buildMs / 1000 : null,
      fusedTool: coldFused?.tool ?? null,
      fusions: coldFused?.fusions ?? null,
      fusedPerplexity: fused?.perplexity ?? null,
      fusedPerplexityDeltaFraction: fused?.deltaFraction ?? null,
      fusedThresholdFraction: fused?.thresholdFraction ?? null,
      fusedGatePass: fused?.pass ?? null,
      fusedMaxAbsLogitDelta: fused?.maxAbsLogitDelta ?? null,
      fusedTop1Agreement: fused?.top1Agreement ?? null,
    }
  : {};
const figures = {
  exporter: cold.results.export.exporter,
  exportOpset: cold.results.export.opset,
  dynamoExportSeconds: cold.results.export.exportMs / 1000,
  torchscriptExportSeconds: torchscript.results.export.exportMs / 1000,
  int8DeriveSeconds: coldInt8.buildMs / 1000,
  int8Tool: coldInt8.tool,
  int8Bytes: coldInt8.bytes,
  coldRunSeconds: cold.seconds,
  warmRunSeconds: warm.seconds,
  torchscriptColdRunSeconds: torchscript.seconds,
  speed,
  fp32Perplexity: row(warm.results, 'onnxruntime-cpu')?.perplexity ?? null,
  int8Perplexity: int8?.perplexity ?? null,
  int8PerplexityDeltaFraction: int8?.deltaFraction ?? null,
  int8ThresholdFraction: int8?.thresholdFraction ?? null,
  int8GatePass: int8?.pass ?? null,
  int8MaxAbsLogitDelta: int8?.maxAbsLogitDelta ?? null,
  int8Top1Agreement: int8?.top1Agreement ?? null,
  torchscriptFp32Perplexity: row(torchscript.results, 'onnxruntime-cpu')?.perplexity ?? null,
  ...fusedFigures,
};
console.log(JSON.stringify(figures, null, 2));
recorder.write(figures);
console.log(`written: ${recorder.file}`);
