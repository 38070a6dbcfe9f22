/**
 * The NLL stage alone: log-softmax and gather over a float32 logits buffer of one 1024-token window with a
 * 50,257-token vocabulary (GPT-2's), on one core (this thread). Target: ≥ 50 million logits per second.
 *   npm run bench:nll [-- --out FILE --notes TEXT]
 * writes bench/results/nll-throughput-<machine>.json (bench/record.ts).
 */
import { median } from 'simple-statistics';
import { windowNll } from '../src/accuracy/perplexity.js';
import { seededRandom } from '../src/stats/random.js';
import { parseBenchFlags, startBenchRecord } from './record.js';

const VOCAB = 50257;
const WINDOW = 1024;
const REPEATS = 7;
const SEED = 7;
const flags = parseBenchFlags();
const recorder = startBenchRecord({
  bench: 'nll-throughput',
  parameters: { vocab: VOCAB, windowTokens: WINDOW, repeats: REPEATS, seed: SEED, logits: 'uniform in [-10, 10)' },
  out: flags.out,
  notes: flags.notes,
});
const random = seededRandom(SEED);
const logits = new Float32Array(WINDOW * VOCAB);
for (let i = 0; i < logits.length; i++) logits[i] = (random() - 0.5) * 20;
const tokens = Array.from({ length: WINDOW }, () => Math.floor(random() * VOCAB));
const window = { start: 0, end: WINDOW, scoreFrom: 1 };
const logitsScored = (WINDOW - 1) * VOCAB;

windowNll(logits, VOCAB, tokens, window); // warm the JIT
const seconds: number[] = [];
for (let r = 0; r < REPEATS; r++) {
  const t0 = process.hrtime.bigint();
  windowNll(logits, VOCAB, tokens, window);
  seconds.push(Number(process.hrtime.bigint() - t0) / 1e9);
}
const medianSeconds = median(seconds);
const rate = logitsScored / medianSeconds;
console.log(
  `NLL stage: ${(rate / 1e6).toFixed(1)} million logits/s on one core (median of ${REPEATS}, ${WINDOW}×${VOCAB} window; target ≥ 50)`,
);
recorder.write({ logitsPerSecond: rate, medianWindowSeconds: medianSeconds, logitsScoredPerWindow: logitsScored });
console.log(`written: ${recorder.file}`);
