import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { actionsArtifactCacheKey, actionsArtifactStore } from '../../src/action/actions-cache-store.js';
import { ArtifactStore, PYTHON_BYTECODE_DIR, type Producer } from '../../src/cache/store.js';
import { main } from '../../src/cli/main.js';
import { ExitCode } from '../../src/errors.js';
import { useFakeActionsCache } from '../helpers/actions-cache-hooks.js';
import { ROOT, tempDir } from '../helpers/fixture.js';
import { runProcess } from '../helpers/run.js';

const KIND = 'onnx-export';
const keyOf = (name: string) => createHash('sha256').update(name).digest('hex');

function producer(label: string): Producer & { calls: number } {
  const produce = (tmp: string) => {
    produce.calls++;
    writeFileSync(path.join(tmp, 'model.onnx'), Buffer.alloc(2000, label));
    return Promise.resolve({ files: ['model.onnx'], buildMs: 3000 });
  };
  produce.calls = 0;
  return produce;
}

describe('two processes needing one key', () => {
  it('build it once; both succeed with the whole artifact', async () => {
    const root = tempDir();
    const counter = path.join(tempDir(), 'builds');
    writeFileSync(counter, '');
    const key = keyOf('concurrent');
    const one = () =>
      runProcess(
        process.execPath,
        ['--import', 'tsx', path.join(ROOT, 'test/helpers/artifact-build.ts'), root, key, counter],
        { cwd: ROOT, env: process.env },
      );
    const ran = await Promise.all([one(), one()]);
    for (const r of ran) expect(r.stderr).toBe('');
    expect(ran.map((r) => r.status)).toEqual([0, 0]);
    const outcomes = ran.map((r) => JSON.parse(r.stdout) as { status: string; bytes: number });
    expect(outcomes.map((o) => o.status).sort()).toEqual(['built', 'hit']);
    expect(outcomes.map((o) => o.bytes)).toEqual([100_000, 100_000]);
    expect(readFileSync(counter, 'utf8').trim().split('\n')).toHaveLength(1);
  });
});

