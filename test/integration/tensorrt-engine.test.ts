/**
 * TensorRT engines through the artifact store (issue 10): everything around TensorRT, which cannot run here. The
 * worker is test/helpers/tensorrt-standin.mjs: it answers probe/build as the native worker does and runs the
 * "engine" (a byte copy of the ONNX file) with ONNX Runtime on the CPU; the store, keys, profiles, the pipeline and
 * the report are the real ones. The real Python worker's side (no TensorRT here) is the last test.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfigFile } from '../../src/config/load.js';
import { runPipeline, type PipelineResult } from '../../src/pipeline/index.js';
import { readResultsFile } from '../../src/results/read.js';
import { FIXTURE_MODEL, ROOT, tempDir, writeConfig } from '../helpers/fixture.js';
import { useFakeActionsCache } from '../helpers/actions-cache-hooks.js';
import { actionsArtifactStore } from '../../src/action/actions-cache-store.js';
import { perturbedFixture } from '../helpers/python.js';

const MATRIX =
  'scenarios:\n  small: { batch: 1, seq_len: 16 }\n  wide: { batch: 2, seq_len: 32 }\n' +
  'repetitions: 1\niterations: 2\nwarmup: 0\naccuracy: { max_tokens: 300, window: 128, stride: 64 }\n';

interface Seen {
  readonly type: string;
  readonly pid: number;
  readonly modelPath?: string;
  readonly baseModelPath?: string;
  readonly onnxPath?: string;
  readonly precisionPath?: string;
  readonly profiles?: Record<string, { min: number[]; opt: number[]; max: number[] }>;
  readonly builder?: Record<string, number>;
  readonly calibrationTokens?: number;
}

function setup(backends = '[onnxruntime-cpu, tensorrt-fp16, tensorrt-int8]') {
  const dir = tempDir();
  const cacheDir = path.join(dir, 'cache');
  const logFile = path.join(dir, 'worker.jsonl');
  writeFileSync(logFile, '');
  const config = writeConfig(dir, `backends: ${backends}\n${MATRIX}`);
  const seen = (): Seen[] =>
    readFileSync(logFile, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Seen);
  const run = async (
    out: string,
    env: Record<string, string> = {},
    configFile = config,
    cache: { dir?: string; actions?: boolean } = {},
  ): Promise<PipelineResult & { warnings: string[] }> => {
    const warnings: string[] = [];
    const result = await runPipeline({
      config: loadConfigFile(configFile),
      outDir: path.join(dir, out),
      cacheDir: cache.dir ?? cacheDir,
      ...(cache.actions ? { remoteStore: actionsArtifactStore() } : {}),
      warn: (m) => warnings.push(m),
      backendOptions: {
        nativeWorker: {
          command: process.execPath,
          args: [path.join(ROOT, 'test/helpers/tensorrt-standin.mjs')],
          env: { STANDIN_LOG: logFile, ...env },
        },
      },
    });
    return { ...result, warnings };
  };
  return { dir, cacheDir, config, seen, run, logFile };
}

/** (Comparing 7.7 MB buffers with toEqual takes vitest minutes.) */
const sha256 = (file: string): string => createHash('sha256').update(readFileSync(file)).digest('hex');
const status = (r: PipelineResult, name: string) => r.results.backends.find((b) => b.spec.name === name);
const ppl = (r: PipelineResult, name: string) => r.results.accuracy!.rows.find((x) => x.backend === name)!.perplexity!;

