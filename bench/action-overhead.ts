/**
 * What the Action costs on top of the measurement: the built dist/index.js, run from a checkout without
 * node_modules as a runner runs it, on the bundled default matrix. Cold: ONNX Runtime provisioned (the pinned
 * tarballs from a local npm registry serving npm's cached bytes, so the network is left out: sha512 check and
 * unpacking only). Warm: from the tool cache. Then as on hosted runners with `cache: actions` (fresh tool cache each
 * job): cold plus saving to a local Actions cache service, and restored from it. Overhead = step wall time − the
 * pipeline's own duration.
 *   npm run build && npm run bench:action [-- --out FILE --notes TEXT]
 * writes bench/results/action-overhead-<machine>.json (bench/record.ts).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { FakeActionsCache } from '../test/helpers/actions-cache.js';
import { freshCheckout } from '../test/helpers/fixture.js';
import { FakeNpmRegistry } from '../test/helpers/npm-registry.js';
import { packageRoot } from '../src/paths.js';
import { parseBenchFlags, startBenchRecord } from './record.js';

const flags = parseBenchFlags();
const recorder = startBenchRecord({
  bench: 'action-overhead',
  // No `config` input: the Action runs its bundled default matrix.
  configFile: path.join(packageRoot(), 'fixtures/configs/default.yml'),
  parameters: {
    action: 'dist/index.js from a checkout without node_modules',
    onnxruntimeSource: 'lockfile-pinned npm tarballs from a local registry (network left out)',
    steps: {
      cold: 'empty tool cache: sha512 check and unpacking',
      warm: 'from the tool cache',
      'cold+save': 'cache: actions, empty tool cache: cold, then saved to a local Actions cache service',
      restore: 'cache: actions, empty tool cache: restored from that service',
    },
  },
  out: flags.out,
  notes: flags.notes,
});
const figures: Record<
  string,
  {
    stepSeconds: number;
    pipelineSeconds: number;
    overheadSeconds: number;
    phasesSeconds: Record<string, number> | null;
  }
> = {};

const dir = mkdtempSync(path.join(os.tmpdir(), 'tr118-bench-action-'));
const checkout = freshCheckout(dir);

const registry = new FakeNpmRegistry();
const registryUrl = await registry.start();
const actionsCache = new FakeActionsCache();
const cacheUrl = await actionsCache.start();

async function step(label: string, extraEnv: NodeJS.ProcessEnv = {}): Promise<void> {
  const summary = path.join(dir, `summary-${label}.md`);
  writeFileSync(summary, '');
  const out = path.join(dir, `out-${label}`);
  const started = process.hrtime.bigint();
  // spawn, not spawnSync: the registry answers from this process's event loop
  const child = spawn(process.execPath, [path.join(checkout, 'dist/index.js')], {
    cwd: dir,
    stdio: 'ignore',
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      RUNNER_TOOL_CACHE: path.join(dir, 'toolcache'),
      RUNNER_TEMP: dir,
      TR118_NPM_REGISTRY: registryUrl,
      GITHUB_STEP_SUMMARY: summary,
      INPUT_OUT: out,
      ...extraEnv,
    },
  });
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (code !== 0) throw new Error(`the Action exited ${String(code)}`);
  const results = JSON.parse(readFileSync(path.join(out, 'results.json'), 'utf8')) as {
    durationSeconds: number;
    /** Where the pipeline's seconds went (issue 23); absent from a tr118 older than that. */
    phases?: Record<string, number>;
  };
  figures[label] = {
    stepSeconds: seconds,
    pipelineSeconds: results.durationSeconds,
    overheadSeconds: seconds - results.durationSeconds,
    phasesSeconds: results.phases ?? null,
  };
  console.log(
    `${label.padEnd(9)} step ${seconds.toFixed(2)} s, pipeline ${results.durationSeconds.toFixed(2)} s, overhead ${(seconds - results.durationSeconds).toFixed(2)} s`,
  );
}

console.log(`machine: ${os.cpus()[0]?.model.trim()} × ${os.cpus().length}; Node ${process.version}`);
await step('cold');
await step('warm');
// hosted runners with cache: actions: a fresh tool cache each job, ONNX Runtime from the (local) Actions cache
const hosted = {
  INPUT_CACHE: 'actions',
  ACTIONS_CACHE_SERVICE_V2: 'true',
  ACTIONS_RESULTS_URL: cacheUrl,
  ACTIONS_RUNTIME_TOKEN: 'bench',
};
rmSync(path.join(dir, 'toolcache'), { recursive: true });
await step('cold+save', hosted);
rmSync(path.join(dir, 'toolcache'), { recursive: true });
await step('restore', hosted);
await registry.stop();
await actionsCache.stop();
recorder.write(figures);
console.log(`written: ${recorder.file}`);
