/**
 * Harness overhead: the median latency our runner reports ÷ the median of a bare `session.run` loop on the same
 * session and inputs, for onnxruntime-cpu on the fixture at single_micro and single_medium.
 *   - "harness (in-process)": timeForwardPasses, the exact function the worker process runs, vs a bare
 *     `session.run` in the same process, alternating pass by pass (A B B A) so drift hits both alike;
 *   - "runner (worker process)": the full ProcessBackend path the CLI uses (another process, so machine drift
 *     between the two processes is in this figure too), vs the same bare passes.
 *   npm run bench:overhead [-- --out FILE --notes TEXT]
 * writes bench/results/harness-overhead-<machine>.json (bench/record.ts).
 */
import { median } from 'simple-statistics';
import { onnxruntime, ortWorkerLaunch } from '../src/engines/onnxruntime/index.js';
import { makeFeeds, openSession, timeForwardPasses } from '../src/engines/onnxruntime/session.js';
import { DEFAULT_LOGITS_OUTPUT } from '../src/engines/spec.js';
import { ProcessBackend } from '../src/backends/process-backend.js';
import { readFileSync } from 'node:fs';
import { scenarioBatch } from '../src/measure/batches.js';
import { fixturePath } from '../src/paths.js';
import { parseBenchFlags, startBenchRecord } from './record.js';

const BLOCKS = 10;
const PAIRS = 1500;
const PASSES = 30;
const WARMUP = 5;
const model = fixturePath('model.onnx');
// onnxruntime-cpu as a config resolves it, on the fixture.
const spec = onnxruntime.resolve(
  { name: 'onnxruntime-cpu', ...onnxruntime.presets['onnxruntime-cpu']! },
  {
    index: 0,
    onnxPath: model,
    logitsOutput: DEFAULT_LOGITS_OUTPUT,
    hfPath: undefined,
    trustPickle: false,
    allowedWeightDifferences: [],
    resolvePath: (p) => p,
    fail: (_keyPath, message) => {
      throw new Error(message);
    },
  },
);
const flags = parseBenchFlags();
const recorder = startBenchRecord({
  bench: 'harness-overhead',
  parameters: {
    backend: spec.name,
    model: 'fixtures/model/model.onnx',
    inProcessPairs: PAIRS,
    inProcessPattern: 'A B B A (bare, harness / harness, bare)',
    workerBlocks: BLOCKS,
    workerPassesPerBlock: PASSES,
    warmupPasses: WARMUP,
  },
  out: flags.out,
  notes: flags.notes,
});
const tokens = JSON.parse(readFileSync(fixturePath('heldout.tokens.json'), 'utf8')) as number[];

const inProcess = await openSession(model, spec);
const { session } = inProcess;
const worker = new ProcessBackend(spec, ortWorkerLaunch());
const opened = await worker.open();
if (opened.status !== 'ok') throw new Error(`worker did not open: ${opened.reason}`);

const figures: Record<string, unknown> = {};
console.log('scenario       bare_median_ms  harness_median_ms  ratio   runner_median_ms  ratio');
for (const [name, batch, seqLen] of [
  ['single_micro', 1, 8],
  ['single_medium', 1, 128],
] as const) {
  const input = scenarioBatch(tokens, batch, seqLen);
  const feeds = makeFeeds(session, batch, seqLen, input.inputIds, input.attentionMask);
  const bare: number[] = [];
  const harness: number[] = [];
  const runner: number[] = [];
  const barePass = async (): Promise<void> => {
    const t0 = process.hrtime.bigint();
    await session.run(feeds);
    bare.push(Number(process.hrtime.bigint() - t0) / 1e6);
  };
  const harnessPass = async (): Promise<void> => {
    harness.push(...(await timeForwardPasses(inProcess, feeds, 0, 1)).latenciesMs);
  };
  for (let i = 0; i < WARMUP; i++) await session.run(feeds);
  // Pass by pass, A B B A: on a noisy machine only interleaving this fine makes a 2% question answerable.
  for (let i = 0; i < PAIRS; i++) {
    if (i % 2 === 0) {
      await barePass();
      await harnessPass();
    } else {
      await harnessPass();
      await barePass();
    }
  }
  for (let block = 0; block < BLOCKS; block++) {
    const ran = await worker.run({ ...input, warmup: WARMUP, iterations: PASSES }, 60_000);
    if (ran.status !== 'ok') throw new Error(ran.reason);
    runner.push(...ran.latenciesMs);
  }
  const [b, h, r] = [median(bare), median(harness), median(runner)];
  figures[name] = {
    bareMedianMs: b,
    harnessMedianMs: h,
    harnessOverBareRatio: h / b,
    runnerMedianMs: r,
    runnerOverBareRatio: r / b,
  };
  console.log(
    `${name.padEnd(14)} ${b.toFixed(4).padStart(14)}  ${h.toFixed(4).padStart(17)}  ${(h / b).toFixed(3).padStart(5)}   ${r.toFixed(4).padStart(16)}  ${(r / b).toFixed(3).padStart(5)}`,
  );
}
await worker.close();
await session.release();
recorder.write(figures);
console.log(`written: ${recorder.file}`);
