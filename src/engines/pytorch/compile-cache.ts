/**
 * torch.compile's caches across runs (issue 23): what one open compiled, kept in the artifact store (and through it
 * the Actions cache) and loaded by the next open before it compiles. The bytes are torch's "mega-cache"
 * (torch.compiler.save_cache_artifacts, portable between machines with the same torch and GPU); the worker moves
 * them in and out of torch (native/…/worker/compile_cache.py), this module decides which entry and where.
 *
 * The key: the checkpoint(s) compiled, torch's version, the device (GPU name, or the CPU model), the compile mode,
 * dtype and attention. torch checks the version and GPU again when it loads, so a wrong entry can only miss. A hit
 * changes how long the open takes, never what is measured: the spec and the comparability fields stay as they are;
 * the session says hit, miss or corrupt (SessionInfo.compileCache) and the report prints it.
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, renameSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { SessionInfo } from '../../backends/protocol.js';
import type { OpenExtras } from '../../backends/process-backend.js';
import { pythonPackageVersions } from '../../backends/python-packages.js';
import { artifactKey, type ArtifactKey } from '../../cache/keys.js';
import type { ArtifactStore } from '../../cache/store.js';
import { describeError } from '../../errors.js';
import type { CompileCacheFacts } from '../family.js';

const run = promisify(execFile);

/** The artifact store's kind (folder) of torch.compile caches (`tr118 cache ls --kind torch-compile`). */
export const COMPILE_CACHE_KIND = 'torch-compile';
/** The one file of an entry: torch.compiler.save_cache_artifacts()'s bytes. */
export const COMPILE_ARTIFACTS_FILE = 'artifacts.bin';

/**
 * How the worker writes an entry; a new layout keys new entries, so none written the old way is loaded again. 3: the
 * probe's graph is dynamic in sequence length (worker COMPILE_SHAPES); a layout-2 entry's static probe graph would
 * never be used again. 2: saved once, at close. Layout 1 saved at open and again at close into one file, and torch's
 * load kept only the second part: such entries lack the probe's graph, and a "larger" rule would never replace them.
 */
export const COMPILE_ARTIFACTS_LAYOUT = 3;

/** What torch.compile's artifacts depend on, beyond the code torch itself checks. */
export interface CompileCacheKeyInputs {
  readonly checkpointSha256: string;
  /** Same-run A/B: the worker compiles the base checkpoint too, into the same artifacts. */
  readonly baseCheckpointSha256: string | null;
  readonly torchVersion: string;
  /** The GPU's name (nvidia-smi), or `cpu <arch> <model>`. */
  readonly device: string;
  readonly compile: string;
  readonly dtype: string;
  readonly attention: string;
}

export function compileCacheKey(inputs: CompileCacheKeyInputs): ArtifactKey {
  return artifactKey(COMPILE_CACHE_KIND, { ...inputs, layout: COMPILE_ARTIFACTS_LAYOUT });
}

export type { CompileCacheFacts } from '../family.js';

const torchVersions = new Map<string, Promise<string | undefined>>();

/**
 * torch's version in `python`, read from its package metadata without importing torch (which takes seconds), once
 * per Python; and the device's name from nvidia-smi (the CUDA device index as the driver numbers it) or os.cpus().
 */
export function machineFacts(python: string): CompileCacheFacts {
  return {
    torchVersion() {
      let version = torchVersions.get(python);
      if (!version) {
        version = pythonPackageVersions({ command: python }, ['torch'], 30_000).then((answer) =>
          answer.ok ? answer.versions.torch : undefined,
        );
        torchVersions.set(python, version);
      }
      return version;
    },
    async deviceName(device, deviceId) {
      if (device === 'cpu') return `cpu ${os.arch()} ${os.cpus()[0]?.model ?? 'unknown'}`;
      try {
        const args = ['--query-gpu=name', '--format=csv,noheader', `--id=${deviceId}`];
        const { stdout } = await run('nvidia-smi', args, { timeout: 30_000 });
        return stdout.trim() || undefined;
      } catch {
        return undefined;
      }
    },
  };
}

export interface CompileCacheSpec {
  readonly device: 'cpu' | 'cuda';
  readonly deviceId: number;
  readonly compile: string;
  readonly precision: string;
  readonly attention?: string | undefined;
}

/** ProcessBackend's open hooks (process-backend.ts ProcessBackendOptions), as this module fills them. */
export interface CompileCacheHooks {
  openExtras(): Promise<OpenExtras>;
  afterOpen(info: SessionInfo): Promise<SessionInfo>;
  afterClose(): Promise<void>;
}

