/**
 * The Python worker's ONNX Runtime timer against a bare IO-binding loop in the same process (issue 11: "the figure
 * the gate uses for ONNX Runtime CUDA ÷ a bare Python ONNX Runtime IO-binding loop ≤ 1.05 at 1×128 and 4×128").
 *   npm run bench:ort-gpu [-- --provider cuda --model FILE --name NAME --shapes 1x128,4x128 --blocks N --iterations N
 *                             --intra-op-threads N --out FILE --notes TEXT]
 * On a shared CPU machine, `--provider cpu --intra-op-threads 1 --blocks 40 --iterations 25` keeps both sides in the
 * same load phases (with ONNX Runtime's default of one thread per core, other jobs' load swings each median).
 * Runs native/ `python -m tr118_native.worker.harness ort` with the Python the native workers use (TR118_PYTHON, a
 * .venv, python3) and writes bench/results/ort-harness-<provider>-<name>-<machine>.json (bench/record.ts).
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { activateOrtGpu } from '../src/engines/onnxruntime/provision/onnxruntime-gpu.js';
import { findPython, pythonWorkerLaunch } from '../src/backends/native-worker.js';
import { ORT_GPU_PYTHONPATH_ENV } from '../src/engines/onnxruntime/provision/gpu-record.js';
import { packageRoot } from '../src/paths.js';
import { startBenchRecord } from './record.js';

const { values } = parseArgs({
  options: {
    provider: { type: 'string', default: 'cuda' },
    model: { type: 'string', default: path.join(packageRoot(), 'fixtures/model/model.onnx') },
    /** A short name of the model for the file name (fixture, gpt2-small, …). */
    name: { type: 'string', default: 'fixture' },
    shapes: { type: 'string', default: '1x128,4x128' },
    blocks: { type: 'string', default: '10' },
    iterations: { type: 'string', default: '100' },
    /** 0 = ONNX Runtime's default (one per physical core). */
    'intra-op-threads': { type: 'string', default: '0' },
    out: { type: 'string' },
    notes: { type: 'string' },
  },
});
const python = findPython(process.env, packageRoot());
if ('missing' in python) throw new Error(python.missing);
// What `tr118 provision` made (the onnxruntime-gpu wheel, the CUDA library folders), as `tr118 run` uses it.
if (values.provider !== 'cpu') {
  const activation = await activateOrtGpu(process.env, { python: python.command });
  console.log(`onnxruntime-gpu: ${activation.activated ? 'provisioned, ' : ''}${activation.note}`);
}
const launch = pythonWorkerLaunch(python.command, process.env, [process.env[ORT_GPU_PYTHONPATH_ENV]]);
const args = ['-m', 'tr118_native.worker.harness', 'ort', '--model', path.resolve(values.model)];
args.push('--provider', values.provider, '--shapes', values.shapes, '--blocks', values.blocks);
args.push('--iterations', values.iterations, '--intra-op-threads', values['intra-op-threads']);
const recorder = startBenchRecord({
  bench: 'ort-harness',
  fileStem: `ort-harness-${values.provider}-${values.name}`,
  parameters: { ...values, python: python.command, command: args.join(' ') },
  out: values.out,
  notes: values.notes,
});
const r = spawnSync(launch.command, args, { env: { ...process.env, ...launch.env }, encoding: 'utf8' });
if (r.status !== 0) throw new Error(`harness failed (${String(r.status)}): ${r.stderr}`);
const figures = JSON.parse(r.stdout) as {
  shapes: Record<string, { harnessOverBareRatio: number; harnessMedianMs: number; endToEndMedianMs?: number }>;
};
for (const [shape, f] of Object.entries(figures.shapes)) {
  const e2e = f.endToEndMedianMs === undefined ? '' : `; end to end ${f.endToEndMedianMs.toFixed(3)} ms`;
  console.log(
    `${shape}: worker timer ${f.harnessMedianMs.toFixed(3)} ms ÷ bare IO-binding loop = ` +
      `${f.harnessOverBareRatio.toFixed(4)} (target ≤ 1.05)${e2e}`,
  );
}
recorder.write(figures);
console.log(`written: ${recorder.file}`);