describe('TensorRT engines through the artifact store', () => {
  it('builds each engine once, measures the stored file, hits on the next run, rebuilds a damaged one', async () => {
    const t = setup();
    const first = await t.run('out1');
    const engines = first.results.engines!;
    expect(engines.map((e) => [e.backend, e.cache, e.precisionPath])).toEqual([
      ['tensorrt-fp16', 'built', 'tensorrt10-builder-flag-fp16'],
      ['tensorrt-int8', 'built', 'tensorrt10-builder-flag-int8-entropy-calibrated'],
    ]);
    for (const e of engines) {
      expect(e.enginePath.startsWith(path.join(t.cacheDir, 'tensorrt-engine', e.key))).toBe(true);
      expect(sha256(e.enginePath)).toBe(sha256(FIXTURE_MODEL));
      expect(e).toMatchObject({ buildMs: 4321, tensorrtVersion: '10.13.3.9', computeCapability: '9.0', corrupt: null });
      // The one profile covers the scenarios (1×16, 2×32) and the perplexity windows (1×128, last one 1×108 of 300
      // tokens with stride 64), opt the heaviest scenario.
      expect(e.profile).toEqual({ min: [1, 16], opt: [2, 32], max: [2, 128] });
    }
    // The int8 calibration cache written beside the engine is stored with it.
    expect(readdirSync(path.dirname(engines[1]!.enginePath)).sort()).toEqual(
      expect.arrayContaining(['model.calib', 'model.engine', 'key.json']),
    );
    const seen1 = t.seen();
    const builds = seen1.filter((s) => s.type === 'build');
    expect(builds).toHaveLength(2);
    expect(builds.every((b) => b.onnxPath === FIXTURE_MODEL)).toBe(true);
    expect(builds[0]!.profiles).toEqual({
      input_ids: { min: [1, 16], opt: [2, 32], max: [2, 128] },
      attention_mask: { min: [1, 16], opt: [2, 32], max: [2, 128] },
    });
    expect(builds[0]!.builder).toEqual({ workspaceBytes: 8 * 2 ** 30 });
    expect(builds[1]!.builder).toEqual({ workspaceBytes: 8 * 2 ** 30, calibrationBatches: 16 });
    expect(builds[0]!.calibrationTokens).toBe(0);
    expect(builds[1]!.calibrationTokens).toBe(300);
    // One probe for both backends (one GPU); the backends opened the stored engines, not the ONNX file.
    expect(seen1.filter((s) => s.type === 'probe')).toHaveLength(1);
    expect(seen1.filter((s) => s.type === 'open').map((s) => s.modelPath)).toEqual(engines.map((e) => e.enginePath));
    // Measured through the protocol like any backend: the same file gives onnxruntime-cpu's perplexity.
    expect(status(first, 'tensorrt-fp16')?.status).toBe('ok');
    expect(ppl(first, 'tensorrt-fp16')).toBeCloseTo(ppl(first, 'onnxruntime-cpu'), 9);
    const report1 = readFileSync(path.join(t.dir, 'out1', 'report.md'), 'utf8');
    expect(report1).toContain(
      'Made by this run (artifact cache miss): the TensorRT engine of tensorrt-fp16; the TensorRT engine of tensorrt-int8.',
    );
    const row = report1
      .split('\n')
      .map((l) => l.split('|').map((c) => c.trim()))
      .find((cells) => cells[1] === 'tensorrt-int8' && cells[2]?.startsWith('tensorrt10'));
    expect(row?.slice(2, 9)).toEqual([
      'tensorrt10-builder-flag-int8-entropy-calibrated',
      '7.773',
      '4.321',
      '1×16 / 2×32 / 2×128',
      '10.13.3.9',
      'stand-in GPU (9.0)',
      'miss',
    ]);
    expect(readResultsFile(path.join(t.dir, 'out1', 'results.json')).engines).toHaveLength(2);
    // report.html says the same, in its own section.
    const html = readFileSync(path.join(t.dir, 'out1', 'report.html'), 'utf8');
    expect(html).toContain('Artifacts (export and engines)</h2>');
    expect(html).toContain(
      '<td>tensorrt-int8</td><td>tensorrt10-builder-flag-int8-entropy-calibrated</td><td>7.773</td><td>4.321</td>',
    );

    // Second run: both hit; the worker is asked for the probe only, never to build.
    writeFileSync(t.logFile, '');
    const second = await t.run('out2');
    expect(second.results.engines!.map((e) => [e.cache, e.key, e.buildMs])).toEqual(
      engines.map((e) => ['hit', e.key, e.buildMs]),
    );
    expect(t.seen().filter((s) => s.type === 'build')).toEqual([]);
    expect(readFileSync(path.join(t.dir, 'out2', 'report.md'), 'utf8')).toContain(
      'Every artifact hit the cache: nothing was built (2 from the local artifact cache; saved 8.642 s).',
    );

    // A truncated engine is found on the hash check, evicted, rebuilt and said so; never opened.
    const damaged = engines[0]!.enginePath;
    writeFileSync(damaged, readFileSync(damaged).subarray(0, 1000));
    writeFileSync(t.logFile, '');
    const third = await t.run('out3');
    expect(third.results.engines!.map((e) => e.cache)).toEqual(['built', 'hit']);
    expect(third.results.engines![0]!.corrupt).toMatch(/model\.engine/);
    expect(third.warnings.join('\n')).toMatch(/cached TensorRT engine of tensorrt-fp16 was unusable and was rebuilt/);
    expect(t.seen().filter((s) => s.type === 'build')).toHaveLength(1);
    expect(sha256(damaged)).toBe(sha256(FIXTURE_MODEL));

    // Another scenario shape changes the profile, so the key: a new engine; the old ones stay for their matrix.
    const wider = writeConfig(
      t.dir,
      `backends: [tensorrt-fp16]\n${MATRIX.replace('batch: 2, seq_len: 32', 'batch: 4, seq_len: 32')}`,
    );
    // The engine's TensorRT, path and profile are part of each cell's fingerprint: a baseline measured with another
    // engine setup is not compared as if it were the same setup.
    expect(first.results.cells.find((c) => c.backend === 'tensorrt-fp16')?.fingerprint).toMatchObject({
      tensorrtVersion: '10.13.3.9',
      precisionPath: 'tensorrt10-builder-flag-fp16',
      profile: '1x16/2x32/2x128',
      builder: `workspaceBytes=${8 * 2 ** 30}`,
    });
    expect(first.results.cells.find((c) => c.backend === 'onnxruntime-cpu')?.fingerprint.precisionPath).toBeUndefined();
    const fourth = await t.run('out4', {}, wider);
    expect(fourth.results.engines![0]).toMatchObject({ cache: 'built', profile: { opt: [4, 32], max: [4, 128] } });
    expect(fourth.results.engines![0]!.key).not.toBe(engines[0]!.key);
  });

  it.each([
    [
      'the probe says TensorRT is missing: unavailable, with its reason',
      { STANDIN_PROBE_ERROR: 'unavailable' },
      'unavailable',
      /^TensorRT engines cannot be built here: stand-in probe: unavailable$/,
    ],
    [
      'the build fails: degraded with the reason, never a figure',
      { STANDIN_BUILD_ERROR: 'failed' },
      'degraded',
      /^building the TensorRT engine failed: stand-in build: failed$/,
    ],
    [
      'the worker built with another TensorRT than the key was made for: degraded, nothing stored',
      { STANDIN_BUILT_VERSION: '10.14.0.1' },
      'degraded',
      /built with 10\.14\.0\.1 \/ 9\.0 \/ tensorrt10-builder-flag-fp16, but the engine key was made for 10\.13\.3\.9 \//,
    ],
    [
      'a TensorRT older than 10: unavailable',
      { STANDIN_TRT_VERSION: '8.6.1' },
      'unavailable',
      /^TensorRT 8\.6\.1 is older than 10/,
    ],
  ])('%s', async (_name, env, expected, reason) => {
    const t = setup('[onnxruntime-cpu, tensorrt-fp16]');
    const r = await t.run('out', env);
    expect(status(r, 'tensorrt-fp16')?.status).toBe(expected);
    expect(status(r, 'tensorrt-fp16')?.reason).toMatch(reason);
    expect(status(r, 'onnxruntime-cpu')?.status).toBe('ok');
    expect(r.results.engines).toBeUndefined();
    expect(r.results.cells.filter((c) => c.backend === 'tensorrt-fp16' && c.stats !== null)).toEqual([]);
    expect(r.results.verdict.decision).not.toBe('pass');
    expect(
      existsSync(path.join(t.cacheDir, 'tensorrt-engine'))
        ? readdirSync(path.join(t.cacheDir, 'tensorrt-engine')).filter((n) => /^[0-9a-f]{64}$/.test(n))
        : [],
    ).toEqual([]);
  });

  it('TensorRT 11 takes the strongly typed path (the key and the build request say so)', async () => {
    const t = setup('[tensorrt-fp16]');
    const r = await t.run('out', { STANDIN_TRT_VERSION: '11.4.0.106' });
    expect(r.results.engines![0]!.precisionPath).toBe('tensorrt11-strongly-typed-fp16');
    expect(t.seen().find((s) => s.type === 'build')?.precisionPath).toBe('tensorrt11-strongly-typed-fp16');
  });

  describe("same-run A/B (compare.base_model): an engine of the base model too, opened beside the candidate's", () => {
    // The base differs from the candidate in its weights, so its perplexity shows which engine a figure came from.
    const withBase = (t: ReturnType<typeof setup>): string => {
      const base = perturbedFixture(path.join(t.dir, 'base.onnx'), 0.03);
      writeFileSync(t.config, readFileSync(t.config, 'utf8') + `compare:\n  base_model: ${base}\n`);
      return base;
    };

    it('builds both engines, measures the pair from the stored files, compares them, and hits both next time', async () => {
      const t = setup('[onnxruntime-cpu, tensorrt-fp16]');
      const base = withBase(t);
      const r = await t.run('out');
      expect(status(r, 'tensorrt-fp16')?.status).toBe('ok');
      const builds = t.seen().filter((s) => s.type === 'build');
      expect(builds.map((b) => b.onnxPath).sort()).toEqual([FIXTURE_MODEL, base].sort());
      expect(builds[0]!.profiles).toEqual(builds[1]!.profiles); // the same profile and path: a fair pair
      expect(builds[0]!.precisionPath).toBe(builds[1]!.precisionPath);
      const engines = r.results.engines!;
      expect(engines.map((e) => [e.side, e.onnxPath, e.cache])).toEqual([
        ['candidate', FIXTURE_MODEL, 'built'],
        ['base', base, 'built'],
      ]);
      // The worker opened the stored candidate engine with the stored base engine beside it.
      const open = t.seen().find((s) => s.type === 'open' && s.modelPath === engines[0]!.enginePath);
      expect(open?.baseModelPath).toBe(engines[1]!.enginePath);
      expect(sha256(engines[1]!.enginePath)).toBe(sha256(base));
      // Each side's figures come from its own engine: the base side's perplexity is the base model's.
      const baseRows = r.results.sameRunBase!.accuracy!.rows;
      const basePpl = (name: string) => baseRows.find((x) => x.backend === name)!.perplexity!;
      expect(Math.abs(basePpl('tensorrt-fp16') - basePpl('onnxruntime-cpu'))).toBeLessThan(1e-9);
      expect(Math.abs(ppl(r, 'tensorrt-fp16') - ppl(r, 'onnxruntime-cpu'))).toBeLessThan(1e-9);
      expect(Math.abs(basePpl('tensorrt-fp16') - ppl(r, 'tensorrt-fp16'))).toBeGreaterThan(1e-3);
      // Paired cells, judged like every other backend's: a comparison per scenario, with a ratio.
      expect(r.results.comparison?.mode).toBe('same-run');
      const cells = r.results.comparison!.cells.filter((c) => c.backend === 'tensorrt-fp16');
      expect(cells.map((c) => c.scenario)).toEqual(['small', 'wide']);
      for (const cell of cells) expect(cell.ratio).toBeGreaterThan(0);
      // Each side's cells carry their own engine in the fingerprint.
      expect(r.results.cells.find((c) => c.backend === 'tensorrt-fp16')?.fingerprint).toMatchObject({
        tensorrtVersion: '10.13.3.9',
        precisionPath: 'tensorrt10-builder-flag-fp16',
      });
      const report = readFileSync(r.files.report, 'utf8');
      expect(report).toContain('the TensorRT engine of tensorrt-fp16 for the base model');
      expect(report).toMatch(/\| tensorrt-fp16 \(base model\) \| tensorrt10-builder-flag-fp16 \|/);

      writeFileSync(t.logFile, '');
      const again = await t.run('out2');
      expect(t.seen().filter((s) => s.type === 'build')).toEqual([]);
      expect(again.results.engines!.map((e) => [e.side, e.cache])).toEqual([
        ['candidate', 'hit'],
        ['base', 'hit'],
      ]);
      expect(readFileSync(again.files.report, 'utf8')).toContain('Every artifact hit the cache: nothing was built (2 ');
    });

    it("a base model whose engine cannot be built: the backend is degraded, saying it was the base's", async () => {
      const t = setup('[onnxruntime-cpu, tensorrt-fp16]');
      const base = withBase(t);
      const r = await t.run('out', { STANDIN_BUILD_FAILS_FOR: base });
      expect(status(r, 'tensorrt-fp16')?.status).toBe('degraded');
      expect(status(r, 'tensorrt-fp16')?.reason).toBe(
        `the base model's engine (${base}): building the TensorRT engine failed: stand-in build: failed for ${base}`,
      );
      expect(r.results.cells.filter((c) => c.backend === 'tensorrt-fp16' && c.stats !== null)).toEqual([]);
      expect(r.results.verdict.decision).not.toBe('pass');
      expect(status(r, 'onnxruntime-cpu')?.status).toBe('ok');
    });
  });
});

