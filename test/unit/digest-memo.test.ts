import { createHash } from 'node:crypto';
import { readFileSync, renameSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { digestMemo, MEMO_MAX_ENTRIES, RACY_MS } from '../../src/cache/digest-memo.js';
import { tempDir } from '../helpers/fixture.js';

const sha = (text: string): string => createHash('sha256').update(text).digest('hex');
/** A digest no file here has: returned only if the memo was trusted. */
const PLANTED = 'f'.repeat(64);

function setup(minBytes = 1) {
  const dir = tempDir();
  const memoFile = path.join(dir, 'cache', 'file-digests.json');
  const file = path.join(dir, 'weights.bin');
  writeFileSync(file, 'weights A');
  // Hashed "later" than RACY_MS after the write, unless a test says otherwise.
  const later = (): number => Date.now() + RACY_MS + 1000;
  const memo = (now: () => number = later) => digestMemo({ file: memoFile, minBytes, now });
  const entries = (): Record<string, { sha256: string }> =>
    (JSON.parse(readFileSync(memoFile, 'utf8')) as { entries: Record<string, { sha256: string }> }).entries;
  /** Puts a digest into the memo by hand, to see whether the next call reads the file or the memo. */
  const plant = (): void => {
    const data = JSON.parse(readFileSync(memoFile, 'utf8')) as { entries: Record<string, { sha256: string }> };
    data.entries[file]!.sha256 = PLANTED;
    writeFileSync(memoFile, JSON.stringify(data));
  };
  return { dir, memoFile, file, memo, entries, plant };
}

describe('digestMemo: large files hashed once while their stat is unchanged', () => {
  it('an unchanged file: the second call answers from the memo without reading the file', async () => {
    const t = setup();
    expect(await t.memo()(t.file)).toBe(sha('weights A'));
    expect(t.entries()[t.file]?.sha256).toBe(sha('weights A'));
    t.plant();
    expect(await t.memo()(t.file)).toBe(PLANTED);
  });

  it('rewritten in place with the same size and its mtime set back: ctime changed, so the file is read again', async () => {
    const t = setup();
    await t.memo()(t.file);
    t.plant();
    const { atime, mtime } = statSync(t.file);
    writeFileSync(t.file, 'weights B'); // same length
    utimesSync(t.file, atime, mtime); // as cp -p or rsync -t would leave it
    expect(await t.memo()(t.file)).toBe(sha('weights B'));
    expect(t.entries()[t.file]?.sha256).toBe(sha('weights B'));
  });

  it('replaced by another file renamed over it: a new inode, so the file is read again', async () => {
    const t = setup();
    await t.memo()(t.file);
    t.plant();
    const other = path.join(t.dir, 'other.bin');
    writeFileSync(other, 'weights C');
    const { atime, mtime } = statSync(t.file);
    utimesSync(other, atime, mtime);
    renameSync(other, t.file);
    expect(await t.memo()(t.file)).toBe(sha('weights C'));
  });

  it('a file changed moments before it was hashed is not remembered (racy), one changed long before is', async () => {
    const t = setup();
    expect(await t.memo(Date.now)(t.file)).toBe(sha('weights A'));
    expect(() => readFileSync(t.memoFile)).toThrow(); // nothing written
    await t.memo()(t.file);
    expect(t.entries()[t.file]?.sha256).toBe(sha('weights A'));
  });

  it('files below minBytes are hashed every time and never remembered', async () => {
    const t = setup(1024);
    expect(await t.memo()(t.file)).toBe(sha('weights A'));
    expect(() => readFileSync(t.memoFile)).toThrow();
  });

  it('a damaged memo file is ignored and replaced; an unwritable one only costs the hashing', async () => {
    const t = setup();
    await t.memo()(t.file);
    writeFileSync(t.memoFile, '{"version":1,"entries":{"x": 3');
    expect(await t.memo()(t.file)).toBe(sha('weights A'));
    expect(t.entries()[t.file]?.sha256).toBe(sha('weights A'));
    // A memo "folder" that is a file: nothing can be written under it.
    const blocked = digestMemo({ file: path.join(t.file, 'memo.json'), minBytes: 1, now: () => Date.now() + 1e6 });
    expect(await blocked(t.file)).toBe(sha('weights A'));
  });

  it('a missing file fails as plain hashing does', async () => {
    const t = setup();
    await expect(t.memo()(path.join(t.dir, 'nope.bin'))).rejects.toThrow(/ENOENT/);
  });

  it(`keeps at most ${MEMO_MAX_ENTRIES} entries, the most recently used`, async () => {
    const t = setup();
    await t.memo()(t.file);
    const data = JSON.parse(readFileSync(t.memoFile, 'utf8')) as { entries: Record<string, unknown> };
    const old = { dev: '1', ino: '1', size: '1', mtimeNs: '1', ctimeNs: '1', sha256: sha('x'), usedAt: 1 };
    for (let i = 0; i < MEMO_MAX_ENTRIES + 50; i++) data.entries[`/gone/${i}`] = old;
    writeFileSync(t.memoFile, JSON.stringify(data));
    await t.memo()(t.file);
    const kept = t.entries();
    expect(Object.keys(kept)).toHaveLength(MEMO_MAX_ENTRIES);
    expect(kept[t.file]?.sha256).toBe(sha('weights A'));
  });
});