describe('tr118 cache ls|verify|prune', () => {
  afterEach(() => vi.unstubAllEnvs());

  async function cli(argv: string[]) {
    let out = '';
    let err = '';
    const stdout = new PassThrough();
    stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    const stderr = new PassThrough();
    stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    const code = await main(argv, {
      stdout: stdout as unknown as NodeJS.WriteStream,
      stderr: stderr as unknown as NodeJS.WriteStream,
      cwd: ROOT,
      // The day the entries below are aged against: pinned, as the stamps are (they once used the real date).
      clock: () => Date.parse('2026-11-25T10:00:00Z'),
    });
    return { code, out, err };
  }

  it('lists entries, evicts and lists corrupt ones (exit 1), and prunes by age and size', async () => {
    const root = tempDir();
    let now = Date.parse('2026-11-01T10:00:00Z');
    const store = new ArtifactStore({ root, maxBytes: 1 << 30, now: () => now });
    await store.put(KIND, keyOf('a'), {}, producer('a'));
    now = Date.parse('2026-11-20T10:00:00Z');
    await store.put('tensorrt-engine', keyOf('b'), {}, producer('b'));
    await store.put(KIND, keyOf('c'), {}, producer('c'));

    const ls = await cli(['cache', 'ls', '--cache-dir', root]);
    expect(ls.code).toBe(ExitCode.pass);
    const lines = ls.out.trim().split('\n');
    expect(lines[0]).toMatch(/^key +kind +size MiB +last used \(UTC\) +build s$/);
    expect(lines[1]).toMatch(new RegExp(`^${keyOf('a').slice(0, 12)} +onnx-export +0\\.0 +2026-11-01 10:00 +3\\.0$`));
    expect(lines).toHaveLength(5);
    expect(lines[4]).toBe(`3 entries, 0.0 MiB in ${root}`);
    const onlyEngines = await cli(['cache', 'ls', '--kind', 'tensorrt-engine', '--cache-dir', root]);
    expect(onlyEngines.out).toContain(keyOf('b').slice(0, 12));
    expect(onlyEngines.out).not.toContain(keyOf('a').slice(0, 12));

    expect((await cli(['cache', 'verify', '--cache-dir', root])).code).toBe(ExitCode.pass);
    writeFileSync(path.join(root, KIND, keyOf('c'), 'model.onnx'), 'short');
    const verify = await cli(['cache', 'verify', '--cache-dir', root]);
    expect(verify.code).toBe(ExitCode.gateFailed);
    expect(verify.out).toContain(
      `corrupt  ${KIND}/${keyOf('c').slice(0, 12)}: ${path.join(root, KIND, keyOf('c'), 'model.onnx')} is 5 bytes, but key.json records 2000 (truncated or overwritten)\n`,
    );
    expect(verify.out).toContain('3 entries checked');
    expect(verify.out).toContain('1 corrupt (evicted: the next run rebuilds them)');
    expect(store.list().map((e) => e.key)).toEqual([keyOf('a'), keyOf('b')]);

    const old = await cli(['cache', 'prune', '--older-than-days', '10', '--cache-dir', root]);
    expect(old.code).toBe(ExitCode.pass);
    expect(old.out).toContain(keyOf('a').slice(0, 12));
    expect(old.out).toMatch(/removed 1 entries/);
    expect(store.list().map((e) => e.key)).toEqual([keyOf('b')]);
    expect(old.out).not.toContain('byte code');
    // The workers' byte code folder: a deleted environment's byte code goes, a live source's stays.
    const live = tempDir();
    writeFileSync(path.join(live, 'm.py'), 'x = 1\n');
    const bytecode = (dir: string, name: string) =>
      path.join(root, PYTHON_BYTECODE_DIR, dir, `${name}.cpython-311.pyc`);
    for (const file of [bytecode(live, 'm'), bytecode(path.join(live, 'deleted-venv'), 'torch')]) {
      mkdirSync(path.dirname(file), { recursive: true });
      writeFileSync(file, Buffer.alloc(2 ** 19));
    }
    const all = await cli(['cache', 'prune', '--max-mib', '0', '--cache-dir', root]);
    expect(all.out).toMatch(/removed 1 entries/);
    expect(all.out).toContain(
      `removed 1 byte code files of Python sources that are gone (0.5 MiB) from ${path.join(root, PYTHON_BYTECODE_DIR)}\n`,
    );
    expect(existsSync(bytecode(live, 'm'))).toBe(true);
    expect(existsSync(bytecode(path.join(live, 'deleted-venv'), 'torch'))).toBe(false);
    expect(store.list()).toEqual([]);
    expect((await cli(['cache', 'ls', '--cache-dir', root])).out).toBe(`no entries in ${root}\n`);
  });

  it('the built CLI ages entries by TR118_NOW, as a child process a test starts sees it', async () => {
    const root = tempDir();
    let now = Date.parse('2026-11-01T10:00:00Z');
    const store = new ArtifactStore({ root, maxBytes: 1 << 30, now: () => now });
    await store.put(KIND, keyOf('old'), {}, producer('a'));
    now = Date.parse('2026-11-20T10:00:00Z');
    await store.put(KIND, keyOf('new'), {}, producer('b'));
    const prune = (env: NodeJS.ProcessEnv) =>
      runProcess(
        process.execPath,
        [path.join(ROOT, 'dist/cli.js'), 'cache', 'prune', '--older-than-days', '10', '--cache-dir', root],
        { cwd: ROOT, env: { ...process.env, ...env } },
      );
    const bad = await prune({ TR118_NOW: '25 Nov 2026' });
    expect(bad.status).toBe(ExitCode.usage);
    expect(bad.stderr).toContain('TR118_NOW: expected an ISO 8601 instant with a zone');
    expect(store.list()).toHaveLength(2);
    const pruned = await prune({ TR118_NOW: '2026-11-25T10:00:00Z' });
    expect(pruned.stderr).toBe('');
    expect(pruned.stdout).toMatch(/removed 1 entries/);
    expect(store.list().map((e) => e.key)).toEqual([keyOf('new')]);
  });

  it.each([['ls'], ['verify'], ['prune', '--max-mib', '0'], ['unlock', 'abcdef0123']])(
    'cache %s on a folder that does not exist (a misspelled --cache-dir): exit 2 naming it, nothing created (issue 21)',
    async (...sub) => {
      const missing = path.join(tempDir(), 'cahce');
      const r = await cli(['cache', ...sub, '--cache-dir', missing]);
      expect(r).toMatchObject({
        code: ExitCode.usage,
        err: `tr118: --cache-dir ${missing}: no such folder (nothing was cached there yet; check the path)\n`,
      });
      expect(existsSync(missing)).toBe(false);
    },
  );

  it('cache unlock KEY removes a lock left by another host and says whose it was (issue 21)', async () => {
    const root = tempDir();
    const store = new ArtifactStore({ root, maxBytes: 1 << 30 });
    await store.put(KIND, keyOf('x'), {}, producer('x'));
    const lock = path.join(root, '.locks', `${KIND}-${keyOf('held')}.lock`);
    mkdirSync(path.dirname(lock), { recursive: true });
    writeFileSync(lock, '4242\ncrashed-container\nsince=2026-12-01T00:00:00.000Z\n');
    const r = await cli(['cache', 'unlock', keyOf('held').slice(0, 10), '--cache-dir', root]);
    expect(r).toMatchObject({ code: ExitCode.pass, err: '' });
    expect(r.out).toBe(`removed ${lock} (held by pid 4242 on crashed-container since 2026-12-01T00:00:00.000Z)\n`);
    expect(existsSync(lock)).toBe(false);
  });

  it.each([
    [['cache', 'prune', '--max-mib', 'lots'], '--max-mib: expected a size in MiB (a number ≥ 0); got "lots"'],
    [['cache', 'prune', '--older-than-days', '-2'], '--older-than-days: expected a number of days ≥ 0; got "-2"'],
  ])('%j exits 2 naming the flag', async (argv, message) => {
    const r = await cli([...argv, '--cache-dir', tempDir()]);
    expect(r).toMatchObject({ code: ExitCode.usage, err: `tr118: ${message}\n` });
  });

  it('TR118_CACHE_MAX_MIB that is not a number exits 2 naming the variable; TR118_CACHE_DIR is the default folder', async () => {
    const root = tempDir();
    vi.stubEnv('TR118_CACHE_DIR', root);
    vi.stubEnv('TR118_CACHE_MAX_MIB', '20 GiB');
    expect(await cli(['cache', 'ls'])).toMatchObject({
      code: ExitCode.usage,
      err: 'tr118: TR118_CACHE_MAX_MIB: expected a size in MiB (a number ≥ 0); got "20 GiB"\n',
    });
    vi.stubEnv('TR118_CACHE_MAX_MIB', '100');
    expect(await cli(['cache', 'ls'])).toMatchObject({ code: ExitCode.pass, out: `no entries in ${root}\n` });
  });

  it('an unwritable cache folder exits 2 naming it', async () => {
    const dir = tempDir();
    writeFileSync(path.join(dir, 'file'), '');
    const r = await cli(['cache', 'ls', '--cache-dir', path.join(dir, 'file')]);
    expect(r).toMatchObject({
      code: ExitCode.usage,
      err: `tr118: artifact cache folder ${path.join(dir, 'file')}: ${path.join(dir, 'file')} is a file, not a folder\n`,
    });
  });
});

