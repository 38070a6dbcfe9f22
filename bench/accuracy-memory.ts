/**
 * Memory of the accuracy stage with a 50,257-token vocabulary at window 1024: a synthetic LM-shaped ONNX
 * (native/ `synthetic`), scored over 16 windows by the real pipeline. Reports the peak RSS of the backend's worker
 * process (where the logits live) and of this process. Target: < 1.5 GB.
 *   npm run bench:memory [-- --out FILE --notes TEXT]
 * writes bench/results/accuracy-memory-<machine>.json (bench/record.ts); needs .venv with native/requirements-ci.txt,
 * as `npm test` makes it.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { loadConfigFile } from '../src/config/load.js';
import { runFixtureRole } from '../scripts/native.js';
import { packageRoot } from '../src/paths.js';
import { runPipeline } from '../src/pipeline/index.js';
import { seededRandom } from '../src/stats/random.js';
import { parseBenchFlags, startBenchRecord, scratchDir } from './record.js';

const VOCAB = 50257;
const WINDOW = 1024;
const WINDOWS = 16;
const SEED = 3;
const flags = parseBenchFlags();
const recorder = startBenchRecord({
  bench: 'accuracy-memory',
  parameters: {
    model: `native/ synthetic, vocab ${VOCAB}`,
    vocab: VOCAB,
    windowTokens: WINDOW,
    strideTokens: WINDOW,
    windows: WINDOWS,
    tokenSeed: SEED,
    backends: ['onnxruntime-cpu'],
  },
  out: flags.out,
  notes: flags.notes,
});
const root = packageRoot();
const dir = scratchDir('tr118-memory-');
const model = path.join(dir, 'synthetic.onnx');
runFixtureRole(root, 'synthetic', ['--out', model, '--vocab-size', String(VOCAB)], false);
const random = seededRandom(SEED);
const tokensFile = path.join(dir, 'tokens.json');
writeFileSync(tokensFile, JSON.stringify(Array.from({ length: WINDOWS * WINDOW }, () => Math.floor(random() * VOCAB))));
const configFile = path.join(dir, 'tr118.yml');
writeFileSync(
  configFile,
  `model: { onnx: ${model}, context_tokens: ${WINDOW} }\ninputs: { tokens: ${tokensFile} }\nbackends: [onnxruntime-cpu]\n` +
    `scenarios:\n  single_micro: { batch: 1, seq_len: 8 }\nrepetitions: 1\niterations: 1\nwarmup: 0\n` +
    `accuracy: { max_tokens: ${WINDOWS * WINDOW}, window: ${WINDOW}, stride: ${WINDOW} }\n`,
);
const started = process.hrtime.bigint();
const { results } = await runPipeline({ config: loadConfigFile(configFile), outDir: path.join(dir, 'out') });
const seconds = Number(process.hrtime.bigint() - started) / 1e9;
const row = results.accuracy?.rows[0];
const parentMiB = process.resourceUsage().maxRSS / 1024;
console.log(`vocab ${VOCAB}, window ${WINDOW}: ${row?.scoredTokens ?? 0} tokens scored in ${seconds.toFixed(1)} s`);
console.log(
  `peak RSS: worker ${row?.peakRssMiB?.toFixed(0) ?? '?'} MiB, runner ${parentMiB.toFixed(0)} MiB (target < 1536 MiB each)`,
);
recorder.write({
  scoredTokens: row?.scoredTokens ?? 0,
  wallSeconds: seconds,
  workerPeakRssMiB: row?.peakRssMiB ?? null,
  runnerPeakRssMiB: parentMiB,
});
console.log(`written: ${recorder.file}`);
