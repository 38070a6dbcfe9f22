/**
 * The PyTorch worker's timer against a bare loop of forward passes in the same process (issue: "the worker's median
 * ÷ a bare loop of CUDA-event-timed forward passes ≤ 1.03" for transformers-gpu at 1×128 and 4×128).
 *   npm run bench:torch [-- --device cuda --checkpoint DIR --name NAME --shapes 1x128,4x128 --out FILE --notes TEXT]
 * Runs native/ `python -m tr118_native.worker.harness` with the Python the pytorch backends use (TR118_PYTHON, a
 * .venv, python3) and writes bench/results/torch-harness-<device>-<name>-<machine>.json (bench/record.ts).
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { findPython, pythonWorkerLaunch } from '../src/backends/native-worker.js';
import { packageRoot } from '../src/paths.js';
import { startBenchRecord } from './record.js';

const { values } = parseArgs({
  options: {
    device: { type: 'string', default: 'cuda' },
    checkpoint: { type: 'string', default: path.join(packageRoot(), 'fixtures/model/hf') },
    /** A short name of the checkpoint for the file name (fixture, gpt2-small, …). */
    name: { type: 'string', default: 'fixture' },
    shapes: { type: 'string', default: '1x128,4x128' },
    blocks: { type: 'string', default: '10' },
    iterations: { type: 'string', default: '100' },
    out: { type: 'string' },
    notes: { type: 'string' },
  },
});
const python = findPython(process.env, packageRoot());
if ('missing' in python) throw new Error(python.missing);
const launch = pythonWorkerLaunch(python.command, process.env);
const args = ['-m', 'tr118_native.worker.harness', '--checkpoint', path.resolve(values.checkpoint)];
args.push('--device', values.device, '--shapes', values.shapes, '--blocks', values.blocks);
args.push('--iterations', values.iterations);
const recorder = startBenchRecord({
  bench: 'torch-harness',
  fileStem: `torch-harness-${values.device}-${values.name}`,
  parameters: { ...values, python: python.command, command: args.join(' ') },
  out: values.out,
  notes: values.notes,
});
const r = spawnSync(launch.command, args, { env: { ...process.env, ...launch.env }, encoding: 'utf8' });
if (r.status !== 0) throw new Error(`harness failed (${String(r.status)}): ${r.stderr}`);
const figures = JSON.parse(r.stdout) as { shapes: Record<string, { harnessOverBareRatio: number }> };
for (const [shape, f] of Object.entries(figures.shapes)) {
  console.log(`${shape}: worker timer ÷ bare loop = ${f.harnessOverBareRatio.toFixed(4)} (target ≤ 1.03)`);
}
recorder.write(figures);
console.log(`written: ${recorder.file}`);
