import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ArtifactStore } from '../../src/cache/store.js';
import { loadConfigFile } from '../../src/config/load.js';
import { COMPILE_ARTIFACTS_FILE, COMPILE_CACHE_KIND } from '../../src/engines/pytorch/compile-cache.js';
import { runPipeline } from '../../src/pipeline/index.js';
import { FIXTURE_HF, ROOT, tempDir, writeConfig } from '../helpers/fixture.js';

// One compiled pytorch backend, its worker a script that plays torch.compile's cache (open-log-worker.mjs), and this
// machine's facts given (no Python, no nvidia-smi): the runner's side of the compile cache, run after run.
const CONFIG = `backends:
  - { name: gpu-compiled, engine: pytorch, device: cuda, compile: default }
scenarios:
  s: { batch: 1, seq_len: 8 }
repetitions: 1
iterations: 2
warmup: 0
accuracy: { enabled: false }
`;

/**
 * One run of `yaml` through the pipeline, its pytorch worker the script that plays torch (env: its settings), this
 * machine's facts given. `out` and `cacheDir` default to folders in `dir`.
 */
async function runScripted(
  dir: string,
  yaml: string,
  options: { readonly out?: string; readonly cacheDir?: string; readonly env?: Record<string, string> } = {},
) {
  const configFile = writeConfig(dir, yaml, FIXTURE_HF);
  const out = options.out ?? path.join(dir, 'out');
  const { results } = await runPipeline({
    config: loadConfigFile(configFile),
    outDir: out,
    cacheDir: options.cacheDir ?? path.join(dir, 'cache'),
    backendOptions: {
      nativeWorker: {
        command: process.execPath,
        args: [path.join(ROOT, 'test/helpers/open-log-worker.mjs')],
        env: { OPEN_LOG: path.join(dir, `${path.basename(out)}.log`), ...options.env },
      },
      compileCacheFacts: {
        torchVersion: () => Promise.resolve('2.11.0+cu130'),
        deviceName: () => Promise.resolve('NVIDIA H100 80GB HBM3'),
      },
    },
  });
  return { results, configFile, out };
}

async function runOnce(dir: string, cacheDir: string, name: string) {
  const { results, out } = await runScripted(dir, CONFIG, { out: path.join(dir, name), cacheDir });
  return { results, report: readFileSync(path.join(out, 'report.md'), 'utf8') };
}

describe("torch.compile's cache through a run: restored before open, saved at close", () => {
  it('a first run misses and stores; the next hits; what is measured and compared stays the same', async () => {
    const dir = tempDir();
    const cacheDir = path.join(dir, 'cache');
    const cold = await runOnce(dir, cacheDir, 'cold');
    expect(cold.results.backends[0]?.session?.compileCache).toBe('miss');
    expect(cold.report).toContain('compile cache: miss, compile 0.1 s; Inductor graphs 0 of 3 from the cache');
    const store = new ArtifactStore({ root: cacheDir });
    const [entry] = store.list(COMPILE_CACHE_KIND);
    expect(entry).toBeDefined();
    // What the worker saved at close: the graph compiled at open and the shapes compiled since.
    expect(readFileSync(path.join(entry!.dir, COMPILE_ARTIFACTS_FILE), 'utf8')).toBe(
      'graphs compiled at open, and the shapes compiled since',
    );

    const warm = await runOnce(dir, cacheDir, 'warm');
    expect(warm.results.backends[0]?.session?.compileCache).toBe('hit');
    expect(warm.report).toContain('compile cache: hit, compile 0.1 s; Inductor graphs 3 of 3 from the cache');
    expect(warm.results.backends[0]?.session?.compileCacheLookups).toEqual({
      inductorHits: 3,
      inductorMisses: 0,
      aotAutogradHits: 1,
      aotAutogradMisses: 0,
    });
    expect(warm.results.backends[0]?.spec).toEqual(cold.results.backends[0]?.spec);
    expect(warm.results.verdict.decision).toBe(cold.results.verdict.decision);
  }, 120_000);

  it('a backend that does not compile neither asks nor says anything about a compile cache', async () => {
    const dir = tempDir();
    const { results } = await runScripted(dir, CONFIG.replace('compile: default', 'compile: off'));
    expect(results.backends[0]?.status).toBe('ok');
    expect(results.backends[0]?.session?.compileCache).toBeUndefined();
  }, 120_000);
});

