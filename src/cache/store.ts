/**
 * The local artifact store: built artifacts (ONNX exports, TensorRT engines) kept by content key between runs, so
 * the second run of the same model costs nothing but the measurement. It sits between the config and the matrix,
 * like provisioning: the pipeline asks for an artifact by key (keys.ts) before the matrix starts, and the matrix
 * measures the file it gets. The store knows nothing of what an artifact means: a kind is a folder name.
 *
 * Layout: `<root>/<kind>/<key>/` holds the artifact file(s), `key.json` (the key's inputs, each file's sha256 and
 * size, when and how long it took to make, the tool version) and `last-used` (a time in ms, rewritten on each hit:
 * atime is off or coarse on many mounts). An entry appears by renaming a finished folder from `<root>/.tmp/`, so a
 * reader never sees half an entry; each hit re-hashes the files, and a corrupt or truncated entry is evicted and
 * rebuilt, never used. `<root>/.locks/<kind>-<key>.lock` (pid, host, time) makes two processes that need one key
 * build it once: the second waits and then finds the entry. Eviction and building happen only under that lock.
 */
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  existsSync,
  linkSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { clockFromEnv, fileAgeMs, isoOf, type Clock } from '../clock.js';
import { describeError, formatKeyPath, UsageError } from '../errors.js';
import { sha256File } from './digest-memo.js';
import { packageRoot } from '../paths.js';
import {
  describeHolder,
  HEARTBEAT_STALE_MS,
  holderState,
  isStale,
  lockText,
  parseLockText,
  readLockHolder,
  startHeartbeat,
  systemProbe,
  type ProcessProbe,
} from '../lock.js';
import { makeWritableDir } from '../out-dir.js';

export const CACHE_DIR_ENV = 'TR118_CACHE_DIR';
export const CACHE_MAX_MIB_ENV = 'TR118_CACHE_MAX_MIB';
/** 20 GiB: a few exports and engines of a 7B model. */
export const DEFAULT_CACHE_MAX_MIB = 20 * 1024;
/** Long enough for a large TensorRT build by another process (the seed's INT8 engine took 41 s). */
export const DEFAULT_LOCK_TIMEOUT_MS = 60 * 60 * 1000;

export const KEY_FILE = 'key.json';
export const LAST_USED_FILE = 'last-used';
/** At the store's root: the input files' digests remembered by stat (cache/digest-memo.ts); not an artifact. */
export const DIGEST_MEMO_FILE = 'file-digests.json';
/**
 * At the store's root: Python workers' compiled byte code where their packages have none (backends/native-worker.ts
 * BYTECODE_ENV); not an artifact, and a dot-folder, so never taken for a kind of artifact.
 */
export const PYTHON_BYTECODE_DIR = '.python-bytecode';
const TMP_DIR = '.tmp';
const LOCK_DIR = '.locks';
/** A lock file with no holder in it yet is being written; one that stays empty this long was left by a crash. */
const EMPTY_LOCK_STALE_MS = 10_000;
/** A build folder left in .tmp by a crash is removed by prune once it is this old. */
const TMP_STALE_MS = 24 * 60 * 60 * 1000;

const KIND = /^[a-z0-9][a-z0-9-]*$/;
const HEX64 = /^[0-9a-f]{64}$/;
const MIB = 1024 * 1024;

/**
 * $TR118_CACHE_DIR, else $XDG_CACHE_HOME/tr118/artifacts, else ~/.cache/tr118/artifacts (HOME, else the passwd
 * entry's home). With none of them there is no default: a usage error says what to set.
 */
export function defaultArtifactCacheDir(
  env: NodeJS.ProcessEnv = process.env,
  passwdHome: () => string = () => os.userInfo().homedir,
): string {
  if (env[CACHE_DIR_ENV]) return env[CACHE_DIR_ENV];
  if (env.XDG_CACHE_HOME) return path.join(env.XDG_CACHE_HOME, 'tr118', 'artifacts');
  let home = env.HOME ?? '';
  if (home === '') {
    try {
      home = passwdHome();
    } catch {
      // No passwd entry for this user: no home folder to fall back on.
    }
  }
  if (home === '') {
    throw new UsageError(
      `artifact cache: the default ~/.cache/tr118/artifacts needs a home folder, but HOME is not set and this user has none: ` +
        `set HOME or ${CACHE_DIR_ENV}, or give the folder (--cache-dir DIR; the Action: cache-dir)`,
    );
  }
  return path.join(home, '.cache', 'tr118', 'artifacts');
}

