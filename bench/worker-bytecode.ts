/**
 * What byte code does to a compiled PyTorch backend's worker start (its preload: torch, transformers' model code,
 * torch.compile's imports; tr118_native/worker/__main__.py), in fresh processes, rounds alternating:
 *   beside       the environment as installed: byte code in the `__pycache__` folders beside the sources
 *   none         no usable byte code and none written (an empty PYTHONPYCACHEPREFIX, PYTHONDONTWRITEBYTECODE=1): what
 *                every worker of a `uv pip install`-made environment pays at every start
 *   folder       byte code in a folder of its own, written by one earlier process (PYTHONPYCACHEPREFIX): what
 *                tr118_native/worker/bytecode.py sets up in `.python-bytecode` of the artifact cache for the second
 *   folderFirst  that earlier process: compiling and writing the folder (a cold run's workers)
 *   npm run bench:bytecode [-- --rounds N --out FILE --notes TEXT]
 * writes bench/results/worker-bytecode-<machine>.json (bench/record.ts). Needs the torch set (npm run test:torch).
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { median } from 'simple-statistics';
import { findPython } from '../src/backends/native-worker.js';
import { packageRoot } from '../src/paths.js';
import { scratchDir, startBenchRecord } from './record.js';

const { values } = parseArgs({
  options: { rounds: { type: 'string', default: '3' }, out: { type: 'string' }, notes: { type: 'string' } },
});
const rounds = Number(values.rounds);
const python = findPython(process.env, packageRoot());
if ('missing' in python) {
  console.error(`bench:bytecode: ${python.missing}`);
  process.exit(2);
}
const pythonCommand = python.command;
const PRELOAD = 'torch,compile';
const CHILD = [
  'import json, os',
  'from tr118_native.worker.hidden import hide',
  'hide(os.environ)',
  'from tr118_native.worker.__main__ import preload',
  `preload(${JSON.stringify(PRELOAD)})`,
  'from tr118_native.worker.torch_engine import PRELOAD_MS',
  'print(json.dumps(PRELOAD_MS))',
].join('\n');
const recorder = startBenchRecord({
  bench: 'worker-bytecode',
  parameters: { rounds, preload: PRELOAD, python: pythonCommand },
  out: values.out,
  notes: values.notes,
});

type Condition = 'beside' | 'none' | 'folderFirst' | 'folder';
const scratch = scratchDir('tr118-bench-bytecode-');

/** One fresh process's preload: its wall seconds (process start to exit) and the preload's own steps, ms. */
function start(extraEnv: NodeJS.ProcessEnv): { wallSeconds: number; preloadMs: Record<string, number> } {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PYTHONPATH: path.join(packageRoot(), 'native'),
    PYTHONDONTWRITEBYTECODE: '1',
  };
  delete env.PYTHONPYCACHEPREFIX; // no prefix of the caller's own: each condition says its own
  Object.assign(env, extraEnv);
  const t0 = process.hrtime.bigint();
  const done = spawnSync(pythonCommand, ['-c', CHILD], { env, encoding: 'utf8' });
  const wallSeconds = Number(process.hrtime.bigint() - t0) / 1e9;
  if (done.status !== 0) throw new Error(`the preload failed: ${done.stderr.slice(-2000)}`);
  return { wallSeconds, preloadMs: JSON.parse(done.stdout.trim().split('\n').at(-1)!) as Record<string, number> };
}

const samples: Record<Condition, { wallSeconds: number; preloadMs: Record<string, number> }[]> = {
  beside: [],
  none: [],
  folderFirst: [],
  folder: [],
};
for (let round = 0; round < rounds; round++) {
  // Each round its own folder: written once (folderFirst), then read (folder).
  const folder = path.join(scratch, `round-${round}`);
  samples.beside.push(start({}));
  samples.none.push(start({ PYTHONPYCACHEPREFIX: path.join(scratch, `empty-${round}`) }));
  samples.folderFirst.push(start({ PYTHONPYCACHEPREFIX: folder, PYTHONDONTWRITEBYTECODE: '' }));
  samples.folder.push(start({ PYTHONPYCACHEPREFIX: folder, PYTHONDONTWRITEBYTECODE: '' }));
  const last = (c: Condition) => samples[c].at(-1)!.wallSeconds.toFixed(2);
  console.log(
    `round ${round + 1}/${rounds}: beside ${last('beside')} s, none ${last('none')} s, ` +
      `folder first ${last('folderFirst')} s, folder ${last('folder')} s`,
  );
}

const figures = Object.fromEntries(
  (Object.keys(samples) as Condition[]).map((c) => [
    c,
    {
      medianWallSeconds: median(samples[c].map((s) => s.wallSeconds)),
      wallSeconds: samples[c].map((s) => s.wallSeconds),
      medianPreloadMs: Object.fromEntries(
        Object.keys(samples[c][0]!.preloadMs).map((step) => [step, median(samples[c].map((s) => s.preloadMs[step]!))]),
      ),
    },
  ]),
);
recorder.write(figures);
console.log(`written: ${recorder.file}`);
