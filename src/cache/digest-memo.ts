/**
 * sha256 of large model files, remembered by their stat: a run whose checkpoint or ONNX file has not changed since
 * the last run does not read gigabytes again just to learn that (the export key, the engine key and results.json's
 * model hash all start from these digests). Only the inputs the user names go through here; the artifact store still
 * checks every cached artifact's sha256 on every hit (store.ts), since that check is what finds a damaged file.
 *
 * An entry is trusted only while the file's device, inode, size, mtime and ctime are all unchanged: any write, and a
 * rename over it, changes ctime or the inode, and ctime cannot be set back by a user (unlike mtime: `touch -d`,
 * `cp -p`, `rsync -t`). As git does with its index, a file changed less than RACY_MS before it was hashed is not
 * remembered: a second change within the filesystem's timestamp granularity could leave every field equal.
 *
 * The memo is a cache: a memo file that cannot be read or written changes nothing but the time a run takes.
 */
import { createHash } from 'node:crypto';
import { createReadStream, mkdirSync, readFileSync, statSync, type BigIntStats } from 'node:fs';
import path from 'node:path';
import { systemClock, type Clock } from '../clock.js';
import { writeFileAtomic } from '../out-dir.js';

/** A function that gives a file's sha256 hex; sha256File reads the whole file. */
export type Sha256Of = (file: string) => Promise<string>;

export async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Below this a file hashes in well under a tenth of a second: remembering it saves nothing. */
export const MEMO_MIN_BYTES = 64 * 2 ** 20;
/** A file changed this recently when hashed is not remembered (see the header). */
export const RACY_MS = 2000;
/** Entries kept, most recently used first: far more model files than one machine's jobs name. */
export const MEMO_MAX_ENTRIES = 512;

interface Entry {
  readonly dev: string;
  readonly ino: string;
  readonly size: string;
  readonly mtimeNs: string;
  readonly ctimeNs: string;
  readonly sha256: string;
  readonly usedAt: number;
}

const VERSION = 1;

function identity(stat: BigIntStats): Omit<Entry, 'sha256' | 'usedAt'> {
  return {
    dev: String(stat.dev),
    ino: String(stat.ino),
    size: String(stat.size),
    mtimeNs: String(stat.mtimeNs),
    ctimeNs: String(stat.ctimeNs),
  };
}

function sameIdentity(a: Omit<Entry, 'sha256' | 'usedAt'>, b: Omit<Entry, 'sha256' | 'usedAt'>): boolean {
  return a.dev === b.dev && a.ino === b.ino && a.size === b.size && a.mtimeNs === b.mtimeNs && a.ctimeNs === b.ctimeNs;
}

export interface DigestMemoOptions {
  /** The memo's JSON file (the artifact cache keeps it at its root: pipeline/1-prepare.ts). */
  readonly file: string;
  readonly minBytes?: number;
  /**
   * The system clock (default): a file changed within RACY_MS of now is not remembered, and "now" must be the clock
   * the kernel stamps ctimes with, never a pinned calendar (clock.ts). Tests move it to make a file look settled.
   */
  readonly now?: Clock;
}

/** A Sha256Of that remembers large files' digests in `options.file`. */
export function digestMemo(options: DigestMemoOptions): Sha256Of {
  const minBytes = options.minBytes ?? MEMO_MIN_BYTES;
  const now = options.now ?? systemClock;
  return async (file: string): Promise<string> => {
    let before: BigIntStats;
    try {
      before = statSync(file, { bigint: true });
    } catch {
      return sha256File(file); // its own error, as an unmemoized hash gives it
    }
    if (!before.isFile() || before.size < BigInt(minBytes)) return sha256File(file);
    const key = path.resolve(file);
    const entries = readMemo(options.file);
    const known = entries[key];
    if (known && sameIdentity(known, identity(before))) {
      writeMemo(options.file, { ...entries, [key]: { ...known, usedAt: now() } });
      return known.sha256;
    }
    const sha256 = await sha256File(file);
    const after = statSync(file, { bigint: true });
    const changedWhileRead = !sameIdentity(identity(before), identity(after));
    const racy = Number(after.ctimeNs / 1_000_000n) > now() - RACY_MS;
    if (!changedWhileRead && !racy) {
      writeMemo(options.file, { ...entries, [key]: { ...identity(after), sha256, usedAt: now() } });
    }
    return sha256;
  };
}

function readMemo(file: string): Record<string, Entry> {
  try {
    const data = JSON.parse(readFileSync(file, 'utf8')) as { version?: unknown; entries?: unknown };
    if (data.version !== VERSION || typeof data.entries !== 'object' || data.entries === null) return {};
    const entries: Record<string, Entry> = {};
    for (const [key, value] of Object.entries(data.entries as Record<string, unknown>)) {
      if (isEntry(value)) entries[key] = value;
    }
    return entries;
  } catch {
    return {}; // none yet, or unreadable: every file is hashed
  }
}

function isEntry(value: unknown): value is Entry {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return (
    ['dev', 'ino', 'size', 'mtimeNs', 'ctimeNs'].every((k) => typeof v[k] === 'string') &&
    typeof v.sha256 === 'string' &&
    /^[0-9a-f]{64}$/.test(v.sha256) &&
    typeof v.usedAt === 'number'
  );
}

/** Written whole (writeFileAtomic): a reader never sees half a memo; two writers lose an entry. */
function writeMemo(file: string, entries: Record<string, Entry>): void {
  const kept = Object.entries(entries)
    .sort((a, b) => b[1].usedAt - a[1].usedAt)
    .slice(0, MEMO_MAX_ENTRIES);
  try {
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileAtomic(file, `${JSON.stringify({ version: VERSION, entries: Object.fromEntries(kept) })}\n`);
  } catch {
    // A read-only or full disk, or no folder there: the next run hashes again.
  }
}
