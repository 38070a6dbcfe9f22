/**
 * The two steps between a downloaded package and files on disk: its sha256 (checked before anything is unpacked),
 * and the unpacking of chosen entries with yauzl, entry by entry from disk (a wheel is 250 MB: nothing is held in
 * memory whole). yauzl refuses entry names that are absolute or climb out with `..`.
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, mkdirSync } from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Transform } from 'node:stream';
import yauzl from 'yauzl';
import { describeError } from '../../../errors.js';

export interface FileDigest {
  readonly sha256: string;
  readonly sizeBytes: number;
}

export async function digestFile(file: string): Promise<FileDigest> {
  const hash = createHash('sha256');
  let sizeBytes = 0;
  for await (const chunk of createReadStream(file)) {
    hash.update(chunk as Buffer);
    sizeBytes += (chunk as Buffer).length;
  }
  return { sha256: hash.digest('hex'), sizeBytes };
}

export interface UnpackedEntry extends FileDigest {
  /** The entry's name in the archive (also its path below the target folder). */
  readonly entry: string;
}

/** Keeps exact names, and whole folders given as prefixes ending in `/`. */
export function entryMatches(entry: string, unpack: readonly string[]): boolean {
  return unpack.some((want) => (want.endsWith('/') ? entry.startsWith(want) : entry === want));
}

/**
 * Writes the entries that `unpack` names below `targetDir`, with the archive's permission bits (the .so files are
 * executable in a wheel), and returns each one's sha256 and size. A file that is not a readable zip, or an entry
 * that fails its CRC or size check, is an Error whose message names `label` (the URL).
 */
export async function unpackEntries(
  zipFile: string,
  targetDir: string,
  unpack: readonly string[],
  label: string,
): Promise<UnpackedEntry[]> {
  let zip: yauzl.ZipFile;
  try {
    zip = await yauzl.openPromise(zipFile, { lazyEntries: true, autoClose: true, strictFileNames: true });
  } catch (error) {
    throw new Error(`${label}: not a readable zip archive (${describeError(error)})`, { cause: error });
  }
  const written: UnpackedEntry[] = [];
  try {
    for await (const entry of zip.eachEntry()) {
      const name = entry.fileName;
      if (name.endsWith('/') || !entryMatches(name, unpack)) continue;
      const target = path.join(targetDir, name);
      mkdirSync(path.dirname(target), { recursive: true });
      const mode = (entry.externalFileAttributes >>> 16) & 0o777;
      const hash = createHash('sha256');
      let sizeBytes = 0;
      const tap = new Transform({
        transform(chunk: Buffer, _encoding, done) {
          hash.update(chunk);
          sizeBytes += chunk.length;
          done(null, chunk);
        },
      });
      await pipeline(
        await zip.openReadStreamPromise(entry),
        tap,
        createWriteStream(target, { mode: mode === 0 ? 0o644 : mode | 0o400 }),
      );
      written.push({ entry: name, sha256: hash.digest('hex'), sizeBytes });
    }
  } catch (error) {
    zip.close();
    throw new Error(`${label}: could not unpack (${describeError(error)})`, { cause: error });
  }
  return written;
}