/**
 * The open hooks of one compiled backend: before each open, the entry to load (a local hit or one restored from the
 * remote store) and where to save; after close, what the worker saved is stored under the key (afterClose says
 * when). Store trouble never fails an open: the session's note says it.
 */
export function compileCacheHooks(
  spec: CompileCacheSpec,
  checkpoints: { readonly candidateSha256: string; readonly baseSha256: string | undefined },
  openStore: () => ArtifactStore,
  facts: CompileCacheFacts,
): CompileCacheHooks {
  let keyed: Promise<ArtifactKey | string> | undefined;
  let tmpDir: string | undefined;
  let problem: string | undefined;
  let store: ArtifactStore | undefined;
  /** What the last open said of its entry, and its compile: what afterClose decides and records by. */
  let opened: { readonly status: SessionInfo['compileCache']; readonly compileMs: number } | undefined;
  const keyOf = async (): Promise<ArtifactKey | string> => {
    const [torchVersion, device] = await Promise.all([
      facts.torchVersion(),
      facts.deviceName(spec.device, spec.deviceId),
    ]);
    if (torchVersion === undefined) return "compile cache off: torch's version could not be read from its metadata";
    if (device === undefined) return `compile cache off: the name of ${spec.device}:${spec.deviceId} could not be read`;
    return compileCacheKey({
      checkpointSha256: checkpoints.candidateSha256,
      baseCheckpointSha256: checkpoints.baseSha256 ?? null,
      torchVersion,
      device,
      compile: spec.compile,
      dtype: spec.precision,
      attention: spec.attention ?? '',
    });
  };
  // The worker makes the folder when it saves (compile_cache.py): nothing is left behind by an open that saved nothing.
  const savePath = (): string => {
    tmpDir ??= path.join(os.tmpdir(), `tr118-compile-${randomUUID()}`);
    return path.join(tmpDir, COMPILE_ARTIFACTS_FILE);
  };
  return {
    async openExtras(): Promise<OpenExtras> {
      problem = undefined;
      try {
        keyed ??= keyOf();
        const key = await keyed;
        if (typeof key === 'string') {
          problem = key;
          return {};
        }
        store ??= openStore();
        const found = await store.getOrRestore(COMPILE_CACHE_KIND, key.key);
        if (found.status === 'miss' && found.corrupt) problem = `compile cache entry evicted: ${found.corrupt}`;
        const load = found.status === 'miss' ? {} : { load: found.entry.files[COMPILE_ARTIFACTS_FILE]! };
        return { compileCache: { ...load, save: savePath() } };
      } catch (error) {
        problem = `compile cache not read: ${describeError(error)}`;
        return {};
      }
    },
    afterOpen(info: SessionInfo): Promise<SessionInfo> {
      opened = { status: info.compileCache, compileMs: info.compileMs ?? 0 };
      const notes = [info.compileCacheNote, problem].filter((n): n is string => n !== undefined);
      return Promise.resolve(notes.length > 0 ? { ...info, compileCacheNote: notes.join('; ') } : info);
    },
    // The worker saves at close, once (compile_cache.py: a second save in one process would lose the first's graphs
    // on load): the probe's graph and every shape compiled since open. Stored when the open found no usable entry
    // (a miss, or bytes torch could not load, which are replaced) or when it holds more than the entry does. The
    // run's results are written by then: a failure here costs the next run its compile, nothing else, so it is not
    // reported.
    async afterClose(): Promise<void> {
      const key = keyed ? await keyed : undefined;
      const saved = tmpDir !== undefined ? path.join(tmpDir, COMPILE_ARTIFACTS_FILE) : undefined;
      if (typeof key !== 'object' || !store || saved === undefined || !existsSync(saved)) return;
      const into = store;
      try {
        const found = await into.get(COMPILE_CACHE_KIND, key.key);
        const storedBytes = found.status === 'hit' ? found.entry.sizeBytes : 0;
        if (opened?.status === 'hit' && statSync(saved).size <= storedBytes) return;
        await into.putAndShare(COMPILE_CACHE_KIND, key.key, key.inputs, (dir) => {
          renameSync(saved, path.join(dir, COMPILE_ARTIFACTS_FILE));
          return Promise.resolve({
            files: [COMPILE_ARTIFACTS_FILE],
            buildMs: found.status === 'hit' ? found.entry.keyFile.buildMs : (opened?.compileMs ?? 0),
          });
        });
      } catch {
        // see above: a lost cache only
      } finally {
        rmSync(path.dirname(saved), { recursive: true, force: true });
      }
    },
  };
}