/** A size in MiB (a number ≥ 0, fractions allowed) from `value`; `what` names the variable or flag in the error. */
export function parseMaxMib(value: string, what: string): number {
  const mib = value.trim() === '' ? Number.NaN : Number(value);
  if (!Number.isFinite(mib) || mib < 0) {
    throw new UsageError(`${what}: expected a size in MiB (a number ≥ 0); got ${JSON.stringify(value)}`);
  }
  return mib;
}

/** The size cap in bytes: $TR118_CACHE_MAX_MIB, else 20 GiB. */
export function artifactCacheMaxBytes(env: NodeJS.ProcessEnv = process.env): number {
  const value = env[CACHE_MAX_MIB_ENV];
  return Math.floor((value === undefined ? DEFAULT_CACHE_MAX_MIB : parseMaxMib(value, CACHE_MAX_MIB_ENV)) * MIB);
}

const keyFileSchema = z.object({
  schema: z.literal(1),
  kind: z.string().regex(KIND),
  key: z.string().regex(HEX64),
  /** What the key hashes (keys.ts): for people; the store never reads it back. */
  inputs: z.record(z.string(), z.unknown()),
  files: z
    .array(z.object({ name: z.string().min(1), sha256: z.string().regex(HEX64), bytes: z.number().int().min(0) }))
    .min(1),
  createdAt: z.string(),
  /** How long the producer took (export or build), as it reported it: the time a later hit saves. */
  buildMs: z.number().min(0),
  toolVersion: z.string(),
});
export type KeyFile = z.infer<typeof keyFileSchema>;

export interface ArtifactEntry {
  readonly kind: string;
  readonly key: string;
  readonly dir: string;
  /** Absolute path of each artifact file, by its name in key.json. */
  readonly files: Readonly<Record<string, string>>;
  readonly keyFile: KeyFile;
  readonly sizeBytes: number;
  readonly lastUsedMs: number;
}

export type Lookup =
  | { readonly status: 'hit'; readonly entry: ArtifactEntry }
  | { readonly status: 'miss' }
  /** The entry was there but not usable; `reason` names the file and what was wrong. */
  | { readonly status: 'corrupt'; readonly reason: string };

/** What a producer made in the temporary folder it was given: file names inside it, and the time it took. */
export interface Produced {
  readonly files: readonly string[];
  readonly buildMs: number;
}
export type Producer = (tmpDir: string) => Promise<Produced>;

/** A best-effort remote copy of entries (the Actions cache): its trouble is a warning, never a failure. */
export interface RemoteAttempt {
  readonly ok: boolean;
  readonly message: string;
}
export interface RemoteArtifactStore {
  /** Restores the entry folder `dir` (absent locally) of kind/key; ok when it was found. */
  restore(dir: string, kind: string, key: string): Promise<RemoteAttempt>;
  save(dir: string, kind: string, key: string): Promise<RemoteAttempt>;
}

export interface ObtainedArtifact {
  /** hit: found locally; restored: from the remote store; built: made now by the producer. */
  readonly status: 'hit' | 'restored' | 'built';
  readonly entry: ArtifactEntry;
  /** Why an entry found for this key was not used (it was evicted, then rebuilt). */
  readonly corrupt?: string;
}

export interface ArtifactSummary {
  readonly kind: string;
  readonly key: string;
  readonly dir: string;
  /** Bytes on disk of every file in the entry folder. */
  readonly sizeBytes: number;
  readonly lastUsedMs: number;
  /** Undefined when key.json cannot be read (the problem says why; verify evicts such an entry). */
  readonly buildMs?: number;
  readonly problem?: string;
}

export interface VerifyResult {
  readonly kind: string;
  readonly key: string;
  readonly status: 'ok' | 'corrupt' | 'busy';
  /** What was wrong (corrupt: the entry was evicted), or who holds the lock (busy: not checked). */
  readonly reason?: string;
}

export interface PruneOptions {
  /** Remove least recently used entries until the store holds at most this many bytes. */
  readonly maxBytes?: number;
  /** Remove entries last used before this time (ms since the epoch). */
  readonly usedBefore?: number;
  /** `<kind>/<key>` of entries never removed (the one just written). */
  readonly keep?: readonly string[];
}

