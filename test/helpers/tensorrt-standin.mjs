// Stands in for the native worker's TensorRT side, which cannot run here (no TensorRT, no GPU): answers `probe` and
// `build` as native/tr118_native/worker/trt_engine.py does, and runs an "engine" with ONNX Runtime on the CPU. Its
// engine file is a byte copy of the ONNX file it was built from, so a run measures exactly the file the artifact
// store handed out, and its perplexity must equal onnxruntime-cpu's on the same ONNX file.
//   STANDIN_LOG            a JSONL file: one line per request seen ({ type, pid, modelPath?, outPath?, … })
//   STANDIN_TRT_VERSION    what probe says (default 10.13.3.9)
//   STANDIN_PROBE_ERROR    probe answers an error of this kind (unavailable | failed)
//   STANDIN_BUILD_ERROR    build answers an error of this kind
//   STANDIN_BUILT_VERSION  build says it built with this TensorRT (default: the probed one)
//   STANDIN_BUILD_FAILS_FOR  build answers an error for this ONNX file only (a base model whose engine fails)
// Every other request goes to the real ONNX Runtime worker in Node (src/engines/onnxruntime/worker.ts), with `open`
// turned into an onnxruntime cpu open of the engine file.
import { spawn } from 'node:child_process';
import { appendFileSync, copyFileSync, existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const version = process.env.STANDIN_TRT_VERSION ?? '10.13.3.9';
const log = (entry) => {
  if (process.env.STANDIN_LOG)
    appendFileSync(process.env.STANDIN_LOG, `${JSON.stringify({ ...entry, pid: process.pid })}\n`);
};
const reply = (message) => process.stdout.write(`${JSON.stringify(message)}\n`);
const error = (id, kind, message) => reply({ type: 'error', id, kind, message });

let child;
function forward(message) {
  if (!child) {
    child = spawn(process.execPath, ['--import', 'tsx', path.join(root, 'src/engines/onnxruntime/worker.ts')], {
      cwd: root,
      stdio: ['pipe', 'inherit', 'inherit'],
    });
  }
  child.stdin.write(`${JSON.stringify(message)}\n`);
}

for await (const line of createInterface({ input: process.stdin })) {
  const message = JSON.parse(line);
  const { id, type } = message;
  if (type === 'probe') {
    log({ type, deviceId: message.deviceId });
    if (process.env.STANDIN_PROBE_ERROR) {
      error(id, process.env.STANDIN_PROBE_ERROR, `stand-in probe: ${process.env.STANDIN_PROBE_ERROR}`);
    } else {
      reply({ type: 'probed', id, tensorrtVersion: version, computeCapability: '9.0', gpu: 'stand-in GPU' });
    }
  } else if (type === 'build') {
    log({
      type,
      onnxPath: message.onnxPath,
      outPath: message.outPath,
      precision: message.precision,
      precisionPath: message.precisionPath,
      profiles: message.profiles,
      builder: message.builder,
      calibrationTokens: message.calibrationTokens?.length ?? 0,
    });
    if (process.env.STANDIN_BUILD_ERROR) {
      error(id, process.env.STANDIN_BUILD_ERROR, `stand-in build: ${process.env.STANDIN_BUILD_ERROR}`);
    } else if (process.env.STANDIN_BUILD_FAILS_FOR === message.onnxPath) {
      error(id, 'failed', `stand-in build: failed for ${message.onnxPath}`);
    } else if (!existsSync(message.onnxPath)) {
      error(id, 'failed', `${message.onnxPath}: no such ONNX file`);
    } else {
      copyFileSync(message.onnxPath, message.outPath);
      if (message.calibrationTokens) writeFileSync(message.outPath.replace(/\.engine$/, '.calib'), 'calibration');
      reply({
        type: 'built',
        id,
        file: message.outPath,
        bytes: 1,
        buildMs: 4321,
        tensorrtVersion: process.env.STANDIN_BUILT_VERSION ?? version,
        computeCapability: '9.0',
        precisionPath: message.precisionPath,
      });
    }
  } else {
    if (type === 'open') {
      log({
        type,
        engine: message.backend.engine,
        modelPath: message.backend.modelPath,
        baseModelPath: message.baseModelPath,
      });
      message.backend = {
        ...message.backend,
        engine: 'onnxruntime',
        provider: 'cpu',
        worker: 'node',
        graphOptimization: 'all',
      };
    } else {
      log({ type });
    }
    forward(message);
    if (type === 'close') break;
  }
}
if (child) child.stdin.end();
