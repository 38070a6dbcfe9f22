/**
 * The output folder of a run. Checked before anything is created (a path that cannot hold files is refused: Node's
 * recursive mkdir spins forever under /proc), locked for the run (a second run into the same folder is refused,
 * naming the lock holder's pid; the lock of a process that no longer exists is taken over), and cleared of the
 * previous run's files at the start, so that the files in it always belong to one run: after a crash or Ctrl-C the
 * folder holds this run's partial results.jsonl alone, never beside an older report.md. Its files are written whole
 * or not at all (writeFileAtomic): a full disk leaves no truncated report.html that looks complete.
 */
import {
  accessSync,
  closeSync,
  constants,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statfsSync,
  statSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import path from 'node:path';
import { fileAgeMs, isoOf, systemClock } from './clock.js';
import { errnoMeaning, UsageError } from './errors.js';
import {
  describeHolder,
  holderState,
  isStale,
  lockText,
  readLockHolder,
  startHeartbeat,
  systemProbe,
  type ProcessProbe,
} from './lock.js';

/** In the output folder while a run writes there: the holder's pid and host. */
export const LOCK_FILE = '.tr118.lock';

/**
 * Linux kernel filesystems that hold no regular files (statfs f_type, from linux/magic.h): a folder there cannot
 * take results even when it exists and root may "write" it.
 */
const PSEUDO_FILESYSTEMS: ReadonlyMap<number, string> = new Map([
  [0x9fa0, 'proc'],
  [0x62656572, 'sysfs'],
  [0x27e0eb, 'cgroup'],
  [0x63677270, 'cgroup2'],
  [0x64626720, 'debugfs'],
  [0x74726163, 'tracefs'],
  [0x73636673, 'securityfs'],
  [0x6165676c, 'pstore'],
  [0xcafe4a11, 'bpf'],
  [0x62656570, 'configfs'],
  [0x1cd1, 'devpts'],
  [0xde5e81e4, 'efivarfs'],
  [0x65735543, 'fusectl'],
  [0x42494e4d, 'binfmt_misc'],
  [0x6e736673, 'nsfs'],
  [0xf97cff8c, 'selinuxfs'],
]);

/** The deepest part of `dir` that exists (dir itself, or an ancestor). */
function nearestExisting(dir: string): string {
  let current = dir;
  for (;;) {
    try {
      statSync(current);
      return current;
    } catch (error) {
      const parent = path.dirname(current);
      const code = (error as NodeJS.ErrnoException).code;
      // ENOTDIR: a file on the way, which the caller names.
      if ((code !== 'ENOENT' && code !== 'ENOTDIR') || parent === current) return current;
      current = parent;
    }
  }
}

/**
 * Throws a UsageError naming `dir` unless it is (or can be created as) a folder that can hold files: its nearest
 * existing part must be a writable folder on a real filesystem. `what` names it in errors (e.g. "output folder").
 */
export function checkWritableDir(dir: string, what: string): void {
  const resolved = path.resolve(dir);
  const existing = nearestExisting(resolved);
  const where = existing === resolved ? '' : ` (its nearest existing folder is ${existing})`;
  let isDirectory: boolean;
  try {
    isDirectory = statSync(existing).isDirectory();
  } catch (error) {
    throw new UsageError(`${what} ${dir}: cannot use it: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
  if (!isDirectory) throw new UsageError(`${what} ${dir}: ${existing} is a file, not a folder`);
  if (process.platform === 'linux') {
    const type = PSEUDO_FILESYSTEMS.get(statfsSync(existing).type);
    if (type)
      throw new UsageError(
        `${what} ${dir}: ${existing} is on the kernel's ${type} filesystem, which cannot hold files`,
      );
  }
  try {
    accessSync(existing, constants.W_OK);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? String(error);
    throw new UsageError(`${what} ${dir}: not writable${where} (${code})`);
  }
}

/** Creates `dir` after checking it; a failure is a UsageError naming it. */
export function makeWritableDir(dir: string, what: string): void {
  checkWritableDir(dir, what);
  try {
    mkdirSync(dir, { recursive: true });
  } catch (error) {
    throw new UsageError(
      `${what} ${dir}: cannot create it (${(error as NodeJS.ErrnoException).code ?? String(error)})`,
    );
  }
}

export interface OutDirClaim {
  /** Removes the lock (only if it is still ours). */
  readonly release: () => void;
}

/** What the caller says on SIGINT or SIGTERM while it holds the folder: what was kept (e.g. the raw records). */
export interface ClaimOptions {
  readonly interrupted?: (signal: NodeJS.Signals) => string;
  /** The machine's processes (lock.ts): injected in tests. */
  readonly probe?: ProcessProbe;
}

const SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM'];

/**
 * Checks and creates `dir`, locks it for this process, and removes the files of an earlier run (`runFiles`, names
 * inside `dir`). Throws a UsageError if another run that may be alive holds the folder (lock.ts decides: a dead,
 * rebooted or reused pid is gone; a holder on another host whose heartbeat stopped a minute ago is gone too). Until
 * released, SIGINT and SIGTERM remove the lock and say what was kept before the process ends as the signal asks.
 */
export function claimOutDir(dir: string, runFiles: readonly string[], options: ClaimOptions = {}): OutDirClaim {
  const what = 'output folder';
  const probe = options.probe ?? systemProbe;
  makeWritableDir(dir, what);
  const lock = path.join(dir, LOCK_FILE);
  const me = lockText(probe, isoOf(systemClock()));
  for (let attempt = 0; ; attempt++) {
    let fd: number;
    try {
      fd = openSync(lock, 'wx');
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'EEXIST')
        throw new UsageError(`${what} ${dir}: cannot create the lock ${lock} (${code ?? String(error)})`);
      const holder = readLockHolder(lock);
      let heartbeatAgeMs = 0;
      try {
        heartbeatAgeMs = fileAgeMs(statSync(lock).mtimeMs);
      } catch {
        // Released meanwhile: the next attempt takes it.
      }
      if (holder && !isStale(holderState(holder, probe), heartbeatAgeMs)) {
        throw new UsageError(
          `${what} ${dir} is in use by another tr118 run (${describeHolder(holder, probe)}): ` +
            `wait for it to finish or write elsewhere; if no run is going on, delete ${lock}`,
        );
      }
      // The holder is gone (killed, or crashed): its lock is stale. Taken over once; a second race is lost.
      if (attempt > 0) throw new UsageError(`${what} ${dir}: another run took its stale lock ${lock} at the same time`);
      rmSync(lock, { force: true });
      continue;
    }
    writeSync(fd, me);
    closeSync(fd);
    break;
  }
  try {
    clearRunFiles(dir, runFiles);
  } catch (error) {
    // Nothing of this run is in the folder yet: the lock just written goes, so the next run is not refused.
    rmSync(lock, { force: true });
    throw error;
  }
  const stopHeartbeat = startHeartbeat(lock);
  const release = () => {
    stopHeartbeat();
    for (const signal of SIGNALS) process.off(signal, onSignal);
    try {
      if (readFileSync(lock, 'utf8') === me) rmSync(lock, { force: true });
    } catch {
      // Already gone: nothing to release.
    }
  };
  function onSignal(signal: NodeJS.Signals): void {
    release();
    const kept = options.interrupted?.(signal) ?? `${dir} keeps what was written so far`;
    process.stderr.write(`tr118: interrupted by ${signal}: ${kept}; the folder's lock ${lock} is removed\n`);
    // Ends as the signal asks (exit status 128 + signal), now that no handler of ours is left.
    process.kill(process.pid, signal);
  }
  for (const signal of SIGNALS) process.once(signal, onSignal);
  return { release };
}