export interface ArtifactStoreOptions {
  readonly root: string;
  /** Size cap in bytes, enforced after each build (default: artifactCacheMaxBytes()). */
  readonly maxBytes?: number;
  /** How long to wait for another process's build of the same key before giving up with an error. */
  readonly lockTimeoutMs?: number;
  readonly lockPollMs?: number;
  readonly remote?: RemoteArtifactStore;
  /** Remote store trouble and other things the run goes on after. */
  readonly warn?: (message: string) => void;
  /** The calendar that stamps key.json and last use (default: clockFromEnv(), i.e. TR118_NOW or the system's). */
  readonly now?: Clock;
  readonly toolVersion?: string;
  /** Progress the run goes on after: whom a build waits for. */
  readonly log?: (line: string) => void;
  /** How often a wait for another process's lock says so (default 10 s). */
  readonly waitNoticeMs?: number;
  /** The machine's processes (lock.ts): injected in tests. */
  readonly probe?: ProcessProbe;
}

interface Lock {
  readonly release: () => void;
}

function ownVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(path.join(packageRoot(), 'package.json'), 'utf8')) as { version?: string };
    return pkg.version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

/** Bytes of every file under `dir` (0 if it is gone). */
function diskBytes(dir: string): number {
  let total = 0;
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return 0;
  }
  for (const name of names) {
    const file = path.join(dir, name);
    try {
      const stat = statSync(file);
      total += stat.isDirectory() ? diskBytes(file) : stat.size;
    } catch {
      // Removed meanwhile.
    }
  }
  return total;
}

/** A file name inside an entry: relative, inside it, and not one of the store's own files. */
function safeName(name: string): boolean {
  const normal = path.normalize(name);
  return (
    name !== '' &&
    !path.isAbsolute(name) &&
    normal === name &&
    !normal.startsWith('..') &&
    name !== KEY_FILE &&
    name !== LAST_USED_FILE
  );
}

/**
 * The store a run uses: `cacheDir` (--cache-dir, the Action's cache-dir; resolved by the caller) else
 * defaultArtifactCacheDir(env), capped at artifactCacheMaxBytes(env). Usage errors name the folder or variable.
 */
export function openArtifactStore(
  options: {
    readonly cacheDir?: string;
    readonly env?: NodeJS.ProcessEnv;
    readonly remote?: RemoteArtifactStore;
    readonly warn?: (message: string) => void;
    readonly log?: (line: string) => void;
    /** Default: clockFromEnv(env). */
    readonly clock?: Clock;
  } = {},
): ArtifactStore {
  const env = options.env ?? process.env;
  return new ArtifactStore({
    root: options.cacheDir ?? defaultArtifactCacheDir(env),
    maxBytes: artifactCacheMaxBytes(env),
    now: options.clock ?? clockFromEnv(env),
    ...(options.remote ? { remote: options.remote } : {}),
    ...(options.warn ? { warn: options.warn } : {}),
    ...(options.log ? { log: options.log } : {}),
  });
}

export class ArtifactStore {
  readonly root: string;
  readonly maxBytes: number;
  private readonly lockTimeoutMs: number;
  private readonly lockPollMs: number;
  private readonly remote: RemoteArtifactStore | undefined;
  private readonly warn: (message: string) => void;
  private readonly now: Clock;
  private readonly toolVersion: string;
  private readonly log: (line: string) => void;
  private readonly waitNoticeMs: number;
  private readonly probe: ProcessProbe;
  /**
   * `<kind>/<key>` of every entry this store handed out: the run is about to use them (an export hit, then an
   * engine built from it), so its own size cap never evicts them. Another process's cap can: LRU puts them last.
   */
  private readonly handedOut = new Set<string>();

  /** Creates the root folder; an unwritable one is a UsageError naming it. */
  constructor(options: ArtifactStoreOptions) {
    this.root = path.resolve(options.root);
    this.maxBytes = options.maxBytes ?? artifactCacheMaxBytes();
    this.lockTimeoutMs = options.lockTimeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS;
    this.lockPollMs = options.lockPollMs ?? 250;
    this.remote = options.remote;
    this.warn = options.warn ?? (() => {});
    this.log = options.log ?? (() => {});
    this.waitNoticeMs = options.waitNoticeMs ?? 10_000;
    this.probe = options.probe ?? systemProbe;
    this.now = options.now ?? clockFromEnv();
    this.toolVersion = options.toolVersion ?? ownVersion();
    makeWritableDir(this.root, 'artifact cache folder');
  }

  entryDir(kind: string, key: string): string {
    if (!KIND.test(kind))
      throw new Error(`artifact kind ${JSON.stringify(kind)}: expected lower-case letters, digits, -`);
    if (!HEX64.test(key)) throw new Error(`artifact key ${JSON.stringify(key)}: expected a sha256 (64 hex digits)`);
    return path.join(this.root, kind, key);
  }

