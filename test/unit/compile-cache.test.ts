import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { SessionInfo } from '../../src/backends/protocol.js';
import { ArtifactStore, type RemoteArtifactStore } from '../../src/cache/store.js';
import {
  COMPILE_ARTIFACTS_FILE,
  COMPILE_ARTIFACTS_LAYOUT,
  COMPILE_CACHE_KIND,
  compileCacheHooks,
  compileCacheKey,
  type CompileCacheFacts,
  type CompileCacheKeyInputs,
} from '../../src/engines/pytorch/compile-cache.js';
import { pytorch } from '../../src/engines/pytorch/index.js';
import { tempDir } from '../helpers/fixture.js';

const KEY_INPUTS: CompileCacheKeyInputs = {
  checkpointSha256: 'a'.repeat(64),
  baseCheckpointSha256: null,
  torchVersion: '2.11.0+cu130',
  device: 'NVIDIA H100 80GB HBM3',
  compile: 'default',
  dtype: 'fp32',
  attention: '',
};
const SPEC = { device: 'cuda', deviceId: 0, compile: 'default', precision: 'fp32' } as const;
const CHECKPOINTS = { candidateSha256: 'a'.repeat(64), baseSha256: undefined };
const FACTS: CompileCacheFacts = {
  torchVersion: () => Promise.resolve('2.11.0+cu130'),
  deviceName: () => Promise.resolve('NVIDIA H100 80GB HBM3'),
};
const INFO: SessionInfo = {
  protocolVersion: 1,
  runtime: 'torch',
  runtimeVersion: '2.11.0',
  providers: ['cuda:fp32:compile=default'],
  inputNames: ['input_ids'],
  outputNames: ['logits'],
  openMs: 20_000,
  compileMs: 17_000,
};

function storeIn(dir: string, remote?: RemoteArtifactStore): ArtifactStore {
  return new ArtifactStore({ root: path.join(dir, 'store'), ...(remote ? { remote } : {}) });
}

/** What the worker does with a save path at close (compile_cache.py): writes torch's artifact bytes there. */
function workerSaves(save: string | undefined, bytes: string): void {
  mkdirSync(path.dirname(save!), { recursive: true });
  writeFileSync(save!, bytes);
}

/** One session as the runner drives it: open (the worker reports `status`), the worker saves `bytes` at close, close. */
async function sessionSaving(store: ArtifactStore, status: SessionInfo['compileCache'], bytes: string): Promise<void> {
  const hooks = compileCacheHooks(SPEC, CHECKPOINTS, () => store, FACTS);
  const save = (await hooks.openExtras()).compileCache?.save;
  await hooks.afterOpen({ ...INFO, compileCache: status });
  workerSaves(save, bytes);
  await hooks.afterClose();
}

describe('compileCacheKey: torch.compile artifacts are keyed by what they depend on', () => {
  it('is the same for the same inputs, and differs with the checkpoint, torch, the GPU, the mode', () => {
    expect(compileCacheKey(KEY_INPUTS).key).toBe(compileCacheKey({ ...KEY_INPUTS }).key);
    for (const change of [
      { checkpointSha256: 'b'.repeat(64) },
      { baseCheckpointSha256: 'c'.repeat(64) },
      { torchVersion: '2.12.0+cu130' },
      { device: 'NVIDIA H200' },
      { compile: 'max-autotune' },
      { dtype: 'bf16' },
    ]) {
      expect(compileCacheKey({ ...KEY_INPUTS, ...change }).key, JSON.stringify(change)).not.toBe(
        compileCacheKey(KEY_INPUTS).key,
      );
    }
    expect(compileCacheKey(KEY_INPUTS).inputs).toMatchObject({ kind: COMPILE_CACHE_KIND, ...KEY_INPUTS });
  });

  it("names the worker's layout, so that entries written the old way (saved twice; a static probe graph) are never loaded", () => {
    expect(compileCacheKey(KEY_INPUTS).inputs).toMatchObject({ layout: COMPILE_ARTIFACTS_LAYOUT });
    expect(COMPILE_ARTIFACTS_LAYOUT).toBe(3);
  });
});