describe('cache: actions (the artifact store against the stand-in cache service)', () => {
  const fake = useFakeActionsCache();
  const actionsCache = fake.cache;

  it('a build is saved; a runner with an empty local store restores it and starts no build', async () => {
    const root = tempDir();
    const key = keyOf('actions');
    const warnings: string[] = [];
    const options = { root, maxBytes: 1 << 30, remote: actionsArtifactStore(), warn: (m: string) => warnings.push(m) };
    const produce = producer('a');
    const first = await new ArtifactStore(options).getOrBuild(KIND, { key, inputs: {} }, produce);
    expect(first.status).toBe('built');
    // The first restore missed (a warning), then the build was saved under the content key.
    expect(warnings).toEqual([
      `${KIND}/${key.slice(0, 12)} is not in the Actions cache (key tr118-artifact/${KIND}/${key})`,
    ]);
    expect(actionsArtifactCacheKey(KIND, key)).toBe(`tr118-artifact/${KIND}/${key}`);
    expect(actionsCache.calls).toContain(`FinalizeCacheEntryUpload tr118-artifact/${KIND}/${key}`);

    rmSync(root, { recursive: true });
    const second = await new ArtifactStore(options).getOrBuild(KIND, { key, inputs: {} }, produce);
    expect(second.status).toBe('restored');
    expect(produce.calls).toBe(1);
    expect(readFileSync(second.entry.files['model.onnx']!)).toEqual(Buffer.alloc(2000, 'a'));
    expect(second.entry.keyFile.buildMs).toBe(3000);
    expect(actionsCache.calls.filter((c) => c.startsWith('INVALID'))).toEqual([]);
  });

  it('a cache service that does not answer is a warning; the local store builds', async () => {
    process.env.ACTIONS_RESULTS_URL = 'http://127.0.0.1:9/';
    try {
      const warnings: string[] = [];
      const s = new ArtifactStore({
        root: tempDir(),
        maxBytes: 1 << 30,
        remote: actionsArtifactStore(),
        warn: (m) => warnings.push(m),
      });
      const produce = producer('b');
      const outcome = await s.getOrBuild(KIND, { key: keyOf('offline'), inputs: {} }, produce);
      expect(outcome.status).toBe('built');
      expect(produce.calls).toBe(1);
      expect(warnings.length).toBeGreaterThanOrEqual(1);
      expect(warnings.join('\n')).toMatch(/not in the Actions cache|not read|not saved/);
    } finally {
      process.env.ACTIONS_RESULTS_URL = fake.url();
    }
  });

  it('without the cache service (not on a runner): a warning, and the local store builds', async () => {
    const warnings: string[] = [];
    vi.stubEnv('ACTIONS_RESULTS_URL', '');
    try {
      const s = new ArtifactStore({
        root: tempDir(),
        maxBytes: 1 << 30,
        remote: actionsArtifactStore(),
        warn: (m) => warnings.push(m),
      });
      expect((await s.getOrBuild(KIND, { key: keyOf('local'), inputs: {} }, producer('c'))).status).toBe('built');
    } finally {
      vi.unstubAllEnvs();
    }
    expect(warnings[0]).toBe('the Actions cache service is not available on this runner (ACTIONS_RESULTS_URL unset)');
  });
});