  /**
   * Checks an entry without changing anything: key.json valid and about this key, every file there with its
   * recorded size and sha256.
   */
  async inspect(kind: string, key: string): Promise<Lookup> {
    const dir = this.entryDir(kind, key);
    if (!existsSync(dir)) return { status: 'miss' };
    const keyPath = path.join(dir, KEY_FILE);
    // Each reason names the file (which names the entry's folder, kind and key).
    const corrupt = (reason: string): Lookup => ({ status: 'corrupt', reason });
    let text: string;
    try {
      text = readFileSync(keyPath, 'utf8');
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      // The folder went away meanwhile (evicted by another process): nothing was there.
      if (code === 'ENOENT' && !existsSync(dir)) return { status: 'miss' };
      return corrupt(`${keyPath} cannot be read (${code ?? describeError(error)})`);
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (error) {
      return corrupt(`${keyPath} is not valid JSON (${describeError(error)})`);
    }
    const parsed = keyFileSchema.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      return corrupt(`${keyPath}: ${formatKeyPath(issue.path)}: ${issue.message}`);
    }
    const keyFile = parsed.data;
    if (keyFile.kind !== kind || keyFile.key !== key) {
      return corrupt(`${keyPath} describes ${keyFile.kind}/${keyFile.key}, not this entry`);
    }
    const files: Record<string, string> = {};
    let sizeBytes = 0;
    for (const f of keyFile.files) {
      if (!safeName(f.name))
        return corrupt(`${keyPath}: files: ${JSON.stringify(f.name)} is not a name inside the entry`);
      const file = path.join(dir, f.name);
      let bytes: number;
      try {
        bytes = statSync(file).size;
      } catch {
        if (!existsSync(dir)) return { status: 'miss' };
        return corrupt(`${file} is missing`);
      }
      if (bytes !== f.bytes) {
        return corrupt(`${file} is ${bytes} bytes, but key.json records ${f.bytes} (truncated or overwritten)`);
      }
      let sha256: string;
      try {
        sha256 = await sha256File(file);
      } catch (error) {
        if (!existsSync(dir)) return { status: 'miss' };
        return corrupt(`${file} cannot be read (${describeError(error)})`);
      }
      if (sha256 !== f.sha256) {
        return corrupt(`${file} has sha256 ${sha256.slice(0, 12)}…, but key.json records ${f.sha256.slice(0, 12)}…`);
      }
      files[f.name] = file;
      sizeBytes += bytes;
    }
    const entry = { kind, key, dir, files, keyFile, sizeBytes, lastUsedMs: this.lastUsed(dir, keyFile.createdAt) };
    return { status: 'hit', entry };
  }

  /**
   * The entry of kind/key, checked (inspect). A corrupt one is evicted (under its lock, so that an entry another
   * process has just rebuilt is never removed) and the reason returned for the caller to report; a hit is touched.
   */
  async get(kind: string, key: string): Promise<Lookup> {
    const first = await this.inspect(kind, key);
    if (first.status === 'hit') return this.touch(first);
    if (first.status === 'miss') return first;
    const lock = await this.lock(kind, key, true);
    try {
      return await this.lookupLocked(kind, key);
    } finally {
      lock.release();
    }
  }

  /** Builds kind/key with `produce` (into a temporary folder, renamed into place) and stores it, replacing any entry. */
  async put(kind: string, key: string, inputs: object, produce: Producer): Promise<ArtifactEntry> {
    const lock = await this.lock(kind, key, true);
    let entry: ArtifactEntry;
    try {
      entry = await this.putLocked(kind, key, inputs, produce);
    } finally {
      lock.release();
    }
    this.enforceCap();
    return entry;
  }

  /**
   * The artifact of `keyed`: a checked local hit, else (with a remote store) a restored copy, else built by
   * `produce` once across processes: a second process needing the key waits for the first and then hits.
   */
  async getOrBuild(
    kind: string,
    keyed: { readonly key: string; readonly inputs: object },
    produce: Producer,
  ): Promise<ObtainedArtifact> {
    const { key } = keyed;
    const first = await this.inspect(kind, key);
    if (first.status === 'hit') return { status: 'hit', entry: this.touch(first).entry };
    const lock = await this.lock(kind, key, true);
    let outcome: ObtainedArtifact;
    try {
      const found = await this.lookupLocked(kind, key);
      const corrupt = found.status === 'corrupt' ? { corrupt: found.reason } : {};
      if (found.status === 'hit') return { status: 'hit', entry: found.entry };
      const restored = await this.restoreLocked(kind, key);
      if (restored) {
        outcome = { status: 'restored', entry: restored, ...corrupt };
      } else {
        const entry = await this.putLocked(kind, key, keyed.inputs, produce);
        await this.saveRemote(entry);
        outcome = { status: 'built', entry, ...corrupt };
      }
    } finally {
      lock.release();
    }
    this.enforceCap();
    return outcome;
  }