describe('compileCacheHooks: restored before open, saved at close', () => {
  it('a miss asks the worker to save, stores what it saved at close, and the next open loads it', async () => {
    const dir = tempDir();
    const store = storeIn(dir);
    const first = compileCacheHooks(SPEC, CHECKPOINTS, () => store, FACTS);
    const asked = await first.openExtras();
    expect(asked.compileCache?.load).toBeUndefined();
    const reported = await first.afterOpen({ ...INFO, compileCache: 'miss' });
    expect(reported.compileCacheNote).toBeUndefined();
    const key = compileCacheKey(KEY_INPUTS).key;
    expect((await store.get(COMPILE_CACHE_KIND, key)).status).toBe('miss'); // nothing saved before close
    workerSaves(asked.compileCache?.save, 'compiled graphs');
    await first.afterClose();
    const stored = await store.get(COMPILE_CACHE_KIND, key);
    expect(stored.status === 'hit' && stored.entry.keyFile.buildMs).toBe(INFO.compileMs);

    // A hit whose worker saved the same graphs again leaves the entry as it is.
    const second = compileCacheHooks(SPEC, CHECKPOINTS, () => store, FACTS);
    const again = await second.openExtras();
    expect(readFileSync(again.compileCache!.load!, 'utf8')).toBe('compiled graphs');
    await second.afterOpen({ ...INFO, compileCache: 'hit' });
    workerSaves(again.compileCache?.save, 'compiled graph5');
    await second.afterClose();
    const entry = await store.get(COMPILE_CACHE_KIND, key);
    expect(entry.status === 'hit' && readFileSync(entry.entry.files[COMPILE_ARTIFACTS_FILE]!, 'utf8')).toBe(
      'compiled graphs',
    );
  });

  it('an entry torch could not load is compiled anew and replaced; the note says so, the open never fails', async () => {
    const dir = tempDir();
    const store = storeIn(dir);
    await sessionSaving(store, 'miss', 'bytes torch will refuse');

    const hooks = compileCacheHooks(SPEC, CHECKPOINTS, () => store, FACTS);
    const asked = await hooks.openExtras();
    expect(asked.compileCache?.load).toBeDefined();
    const note = 'artifacts.bin could not be loaded (EOFError: Ran out of input); compiled anew';
    const reported = await hooks.afterOpen({ ...INFO, compileCache: 'corrupt', compileCacheNote: note });
    expect(reported).toMatchObject({ compileCache: 'corrupt', compileCacheNote: note });
    workerSaves(asked.compileCache?.save, 'good bytes'); // fewer bytes than the refused entry: replaced all the same
    await hooks.afterClose();
    const entry = await store.get(COMPILE_CACHE_KIND, compileCacheKey(KEY_INPUTS).key);
    expect(entry.status === 'hit' && readFileSync(entry.entry.files[COMPILE_ARTIFACTS_FILE]!, 'utf8')).toBe(
      'good bytes',
    );
  });

  it('a store entry whose bytes changed on disk is evicted: a miss with a note, never a failure', async () => {
    const dir = tempDir();
    const store = storeIn(dir);
    await sessionSaving(store, 'miss', 'compiled graphs');
    const key = compileCacheKey(KEY_INPUTS).key;
    writeFileSync(path.join(store.entryDir(COMPILE_CACHE_KIND, key), COMPILE_ARTIFACTS_FILE), 'compiled graphz');

    const hooks = compileCacheHooks(SPEC, CHECKPOINTS, () => store, FACTS);
    const asked = await hooks.openExtras();
    expect(asked.compileCache?.load).toBeUndefined();
    const reported = await hooks.afterOpen({ ...INFO, compileCache: 'miss' });
    expect(reported.compileCacheNote).toMatch(/^compile cache entry evicted: .*artifacts\.bin has sha256/);
  });

  it('with the Actions cache: a local miss is restored from it before open, and a new entry is saved to it', async () => {
    const dir = tempDir();
    const saved: string[] = [];
    const restored: string[] = [];
    const remote: RemoteArtifactStore = {
      restore: (_dir, kind, key) => {
        restored.push(`${kind}/${key}`);
        return Promise.resolve({ ok: false, message: 'not in the Actions cache' });
      },
      save: (_dir, kind, key) => {
        saved.push(`${kind}/${key}`);
        return Promise.resolve({ ok: true, message: 'saved' });
      },
    };
    const store = storeIn(dir, remote);
    const hooks = compileCacheHooks(SPEC, CHECKPOINTS, () => store, FACTS);
    const save = (await hooks.openExtras()).compileCache?.save;
    await hooks.afterOpen({ ...INFO, compileCache: 'miss' });
    workerSaves(save, 'compiled graphs');
    await hooks.afterClose();
    const name = `${COMPILE_CACHE_KIND}/${compileCacheKey(KEY_INPUTS).key}`;
    expect(restored).toEqual([name]);
    expect(saved).toEqual([name]);
  });

  it("without torch's version or the GPU's name nothing is cached, and the session says why", async () => {
    const dir = tempDir();
    const store = storeIn(dir);
    const noGpuName = { ...FACTS, deviceName: () => Promise.resolve(undefined) };
    const hooks = compileCacheHooks(SPEC, CHECKPOINTS, () => store, noGpuName);
    expect(await hooks.openExtras()).toEqual({});
    const reported = await hooks.afterOpen(INFO);
    expect(reported.compileCacheNote).toBe('compile cache off: the name of cuda:0 could not be read');
    expect(store.list(COMPILE_CACHE_KIND)).toEqual([]);
  });

  it('a store that cannot be opened (a folder that is not writable) is a note, never a failure', async () => {
    const hooks = compileCacheHooks(
      SPEC,
      CHECKPOINTS,
      () => {
        throw new Error('artifact cache folder /nowhere is not writable');
      },
      FACTS,
    );
    expect(await hooks.openExtras()).toEqual({});
    const reported = await hooks.afterOpen({ ...INFO, compileCache: 'miss' });
    expect(reported.compileCacheNote).toBe('compile cache not read: artifact cache folder /nowhere is not writable');
  });

  it('after a hit, what the worker saved at close (with shapes new since open) replaces a smaller entry only', async () => {
    const dir = tempDir();
    const store = storeIn(dir);
    const key = compileCacheKey(KEY_INPUTS).key;
    const stored = async (): Promise<string> => {
      const entry = await store.get(COMPILE_CACHE_KIND, key);
      return entry.status === 'hit' ? readFileSync(entry.entry.files[COMPILE_ARTIFACTS_FILE]!, 'utf8') : 'none';
    };
    await sessionSaving(store, 'miss', 'the probe shape');
    expect(await stored()).toBe('the probe shape');
    await sessionSaving(store, 'hit', 'the probe shape and the scenario shapes');
    expect(await stored()).toBe('the probe shape and the scenario shapes');
    // A later session that compiled nothing new (its save holds fewer bytes) leaves the entry as it is.
    await sessionSaving(store, 'hit', 'less');
    expect(await stored()).toBe('the probe shape and the scenario shapes');
  });
});

describe("the report's compile cache line: what torch found of a loaded entry", () => {
  const note = (session: SessionInfo): string | undefined => pytorch.sessionNotes?.note(session);
  const lookups = (inductorHits: number, inductorMisses: number) => ({
    inductorHits,
    inductorMisses,
    aotAutogradHits: inductorHits,
    aotAutogradMisses: inductorMisses,
  });

  it('a hit whose graphs were all found says so', () => {
    expect(note({ ...INFO, compileCache: 'hit', compileCacheLookups: lookups(3, 0) })).toBe(
      'compile cache: hit, compile 17.0 s; Inductor graphs 3 of 3 from the cache',
    );
  });

  it('a hit whose graphs all missed (an entry torch loaded but could not use) is not shown as a clean hit', () => {
    expect(note({ ...INFO, compileCache: 'hit', compileCacheLookups: lookups(0, 3) })).toBe(
      'compile cache: hit, compile 17.0 s; Inductor graphs 0 of 3 from the cache',
    );
  });

  it('a worker that counted nothing (an older torch) leaves the line as it was', () => {
    expect(note({ ...INFO, compileCache: 'miss' })).toBe('compile cache: miss, compile 17.0 s');
    expect(note(INFO)).toBeUndefined();
  });
});
