import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  truncateSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  ArtifactStore,
  artifactCacheMaxBytes,
  defaultArtifactCacheDir,
  KEY_FILE,
  type ArtifactStoreOptions,
  type Producer,
} from '../../src/cache/store.js';
import { UsageError } from '../../src/errors.js';
import type { ProcessProbe } from '../../src/lock.js';
import { tempDir } from '../helpers/fixture.js';

const KIND = 'onnx-export';
const keyOf = (name: string) => createHash('sha256').update(name).digest('hex');
const KEY = keyOf('a');

/** A producer that counts its calls and writes `model.onnx` of `bytes` bytes (content from `label`). */
function producer(label = 'x', bytes = 1000): Producer & { calls: number } {
  const produce = (tmp: string) => {
    produce.calls++;
    writeFileSync(path.join(tmp, 'model.onnx'), Buffer.alloc(bytes, label));
    return Promise.resolve({ files: ['model.onnx'], buildMs: 4200 });
  };
  produce.calls = 0;
  return produce;
}

function store(options: Partial<ArtifactStoreOptions> = {}): ArtifactStore {
  return new ArtifactStore({ root: tempDir(), maxBytes: 1 << 30, ...options });
}

/** A pid that existed and has exited. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '0']);
  await new Promise((resolve) => child.on('exit', resolve));
  return child.pid!;
}

describe('the local artifact store', () => {
  it('put, then get: a hit with the files, the key inputs and the recorded build time', async () => {
    const s = store();
    const produce = producer();
    const put = await s.put(KIND, KEY, { opset: 17 }, produce);
    expect(put.dir).toBe(path.join(s.root, KIND, KEY));
    const got = await s.get(KIND, KEY);
    expect(got.status).toBe('hit');
    if (got.status !== 'hit') return;
    expect(readFileSync(got.entry.files['model.onnx']!)).toEqual(Buffer.alloc(1000, 'x'));
    expect(got.entry.keyFile).toMatchObject({ kind: KIND, key: KEY, inputs: { opset: 17 }, buildMs: 4200 });
    expect(got.entry.keyFile.files).toEqual([
      { name: 'model.onnx', bytes: 1000, sha256: createHash('sha256').update(Buffer.alloc(1000, 'x')).digest('hex') },
    ]);
    expect(produce.calls).toBe(1);
    expect(existsSync(path.join(s.root, '.tmp'))).toBe(true);
    expect(await s.get(KIND, keyOf('other'))).toEqual({ status: 'miss' });
  });

  it('getOrBuild builds once: the second call hits and never calls the producer', async () => {
    const s = store();
    const produce = producer();
    expect((await s.getOrBuild(KIND, { key: KEY, inputs: {} }, produce)).status).toBe('built');
    const second = await s.getOrBuild(KIND, { key: KEY, inputs: {} }, produce);
    expect(second.status).toBe('hit');
    expect(second.entry.keyFile.buildMs).toBe(4200);
    expect(produce.calls).toBe(1);
  });

  it('a hit is touched (last-used), independent of atime', async () => {
    let now = 1_000_000;
    const s = store({ now: () => now });
    await s.put(KIND, KEY, {}, producer());
    now = 2_000_000;
    await s.get(KIND, KEY);
    expect(s.list()[0]!.lastUsedMs).toBe(2_000_000);
  });

  const file = (s: ArtifactStore) => path.join(s.root, KIND, KEY, 'model.onnx');
  const keyFile = (s: ArtifactStore) => path.join(s.root, KIND, KEY, KEY_FILE);
  const DAMAGE: readonly [string, (s: ArtifactStore) => void, RegExp][] = [
    [
      'a changed byte',
      (s) => writeFileSync(file(s), Buffer.alloc(1000, 'y')),
      /model\.onnx has sha256 [0-9a-f]{12}…, but key\.json records [0-9a-f]{12}…$/,
    ],
    [
      'a truncated file',
      (s) => truncateSync(file(s), 10),
      /model\.onnx is 10 bytes, but key\.json records 1000 \(truncated/,
    ],
    ['a missing file', (s) => removeFile(file(s)), /model\.onnx is missing$/],
    ['a key.json that is not JSON', (s) => writeFileSync(keyFile(s), '{"schema": 1,'), /key\.json is not valid JSON/],
    [
      'a key.json of the wrong shape',
      (s) => writeFileSync(keyFile(s), JSON.stringify({ ...readJson(keyFile(s)), buildMs: 'fast' })),
      /key\.json: buildMs: .*expected number/i,
    ],
    [
      'a key.json of another key',
      (s) => writeFileSync(keyFile(s), JSON.stringify({ ...readJson(keyFile(s)), key: keyOf('b') })),
      /key\.json describes onnx-export\/[0-9a-f]{64}, not this entry/,
    ],
    ['no key.json', (s) => removeFile(keyFile(s)), /key\.json cannot be read \(ENOENT\)/],
  ];
  it.each(DAMAGE)('%s: detected at get, evicted, reported, and rebuilt by getOrBuild', async (_, damage, reason) => {
    const s = store();
    const produce = producer();
    await s.put(KIND, KEY, {}, produce);
    damage(s);
    const got = await s.get(KIND, KEY);
    expect(got.status).toBe('corrupt');
    if (got.status === 'corrupt') expect(got.reason).toMatch(reason);
    expect(existsSync(path.join(s.root, KIND, KEY))).toBe(false);

    await s.put(KIND, KEY, {}, produce);
    damage(s);
    const rebuilt = await s.getOrBuild(KIND, { key: KEY, inputs: {} }, produce);
    expect(rebuilt.status).toBe('built');
    expect(rebuilt.corrupt).toMatch(reason);
    expect(produce.calls).toBe(3);
    expect((await s.get(KIND, KEY)).status).toBe('hit');
  });

  it('a producer that fails leaves no entry and no temporary folder behind', async () => {
    const s = store();
    await expect(
      s.put(KIND, KEY, {}, (tmp) => {
        writeFileSync(path.join(tmp, 'half.onnx'), 'half');
        return Promise.reject(new Error('export failed'));
      }),
    ).rejects.toThrow('export failed');
    await expect(s.put(KIND, KEY, {}, () => Promise.resolve({ files: ['absent.onnx'], buildMs: 1 }))).rejects.toThrow(
      /reported absent\.onnx, but .* does not exist/,
    );
    expect(await s.get(KIND, KEY)).toEqual({ status: 'miss' });
    expect(readdirNames(path.join(s.root, '.tmp'))).toEqual([]);
  });

  it("a stale lock (its process is gone) is taken over; a live holder's lock is waited for, then a clear error", async () => {
    const s = store({ lockTimeoutMs: 300, lockPollMs: 20 });
    const lock = path.join(s.root, '.locks', `${KIND}-${KEY}.lock`);
    mkdirSync(path.dirname(lock), { recursive: true });
    writeFileSync(lock, `${await deadPid()}\n${os.hostname()}\n2026-01-01T00:00:00.000Z\n`);
    const produce = producer();
    expect((await s.getOrBuild(KIND, { key: KEY, inputs: {} }, produce)).status).toBe('built');
    expect(existsSync(lock)).toBe(false);

    // This test's own process: alive, so its lock is respected.
    const other = keyOf('other');
    const held = path.join(s.root, '.locks', `${KIND}-${other}.lock`);
    writeFileSync(held, `${process.pid}\n${os.hostname()}\n2026-01-01T00:00:00.000Z\n`);
    const waited = s.getOrBuild(KIND, { key: other, inputs: {} }, produce);
    await expect(waited).rejects.toThrow(UsageError);
    await expect(waited).rejects.toThrow(
      `artifact cache: waited 0 s for ${KIND}/${other}, held by pid ${process.pid} since 2026-01-01T00:00:00.000Z; if no tr118 run is building it: tr118 cache unlock ${other}`,
    );
    expect(produce.calls).toBe(1);
  });

  describe('a lock whose holder cannot be confirmed alive is never waited on for an hour (issue 21)', () => {
    const HERE: ProcessProbe = {
      host: 'runner-a',
      bootId: 'boot-1',
      startTicks: (pid) => (pid === 4242 ? '777' : undefined),
    };
    const leftover = (s: ArtifactStore, key: string, text: string, ageMs = 0) => {
      const file = path.join(s.root, '.locks', `${KIND}-${key}.lock`);
      mkdirSync(path.dirname(file), { recursive: true });
      writeFileSync(file, text);
      const at = (Date.now() - ageMs) / 1000; // file times are system time
      utimesSync(file, at, at);
      return file;
    };
    const CASES = [
      {
        name: 'another boot of this host (the machine restarted)',
        text: '4242\nrunner-a\nsince=x\nboot=boot-0\nstart=777\n',
        ageMs: 0,
      },
      {
        name: 'a live pid that is another process (pid reuse: other start time)',
        text: '4242\nrunner-a\nboot=boot-1\nstart=123\n',
        ageMs: 0,
      },
      { name: 'a dead pid on this host', text: '999\nrunner-a\nboot=boot-1\nstart=5\n', ageMs: 0 },
      {
        name: 'another host (a crashed container) whose heartbeat stopped 2 minutes ago',
        text: '4242\ncontainer-9\n',
        ageMs: 120_000,
      },
    ];
    it.each(CASES)('$name: taken over at once', async ({ text, ageMs }) => {
      const s = store({ lockTimeoutMs: 60_000, lockPollMs: 20, probe: HERE });
      const file = leftover(s, KEY, text, ageMs);
      const produce = producer();
      expect((await s.getOrBuild(KIND, { key: KEY, inputs: {} }, produce)).status).toBe('built');
      expect(produce.calls).toBe(1);
      expect(existsSync(file)).toBe(false);
    });

    it.each([
      {
        name: 'this host, the same boot, the same process (alive)',
        text: '4242\nrunner-a\nboot=boot-1\nstart=777\n',
        ageMs: 0,
      },
      {
        name: 'another host whose heartbeat is fresh (a build going on there)',
        text: '4242\ncontainer-9\n',
        ageMs: 1_000,
      },
    ])(
      '$name: waited for, saying whom it waits for and how to clear it, then a clear error',
      async ({ text, ageMs }) => {
        const lines: string[] = [];
        const s = store({
          lockTimeoutMs: 400,
          lockPollMs: 20,
          waitNoticeMs: 50,
          probe: HERE,
          log: (l) => lines.push(l),
        });
        leftover(s, KEY, text, ageMs);
        const produce = producer();
        await expect(s.getOrBuild(KIND, { key: KEY, inputs: {} }, produce)).rejects.toThrow(
          `tr118 cache unlock ${KEY}`,
        );
        expect(produce.calls).toBe(0);
        expect(lines.length).toBeGreaterThan(1);
        expect(lines[0]).toMatch(
          new RegExp(
            `^waiting \\d+ s for ${KIND}/${KEY.slice(0, 12)}…, held by pid 4242.*; a holder that stops touching the lock for 60 s is taken over; to clear it now: tr118 cache unlock ${KEY}$`,
          ),
        );
      },
    );

    it('tr118 cache unlock removes a lock nobody holds, refuses a live holder unless forced, and names an unknown key', () => {
      const s = store({ probe: HERE });
      const file = leftover(s, KEY, '4242\ncontainer-9\n');
      expect(s.unlock(KEY.slice(0, 12))).toEqual([`removed ${file} (held by pid 4242 on container-9)`]);
      expect(existsSync(file)).toBe(false);
      const live = leftover(s, KEY, '4242\nrunner-a\nboot=boot-1\nstart=777\n');
      expect(() => s.unlock(KEY)).toThrow(
        /is held by pid 4242, which is running on this machine; stop it, or give --force$/,
      );
      expect(existsSync(live)).toBe(true);
      expect(s.unlock(KEY, true)).toHaveLength(1);
      expect(() => s.unlock(keyOf('nothing'))).toThrow(/^cache unlock: no lock of key [0-9a-f]{64} in /);
      expect(() => s.unlock('xyz')).toThrow('cache unlock: expected an artifact key (8 to 64 hex digits');
    });
  });

  it('the size cap evicts least recently used entries first, never a locked one or the one just written', async () => {
    let now = 1_000;
    const warnings: string[] = [];
    const root = tempDir();
    const big = new ArtifactStore({ root, maxBytes: 1 << 30, now: () => now });
    for (const name of ['a', 'b', 'c']) {
      now += 1000;
      await big.put(KIND, keyOf(name), {}, producer(name));
    }
    now += 1000;
    await big.get(KIND, keyOf('a')); // a is now the most recently used
    const entryBytes = big.list()[0]!.sizeBytes;
    // Room for two entries: the new one (d) and one more.
    const capped = new ArtifactStore({
      root,
      maxBytes: 2 * entryBytes + 10,
      now: () => now,
      warn: (m) => warnings.push(m),
    });
    now += 1000;
    await capped.put(KIND, keyOf('d'), {}, producer('d'));
    expect(capped.list().map((e) => e.key)).toEqual([keyOf('a'), keyOf('d')]);
    expect(warnings).toEqual([expect.stringMatching(/evicted 2 least recently used entries/)]);

    // b is locked by a live process (this one): a and c go instead, although b is older.
    for (const name of ['b', 'c']) {
      now += 1000;
      await big.put(KIND, keyOf(name), {}, producer(name));
    }
    writeFileSync(path.join(root, '.locks', `${KIND}-${keyOf('b')}.lock`), `${process.pid}\n${os.hostname()}\n`);
    const tiny = new ArtifactStore({ root, maxBytes: 0, now: () => now });
    now += 1000;
    await tiny.put(KIND, keyOf('e'), {}, producer('e'));
    expect(
      tiny
        .list()
        .map((e) => e.key)
        .sort(),
    ).toEqual([keyOf('b'), keyOf('e')].sort());
  });

  it("the cap never evicts an entry this store handed out (the run's export hit, then its engine build)", async () => {
    let now = 1_000;
    const s = store({ maxBytes: 0, now: () => now++ });
    await s.put(KIND, keyOf('old'), {}, producer('o'));
    const other = store({ root: s.root, maxBytes: 1 << 30, now: () => now++ });
    await other.put(KIND, keyOf('export'), {}, producer('e'));
    expect((await s.get(KIND, keyOf('export'))).status).toBe('hit');
    await s.getOrBuild('tensorrt-engine', { key: keyOf('engine'), inputs: {} }, producer('g'));
    // Over a cap of 0, all three were handed out by s: none is evicted by s.
    expect(s.list().map((e) => e.key)).toEqual([keyOf('old'), keyOf('export'), keyOf('engine')]);
    // Another process's cap does evict them, least recently used first, but never its own new entry.
    const tight = store({ root: s.root, maxBytes: 0, now: () => now++ });
    await tight.put(KIND, keyOf('new'), {}, producer('n'));
    expect(tight.list().map((e) => e.key)).toEqual([keyOf('new')]);
  });

  it('an unwritable cache folder is a usage error naming it', () => {
    const dir = tempDir();
    writeFileSync(path.join(dir, 'file'), '');
    const root = path.join(dir, 'file', 'cache');
    expect(() => new ArtifactStore({ root })).toThrow(UsageError);
    expect(() => new ArtifactStore({ root })).toThrow(
      `artifact cache folder ${root}: ${path.join(dir, 'file')} is a file, not a folder`,
    );
  });
});

describe('artifact cache settings', () => {
  it.each([
    [{ TR118_CACHE_DIR: '/c', XDG_CACHE_HOME: '/x', HOME: '/h' }, '/c'],
    [{ XDG_CACHE_HOME: '/x', HOME: '/h' }, '/x/tr118/artifacts'],
    [{ HOME: '/h' }, '/h/.cache/tr118/artifacts'],
  ])('the folder from %o is %s', (env, dir) => {
    expect(defaultArtifactCacheDir(env, () => '/passwd')).toBe(dir);
  });

  it('no HOME and no passwd home: a usage error says what to set', () => {
    expect(() => defaultArtifactCacheDir({}, () => '')).toThrow(/set HOME or TR118_CACHE_DIR/);
  });

  it.each([
    [undefined, 20 * 1024 * 1024 * 1024],
    ['512', 512 * 1024 * 1024],
    ['0.5', 512 * 1024],
    ['0', 0],
  ])('TR118_CACHE_MAX_MIB=%s caps at %d bytes', (value, bytes) => {
    expect(artifactCacheMaxBytes(value === undefined ? {} : { TR118_CACHE_MAX_MIB: value })).toBe(bytes);
  });

  it.each(['20G', '', '-1', 'NaN', 'Infinity'])('TR118_CACHE_MAX_MIB=%j is refused, naming the variable', (value) => {
    expect(() => artifactCacheMaxBytes({ TR118_CACHE_MAX_MIB: value })).toThrow(
      `TR118_CACHE_MAX_MIB: expected a size in MiB (a number ≥ 0); got ${JSON.stringify(value)}`,
    );
  });
});

function readJson(file: string): Record<string, unknown> {
  return JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
}
function removeFile(file: string): void {
  rmSync(file);
}
function readdirNames(dir: string): string[] {
  return existsSync(dir) ? readdirSync(dir) : [];
}