/** A file being written by writeFileAtomic: hidden, and named after its target and writer. */
const PARTIAL = /^\.(.+)\.\d+\.partial$/;

function partialName(file: string): string {
  return path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.partial`);
}

/**
 * Removes the earlier run's `runFiles` and what a killed writer left of them (writeFileAtomic's partial files). A
 * folder where a file goes (a folder named report.html) is refused now, before anything is measured: the run could
 * not write its file there at the end.
 */
function clearRunFiles(dir: string, runFiles: readonly string[]): void {
  const names = new Set(runFiles);
  const partials = readdirSync(dir).filter((n) => names.has(PARTIAL.exec(n)?.[1] ?? ''));
  for (const name of [...runFiles, ...partials]) {
    const file = path.join(dir, name);
    let fault: string | undefined;
    try {
      if (lstatSync(file).isDirectory()) fault = `${file} is a folder, where this run writes its ${name}`;
      else rmSync(file, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue;
      fault = `cannot remove the previous run's ${file}: ${errnoMeaning(error)}`;
    }
    if (fault !== undefined) throw new UsageError(`output folder ${dir}: ${fault}: move or remove it`);
  }
}

/** A file that could not be written, as the user reads it: the path and what the errno means. */
export function writeError(file: string, error: unknown): UsageError {
  return new UsageError(`cannot write ${file}: ${errnoMeaning(error)}`);
}

/** Writes a whole file's bytes: writeFileSync, or a test's stand-in for a full disk. */
export type WriteWhole = (file: string, data: string | Uint8Array) => void;

/**
 * Writes `file` whole or not at all: into a hidden partial file beside it, renamed over it once complete (a rename in
 * one folder is atomic), so that a full disk or a kill mid-write never leaves a truncated file that looks finished.
 * A failure removes the partial file and is a UsageError naming `file` and the errno's meaning (no space left on
 * device, it is a folder); an earlier `file` is then left as it was.
 */
export function writeFileAtomic(file: string, data: string | Uint8Array, write: WriteWhole = writeFileSync): void {
  const partial = partialName(file);
  try {
    write(partial, data);
    renameSync(partial, file);
  } catch (error) {
    try {
      rmSync(partial, { force: true });
    } catch {
      // Not ours to remove (a folder of that name): the error below names the file all the same.
    }
    throw writeError(file, error);
  }
}

/**
 * Writes each [file, text] with writeFileAtomic, in order; if one cannot be written, those written before it are
 * removed and its UsageError is thrown: a folder never holds a verdict without the report that goes with it.
 */
export function writeAllOrNone(files: readonly (readonly [string, string])[], write?: WriteWhole): void {
  const written: string[] = [];
  try {
    for (const [file, text] of files) {
      writeFileAtomic(file, text, write);
      written.push(file);
    }
  } catch (error) {
    for (const file of written) rmSync(file, { force: true });
    throw error;
  }
}