describe("a compiled backend's compile of a new shape in the matrix is charged to compile, not warm-up", () => {
  // Two scenarios, the second a batch of 2: the worker's first run of it compiles a second graph for 400 ms in its
  // warm-up (RUN_COMPILE_MS) and says so (compileMs), as torch_engine.py's does.
  const withBatch = `${CONFIG.replace('s: { batch: 1, seq_len: 8 }', 's: { batch: 1, seq_len: 8 }\n  b: { batch: 2, seq_len: 8 }')}`;
  const phasesOf = async (runCompileMs: string | undefined) => {
    const env = runCompileMs ? { RUN_COMPILE_MS: runCompileMs } : {};
    const { results } = await runScripted(tempDir(), withBatch, { env });
    expect(results.backends[0]?.status).toBe('ok');
    return results.phases!;
  };

  it('moves the reported compile out of warm-up, and moves nothing when the worker reports none', async () => {
    const compiling = await phasesOf('400');
    const quiet = await phasesOf(undefined);
    // The 400 ms sleep was charged to the request's warm-up span; without the move warm-up would hold all of it.
    expect(compiling.compile).toBeGreaterThan(0.35);
    expect(compiling.warmUp).toBeLessThan(0.3);
    // The open's compile only (60 ms at most, moved from the opens' span as far as it held it).
    expect(quiet.compile).toBeLessThanOrEqual(0.06);
  }, 120_000);
});

describe("warmup: 0 with a backend that compiles at a shape's first pass is said, not hidden", () => {
  const notesOf = async (warmup: number, compile: string) => {
    const yaml = CONFIG.replace('warmup: 0', `warmup: ${warmup}`).replace('compile: default', `compile: ${compile}`);
    const { results, configFile } = await runScripted(tempDir(), yaml);
    return { notes: results.notes, configFile };
  };

  it('a compiled backend without warm-up: a note naming the file, the key, the backend and the fix', async () => {
    const { notes, configFile } = await notesOf(0, 'default');
    const note = notes.find((n) => n.includes('warmup is 0'));
    expect(note).toMatch(new RegExp(`^${configFile.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:\\d+:\\d+: warmup is 0`));
    expect(note).toContain('gpu-compiled compiles each new shape on its first pass');
    expect(note).toContain('set warmup to 1 or more');
  }, 120_000);

  it('a compile the worker saw in the timed passes is kept, flagged on its record and named by cell', async () => {
    const dir = tempDir();
    const yaml = CONFIG.replace('repetitions: 1', 'repetitions: 3');
    const { results, out } = await runScripted(dir, yaml, { env: { TIMED_COMPILE_RUNS: '1' } });
    const raw = readFileSync(path.join(out, 'results.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { kind: string; repetition?: number; compiledInTimedPasses?: boolean });
    const runs = raw.filter((r) => r.kind === 'run');
    expect(runs.map((r) => r.compiledInTimedPasses ?? false)).toEqual([true, false, false]);
    expect(results.notes).toContain(
      'gpu-compiled: a graph was compiled during the timed passes of s (repetition 1): warmup is 0, so each new ' +
        "shape compiled on its first timed pass; those passes hold the compile's time and are kept as measured",
    );
    // With a warm-up pass, a compile in the timed passes is a recompile, said as one.
    const warmed = await runScripted(tempDir(), yaml.replace('warmup: 0', 'warmup: 1'), {
      env: { TIMED_COMPILE_RUNS: '2,3' },
    });
    const note = warmed.results.notes.find((n) => n.includes('compiled during the timed passes'));
    expect(note).toContain('of s (repetitions 2, 3): the model was compiled again after its warm-up');
    const quiet = await runScripted(tempDir(), yaml.replace('warmup: 0', 'warmup: 1'));
    expect(quiet.results.notes.some((n) => n.includes('compiled during the timed passes'))).toBe(false);
  }, 120_000);

  it('no note with a warm-up pass, nor for an eager backend', async () => {
    expect((await notesOf(1, 'default')).notes.some((n) => n.includes('warmup is 0'))).toBe(false);
    expect((await notesOf(0, 'off')).notes.some((n) => n.includes('warmup is 0'))).toBe(false);
  }, 120_000);
});
