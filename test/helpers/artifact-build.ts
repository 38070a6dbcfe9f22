/**
 * One process needing one artifact: `tsx artifact-build.ts ROOT KEY COUNTER` calls getOrBuild with a slow
 * producer that appends a line to COUNTER (so a test can count builds across processes) and prints the outcome
 * as JSON on stdout.
 */
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ArtifactStore } from '../../src/cache/store.js';

const [root, key, counter] = process.argv.slice(2) as [string, string, string];
const store = new ArtifactStore({ root, maxBytes: 1 << 30, lockPollMs: 50 });
const outcome = await store.getOrBuild('onnx-export', { key, inputs: { test: true } }, async (tmp) => {
  appendFileSync(counter, `${process.pid}\n`);
  const file = path.join(tmp, 'model.onnx');
  // Written in two halves with a pause: a reader that saw the file before the entry was complete would see half.
  writeFileSync(file, Buffer.alloc(50_000, 'a'));
  await sleep(1500);
  appendFileSync(file, Buffer.alloc(50_000, 'b'));
  return { files: ['model.onnx'], buildMs: 1500 };
});
const bytes = readFileSync(outcome.entry.files['model.onnx']!).length;
process.stdout.write(`${JSON.stringify({ status: outcome.status, bytes })}\n`);