  /**
   * The entry of kind/key when one exists here or (with a remote store) can be restored; else a miss, with the reason
   * a local entry was evicted if it was corrupt. For artifacts that are made as a side effect of the run (torch.compile's
   * caches) rather than by a producer the store can call.
   */
  async getOrRestore(
    kind: string,
    key: string,
  ): Promise<
    | { readonly status: 'hit' | 'restored'; readonly entry: ArtifactEntry }
    | { readonly status: 'miss'; readonly corrupt?: string }
  > {
    const first = await this.get(kind, key);
    if (first.status === 'hit') return { status: 'hit', entry: first.entry };
    const corrupt = first.status === 'corrupt' ? { corrupt: first.reason } : {};
    const lock = await this.lock(kind, key, true);
    try {
      const found = await this.lookupLocked(kind, key);
      if (found.status === 'hit') return { status: 'hit', entry: found.entry };
      const restored = await this.restoreLocked(kind, key);
      return restored ? { status: 'restored', entry: restored } : { status: 'miss', ...corrupt };
    } finally {
      lock.release();
    }
  }

  /** As put, then the entry is saved to the remote store too (its trouble a warning). */
  async putAndShare(kind: string, key: string, inputs: object, produce: Producer): Promise<ArtifactEntry> {
    const entry = await this.put(kind, key, inputs, produce);
    await this.saveRemote(entry);
    return entry;
  }

  /** Every entry of the store (of `kind`), least recently used first, without hashing. */
  list(kind?: string): ArtifactSummary[] {
    const kinds = kind !== undefined ? [kind] : this.kinds();
    const out: ArtifactSummary[] = [];
    for (const k of kinds) {
      let keys: string[];
      try {
        keys = readdirSync(path.join(this.root, k));
      } catch {
        continue;
      }
      for (const key of keys.filter((n) => HEX64.test(n))) {
        const dir = path.join(this.root, k, key);
        let keyFile: KeyFile | undefined;
        let problem: string | undefined;
        try {
          keyFile = keyFileSchema.parse(JSON.parse(readFileSync(path.join(dir, KEY_FILE), 'utf8')));
        } catch (error) {
          problem = `${KEY_FILE} unreadable (${describeError(error).split('\n')[0]})`;
        }
        out.push({
          kind: k,
          key,
          dir,
          sizeBytes: diskBytes(dir),
          lastUsedMs: this.lastUsed(dir, keyFile?.createdAt),
          ...(keyFile ? { buildMs: keyFile.buildMs } : {}),
          ...(problem !== undefined ? { problem } : {}),
        });
      }
    }
    return out.sort((a, b) => a.lastUsedMs - b.lastUsedMs);
  }