describe('TensorRT engines in the Actions cache (cache: actions, against the stand-in cache service)', () => {
  const actionsCache = useFakeActionsCache().cache;

  it('an engine built on one runner is restored on a runner with an empty local store, and not built again', async () => {
    const t = setup('[tensorrt-fp16]');
    // One cache folder path on both runners (the default on hosted runners: it is part of an entry's version).
    const runnerCache = path.join(t.dir, 'runner-cache');
    const built = await t.run('out1', {}, t.config, { dir: runnerCache, actions: true });
    const engine = built.results.engines![0]!;
    expect(engine.cache).toBe('built');
    expect(actionsCache.calls).toContain(`FinalizeCacheEntryUpload tr118-artifact/tensorrt-engine/${engine.key}`);

    writeFileSync(t.logFile, '');
    rmSync(runnerCache, { recursive: true }); // the next runner's disk is new
    const restored = await t.run('out2', {}, t.config, { dir: runnerCache, actions: true });
    expect(restored.results.engines![0]).toMatchObject({ cache: 'restored', key: engine.key, buildMs: 4321 });
    expect(t.seen().filter((s) => s.type === 'build')).toEqual([]);
    expect(sha256(restored.results.engines![0]!.enginePath)).toBe(sha256(FIXTURE_MODEL));
    expect(readFileSync(path.join(t.dir, 'out2', 'report.md'), 'utf8')).toContain(
      'Every artifact hit the cache: nothing was built (1 from the Actions cache; saved 4.321 s).',
    );
    expect(actionsCache.calls.filter((c) => c.startsWith('INVALID'))).toEqual([]);
  });
});
