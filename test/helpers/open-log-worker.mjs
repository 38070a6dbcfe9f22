// A worker whose open takes OPEN_DELAY_MS and that logs when its process starts, when each open starts and ends and
// when it is closed, one JSON line per event in OPEN_LOG: what the runner's concurrent opens do, without Python. A
// backend named in USAGE_BACKEND answers its open with a usage error (its model does not fit the config). A compiled
// backend plays torch.compile's cache as compile_cache.py does: a `load` is a hit, a miss compiles; `save` is written
// at close, once (the graph compiled at open and the shapes compiled since); with RUN_COMPILE_MS its first run of a
// batch over 1 takes that long and reports it as compileMs, as a worker's second graph does. IMPORT_DELAY_MS plays the imports a
// worker makes before it reads a request (torch: seconds); an `export` job takes EXPORT_DELAY_MS, then writes the
// fixture model as the export (or, with EXPORT_FAIL set, answers that the export failed). Started through
// stand-in-python.sh, which answers the package-version question a real Python is asked before an export.
import { appendFileSync, copyFileSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';

const reply = (message) => process.stdout.write(`${JSON.stringify(message)}\n`);
const log = (name, event) =>
  appendFileSync(process.env.OPEN_LOG, `${JSON.stringify({ name, event, pid: process.pid, at: Date.now() })}\n`);
let name = '?';
let save;
let compiled = false;
let secondGraph = false;
let runs = 0;
const writeSave = (bytes) => {
  mkdirSync(path.dirname(save), { recursive: true });
  writeFileSync(save, bytes);
};
log(name, 'spawned');
await sleep(Number(process.env.IMPORT_DELAY_MS ?? 0));
log(name, 'imported');
for await (const line of createInterface({ input: process.stdin })) {
  const message = JSON.parse(line);
  if (message.type === 'open') {
    name = message.backend.name;
    log(name, 'start');
    await sleep(Number(process.env.OPEN_DELAY_MS ?? 0));
    log(name, 'end');
    if (name === process.env.USAGE_BACKEND) {
      reply({
        type: 'error',
        id: message.id,
        kind: 'usage',
        message: 'no output named logits',
        keyPath: ['model', 'logits_output'],
      });
      continue;
    }
    compiled = message.backend.compile && message.backend.compile !== 'off';
    const cache = compiled && message.compileCache ? (message.compileCache.load ? 'hit' : 'miss') : undefined;
    save = message.compileCache?.save;
    reply({
      type: 'opened',
      id: message.id,
      info: {
        protocolVersion: 1,
        runtime: 'open-log-test',
        runtimeVersion: '0',
        providers: ['test'],
        inputNames: ['input_ids'],
        outputNames: ['logits'],
        openMs: 100,
        ...(compiled ? { compileMs: 60 } : {}),
        ...(cache ? { compileCache: cache } : {}),
        // torch's lookups as a real worker counts them: a hit finds its three graphs, a miss compiles them.
        ...(cache
          ? {
              compileCacheLookups: {
                inductorHits: cache === 'hit' ? 3 : 0,
                inductorMisses: cache === 'hit' ? 0 : 3,
                aotAutogradHits: cache === 'hit' ? 1 : 0,
                aotAutogradMisses: cache === 'hit' ? 0 : 1,
              },
            }
          : {}),
      },
    });
  } else if (message.type === 'export') {
    name = 'export';
    log(name, 'start');
    await sleep(Number(process.env.EXPORT_DELAY_MS ?? 0));
    log(name, 'end');
    if (process.env.EXPORT_FAIL) {
      reply({ type: 'error', id: message.id, kind: 'failed', message: 'the exporter crashed (scripted)' });
      continue;
    }
    const onnx = path.join(message.outPath, 'model.onnx');
    copyFileSync(path.join(import.meta.dirname, '../../fixtures/model/model.onnx'), onnx);
    const versions = { torch: '0', transformers: '0', onnx: '0', onnxruntime: '0', python: '0' };
    reply({
      type: 'exported',
      id: message.id,
      files: [{ name: 'model.onnx', bytes: statSync(onnx).size }],
      externalData: false,
      ...{ loadMs: 1, exportMs: 1, checkMs: 1, probeMs: 1, opset: message.opset, exporter: message.exporter },
      ...{ versions, probeMaxAbsDiff: 0, probeMaxRelDiff: 0 },
    });
  } else if (message.type === 'run') {
    const latenciesMs = Array.from({ length: message.iterations }, () => 1);
    // RUN_COMPILE_MS: a compiled backend's first larger batch compiles its second graph in warm-up, as torch's does.
    let compileMs;
    if (compiled && message.batch > 1 && !secondGraph && process.env.RUN_COMPILE_MS) {
      secondGraph = true;
      compileMs = Number(process.env.RUN_COMPILE_MS);
      await sleep(compileMs);
    }
    // TIMED_COMPILE_RUNS: the run requests (counted from 1) whose timed passes held a compile, as the worker says
    // when Dynamo's graph count grew during them (warmup: 0, or a recompile).
    runs++;
    const timedCompile = (process.env.TIMED_COMPILE_RUNS ?? '').split(',').includes(String(runs));
    const shape = [message.batch, message.seqLen, 8];
    reply({
      type: 'ran',
      id: message.id,
      latenciesMs,
      outputShape: shape,
      ...(compileMs ? { compileMs } : {}),
      ...(timedCompile ? { compiledInTimedPasses: true } : {}),
    });
  } else if (message.type === 'close') {
    log(name, 'closed');
    if (save) writeSave('graphs compiled at open, and the shapes compiled since');
    reply({ type: 'closed', id: message.id });
    process.exit(0);
  } else {
    reply({ type: 'error', id: message.id, kind: 'failed', message: `not scripted: ${message.type}` });
  }
}