  /**
   * Removes the lock of `key` (a whole key, or a prefix of at least 8 hex digits naming one), whatever its kind, as
   * `tr118 cache unlock` does for a lock nobody will release. A holder this machine confirms alive is refused unless
   * `force`. Returns what was removed, in words.
   */
  unlock(key: string, force = false): string[] {
    if (!/^[0-9a-f]{8,64}$/.test(key))
      throw new UsageError(
        `cache unlock: expected an artifact key (8 to 64 hex digits, as the waiting message gives it); got ${JSON.stringify(key)}`,
      );
    const dir = path.join(this.root, LOCK_DIR);
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      names = [];
    }
    const matching = names.filter((n) => {
      const m = /^([a-z0-9][a-z0-9-]*)-([0-9a-f]{64})\.lock$/.exec(n);
      return m !== null && m[2]!.startsWith(key);
    });
    if (matching.length === 0) throw new UsageError(`cache unlock: no lock of key ${key} in ${dir}`);
    if (new Set(matching.map((n) => n.slice(-69, -5))).size > 1)
      throw new UsageError(`cache unlock: ${key} names more than one key (${matching.join(', ')}); give more digits`);
    return matching.map((name) => {
      const file = path.join(dir, name);
      const holder = readLockHolder(file);
      const said = holder ? describeHolder(holder, this.probe) : 'no holder written';
      if (holder && holderState(holder, this.probe) === 'alive' && !force)
        throw new UsageError(
          `cache unlock: ${file} is held by ${said}, which is running on this machine; stop it, or give --force`,
        );
      rmSync(file, { force: true });
      return `removed ${file} (held by ${said})`;
    });
  }

  /** Re-hashes every entry; corrupt ones are evicted. An entry being built (locked) is skipped as busy. */
  async verify(kind?: string): Promise<VerifyResult[]> {
    const results: VerifyResult[] = [];
    for (const e of this.list(kind)) {
      const lock = await this.lock(e.kind, e.key, false);
      if (!lock) {
        results.push({ kind: e.kind, key: e.key, status: 'busy', reason: 'locked by a build in progress' });
        continue;
      }
      try {
        const found = await this.lookupLocked(e.kind, e.key, false);
        if (found.status === 'corrupt')
          results.push({ kind: e.kind, key: e.key, status: 'corrupt', reason: found.reason });
        else if (found.status === 'hit') results.push({ kind: e.kind, key: e.key, status: 'ok' });
      } finally {
        lock.release();
      }
    }
    return results;
  }

  /**
   * Removes entries last used before `usedBefore`, then least recently used ones until at most `maxBytes` remain.
   * An entry whose lock is held (being built, checked or evicted by another process) and those in `keep` stay.
   * Build folders left in .tmp by a crash a day ago or more go too. Returns what was removed.
   */
  prune(options: PruneOptions): ArtifactSummary[] {
    this.removeStaleTmp();
    const keep = new Set(options.keep ?? []);
    const entries = this.list();
    let total = entries.reduce((sum, e) => sum + e.sizeBytes, 0);
    const removed: ArtifactSummary[] = [];
    for (const e of entries) {
      const old = options.usedBefore !== undefined && e.lastUsedMs < options.usedBefore;
      const over = options.maxBytes !== undefined && total > options.maxBytes;
      if (!old && !over) continue;
      if (keep.has(`${e.kind}/${e.key}`)) continue;
      const lock = this.tryLock(e.kind, e.key);
      if (!lock) continue;
      try {
        rmSync(e.dir, { recursive: true, force: true });
      } finally {
        lock.release();
      }
      total -= e.sizeBytes;
      removed.push(e);
    }
    return removed;
  }

  // ---- internals ----

  private kinds(): string[] {
    try {
      return readdirSync(this.root).filter((n) => KIND.test(n));
    } catch {
      return [];
    }
  }

  private lastUsed(dir: string, createdAt: string | undefined): number {
    try {
      const ms = Number(readFileSync(path.join(dir, LAST_USED_FILE), 'utf8'));
      if (Number.isFinite(ms)) return ms;
    } catch {
      // Never touched: its creation time.
    }
    const created = createdAt === undefined ? Number.NaN : Date.parse(createdAt);
    if (Number.isFinite(created)) return created;
    try {
      return statSync(dir).mtimeMs;
    } catch {
      return 0;
    }
  }

  private touch(hit: Extract<Lookup, { status: 'hit' }>): Extract<Lookup, { status: 'hit' }> {
    const now = this.now();
    this.handedOut.add(`${hit.entry.kind}/${hit.entry.key}`);
    try {
      writeFileSync(path.join(hit.entry.dir, LAST_USED_FILE), String(now));
    } catch {
      // A read-only store still serves hits; only its eviction order suffers.
    }
    return { status: 'hit', entry: { ...hit.entry, lastUsedMs: now } };
  }

  /** inspect under the key's lock: a corrupt entry is evicted; a hit is touched. */
  private async lookupLocked(kind: string, key: string, touch = true): Promise<Lookup> {
    const found = await this.inspect(kind, key);
    if (found.status === 'corrupt') rmSync(this.entryDir(kind, key), { recursive: true, force: true });
    return found.status === 'hit' && touch ? this.touch(found) : found;
  }

  private async restoreLocked(kind: string, key: string): Promise<ArtifactEntry | undefined> {
    if (!this.remote) return undefined;
    const dir = this.entryDir(kind, key);
    let attempt: RemoteAttempt;
    try {
      attempt = await this.remote.restore(dir, kind, key);
    } catch (error) {
      attempt = { ok: false, message: `restore of ${kind}/${key} failed (${describeError(error)})` };
    }
    if (!attempt.ok) {
      this.warn(attempt.message);
      rmSync(dir, { recursive: true, force: true });
      return undefined;
    }
    const found = await this.lookupLocked(kind, key);
    if (found.status === 'hit') return found.entry;
    this.warn(
      found.status === 'corrupt'
        ? `the restored entry is not usable, rebuilding: ${found.reason}`
        : `${attempt.message}, but no entry came with it; rebuilding`,
    );
    return undefined;
  }

  private async saveRemote(entry: ArtifactEntry): Promise<void> {
    if (!this.remote) return;
    try {
      const attempt = await this.remote.save(entry.dir, entry.kind, entry.key);
      if (!attempt.ok) this.warn(attempt.message);
    } catch (error) {
      this.warn(`save of ${entry.kind}/${entry.key} failed (${describeError(error)})`);
    }
  }

  private async putLocked(kind: string, key: string, inputs: object, produce: Producer): Promise<ArtifactEntry> {
    const target = this.entryDir(kind, key);
    const tmpRoot = path.join(this.root, TMP_DIR);
    mkdirSync(tmpRoot, { recursive: true });
    const tmp = mkdtempSync(path.join(tmpRoot, `${kind}-${key.slice(0, 12)}-`));
    let keyFile: KeyFile;
    try {
      const produced = await produce(tmp);
      const files: KeyFile['files'] = [];
      for (const name of produced.files) {
        if (!safeName(name))
          throw new Error(`${kind} producer: ${JSON.stringify(name)} is not a file name inside ${tmp}`);
        const file = path.join(tmp, name);
        let bytes: number;
        try {
          bytes = statSync(file).size;
        } catch {
          throw new Error(`${kind} producer reported ${name}, but ${file} does not exist`);
        }
        files.push({ name, bytes, sha256: await sha256File(file) });
      }
      if (files.length === 0) throw new Error(`${kind} producer reported no files`);
      keyFile = {
        schema: 1,
        kind,
        key,
        inputs: inputs as Record<string, unknown>,
        files,
        createdAt: isoOf(this.now()),
        buildMs: produced.buildMs,
        toolVersion: this.toolVersion,
      };
      writeFileSync(path.join(tmp, KEY_FILE), `${JSON.stringify(keyFile, null, 2)}\n`);
      writeFileSync(path.join(tmp, LAST_USED_FILE), String(this.now()));
      mkdirSync(path.dirname(target), { recursive: true });
      // Under the lock: nobody else writes the target, and an entry there was found unusable or is being replaced.
      rmSync(target, { recursive: true, force: true });
      renameSync(tmp, target);
    } catch (error) {
      rmSync(tmp, { recursive: true, force: true });
      throw error;
    }
    this.handedOut.add(`${kind}/${key}`);
    // Hashed just now: not hashed again.
    const files = Object.fromEntries(keyFile.files.map((f) => [f.name, path.join(target, f.name)]));
    const sizeBytes = keyFile.files.reduce((sum, f) => sum + f.bytes, 0);
    return { kind, key, dir: target, files, keyFile, sizeBytes, lastUsedMs: this.now() };
  }

  private enforceCap(): void {
    const removed = this.prune({ maxBytes: this.maxBytes, keep: [...this.handedOut] });
    if (removed.length > 0) {
      const mib = removed.reduce((sum, e) => sum + e.sizeBytes, 0) / MIB;
      this.warn(
        `artifact cache ${this.root}: evicted ${removed.length} least recently used entr${removed.length === 1 ? 'y' : 'ies'} ` +
          `(${mib.toFixed(1)} MiB) to stay under ${(this.maxBytes / MIB).toFixed(0)} MiB`,
      );
    }
  }

  private removeStaleTmp(): void {
    const tmpRoot = path.join(this.root, TMP_DIR);
    let names: string[];
    try {
      names = readdirSync(tmpRoot);
    } catch {
      return;
    }
    for (const name of names) {
      const dir = path.join(tmpRoot, name);
      try {
        if (fileAgeMs(statSync(dir).mtimeMs) > TMP_STALE_MS) rmSync(dir, { recursive: true, force: true });
      } catch {
        // Renamed into place or removed meanwhile.
      }
    }
  }

  private lockFile(kind: string, key: string): string {
    this.entryDir(kind, key);
    return path.join(this.root, LOCK_DIR, `${kind}-${key}.lock`);
  }

  /** Takes the key's lock now, or undefined if a process that may be alive holds it. */
  private tryLock(kind: string, key: string): Lock | undefined {
    const file = this.lockFile(kind, key);
    mkdirSync(path.dirname(file), { recursive: true });
    const me = lockText(this.probe, isoOf(this.now()));
    // Twice at most: once more after taking over a stale lock.
    for (let attempt = 0; attempt < 2; attempt++) {
      let fd: number;
      try {
        fd = openSync(file, 'wx');
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') {
          throw new UsageError(
            `artifact cache ${this.root}: cannot create the lock ${file} (${(error as NodeJS.ErrnoException).code ?? describeError(error)})`,
          );
        }
        if (!this.takeOverIfStale(file)) return undefined;
        continue;
      }
      writeSync(fd, me);
      closeSync(fd);
      // Touched while held: a waiter on another host (a shared cache) can tell a crashed holder from a slow one.
      const stopHeartbeat = startHeartbeat(file);
      return {
        release: () => {
          stopHeartbeat();
          try {
            if (readFileSync(file, 'utf8') === me) rmSync(file, { force: true });
          } catch {
            // Already gone: nothing to release.
          }
        },
      };
    }
    return undefined;
  }

  /**
   * Removes `file` if its holder is gone (lock.ts: a dead, rebooted or reused pid here; on another host, a heartbeat
   * older than HEARTBEAT_STALE_MS; an empty lock older than a crash's window); true if it did. The lock is moved
   * aside first and checked: if a live process had meanwhile taken the lock over, it is moved back, so two processes
   * taking one stale lock over never both hold it.
   */
  private takeOverIfStale(file: string): boolean {
    let seen: string;
    let heartbeatAgeMs: number;
    try {
      seen = readFileSync(file, 'utf8');
      heartbeatAgeMs = fileAgeMs(statSync(file).mtimeMs);
    } catch {
      return true; // released meanwhile: try again
    }
    const holder = parseLockText(seen);
    if (holder) {
      if (!isStale(holderState(holder, this.probe), heartbeatAgeMs)) return false;
    } else if (heartbeatAgeMs < EMPTY_LOCK_STALE_MS) {
      return false;
    }
    const aside = `${file}.stale-${process.pid}-${randomBytes(4).toString('hex')}`;
    try {
      renameSync(file, aside);
    } catch {
      return true; // another process took it over first: try again
    }
    let moved = '';
    try {
      moved = readFileSync(aside, 'utf8');
    } catch {
      // Unreadable: treat as the stale one.
    }
    if (moved !== seen) {
      try {
        linkSync(aside, file);
      } catch {
        // Someone holds the lock again already; the moved one's holder will find its lock changed.
      }
    }
    rmSync(aside, { force: true });
    return moved === seen;
  }

  /** Waits for the key's lock (wait: true) up to the timeout, polling; or takes it only if free (wait: false). */
  private async lock(kind: string, key: string, wait: true): Promise<Lock>;
  private async lock(kind: string, key: string, wait: false): Promise<Lock | undefined>;
  private async lock(kind: string, key: string, wait: boolean): Promise<Lock | undefined> {
    // Elapsed time, not this.now (the calendar, which only stamps key.json and last-used): a wait must end.
    const started = performance.now();
    const deadline = started + this.lockTimeoutMs;
    let saidAt = started;
    for (;;) {
      const lock = this.tryLock(kind, key);
      if (lock || !wait) return lock;
      const now = performance.now();
      if (now >= deadline) {
        throw new UsageError(
          `artifact cache: waited ${(this.lockTimeoutMs / 1000).toFixed(0)} s for ${kind}/${key}, held by ${this.holderOf(kind, key)}; ` +
            `if no tr118 run is building it: tr118 cache unlock ${key}`,
        );
      }
      // Never silent: every few seconds, whom the run waits for and how to clear a lock nobody holds any more.
      if (now - saidAt >= this.waitNoticeMs) {
        saidAt = now;
        this.log(
          `waiting ${((now - started) / 1000).toFixed(0)} s for ${kind}/${key.slice(0, 12)}…, held by ${this.holderOf(kind, key)}; ` +
            `a holder that stops touching the lock for ${HEARTBEAT_STALE_MS / 1000} s is taken over; to clear it now: tr118 cache unlock ${key}`,
        );
      }
      await sleep(this.lockPollMs);
    }
  }

  private holderOf(kind: string, key: string): string {
    const holder = readLockHolder(this.lockFile(kind, key));
    return holder ? describeHolder(holder, this.probe) : 'another process';
  }
}
