import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { errnoMeaning, UsageError } from '../../src/errors.js';
import { claimOutDir, LOCK_FILE, writeFileAtomic, type WriteWhole } from '../../src/out-dir.js';
import { writeRun } from '../../src/pipeline/4-write.js';
import { outputFiles, RUN_FILES } from '../../src/pipeline/options.js';
import { tempDir } from '../helpers/fixture.js';
import { validResults } from '../helpers/results.js';

/** A disk that fills up after `bytes`: the part that fitted is written, then ENOSPC, as write(2) does. */
function fullDiskAfter(bytes: number): WriteWhole {
  return (file, data) => {
    writeFileSync(file, typeof data === 'string' ? data.slice(0, bytes) : data.subarray(0, bytes));
    throw Object.assign(new Error(`ENOSPC: no space left on device, write`), { code: 'ENOSPC', errno: -28 });
  };
}

/** The UsageError `act` throws (fails the test if it throws nothing or something else). */
function usageErrorOf(act: () => unknown): UsageError {
  try {
    act();
  } catch (error) {
    expect(error).toBeInstanceOf(UsageError);
    return error as UsageError;
  }
  throw new Error('expected a UsageError; nothing was thrown');
}

describe('errnoMeaning', () => {
  it('words the codes a write meets, keeps the code, and falls back to what it was given', () => {
    expect(errnoMeaning(Object.assign(new Error('x'), { code: 'ENOSPC' }))).toBe('no space left on device (ENOSPC)');
    expect(errnoMeaning(Object.assign(new Error('x'), { code: 'EISDIR' }))).toBe('it is a folder (EISDIR)');
    expect(errnoMeaning(Object.assign(new Error('x'), { code: 'EWHATEVER' }))).toBe('EWHATEVER');
    expect(errnoMeaning(new Error('plain'))).toBe('plain');
  });
});

describe('writeFileAtomic: a file is written whole or not at all (issue 21)', () => {
  it('writes the file, and leaves nothing else beside it', () => {
    const dir = tempDir();
    const file = path.join(dir, 'report.md');
    writeFileAtomic(file, '# report\n');
    expect(readFileSync(file, 'utf8')).toBe('# report\n');
    expect(readdirSync(dir)).toEqual(['report.md']);
  });

  it('a full disk: no truncated file, the partial one removed, one line naming the path and the fault', () => {
    const dir = tempDir();
    const file = path.join(dir, 'report.html');
    const error = usageErrorOf(() => writeFileAtomic(file, 'x'.repeat(1000), fullDiskAfter(100)));
    expect(error.message).toBe(`cannot write ${file}: no space left on device (ENOSPC)`);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('a full disk leaves an earlier file as it was, not half replaced', () => {
    const dir = tempDir();
    const file = path.join(dir, 'results.json');
    writeFileSync(file, '{"old": true}\n');
    usageErrorOf(() => writeFileAtomic(file, '{"new": true}\n', fullDiskAfter(3)));
    expect(readFileSync(file, 'utf8')).toBe('{"old": true}\n');
    expect(readdirSync(dir)).toEqual(['results.json']);
  });

  it('a folder where the file goes: EISDIR in words, the folder untouched', () => {
    const dir = tempDir();
    const file = path.join(dir, 'report.html');
    mkdirSync(file);
    writeFileSync(path.join(file, 'inside'), 'kept');
    const error = usageErrorOf(() => writeFileAtomic(file, 'x'));
    expect(error.message).toMatch(new RegExp(`^cannot write ${file}: it is a folder \\((EISDIR|ENOTEMPTY)\\)$`));
    expect(readdirSync(dir)).toEqual(['report.html']);
    expect(readFileSync(path.join(file, 'inside'), 'utf8')).toBe('kept');
  });
});

describe('claimOutDir: an output name taken by a folder', () => {
  it('is refused before anything runs, naming it, and the lock is not left behind', () => {
    const out = path.join(tempDir(), 'out');
    mkdirSync(path.join(out, 'report.html'), { recursive: true });
    const error = usageErrorOf(() => claimOutDir(out, RUN_FILES));
    expect(error.message).toBe(
      `output folder ${out}: ${path.join(out, 'report.html')} is a folder, where this run writes its report.html: move or remove it`,
    );
    expect(existsSync(path.join(out, LOCK_FILE))).toBe(false);
  });

  it("clears an earlier run's files and the partial files a killed writer left, and nothing else", () => {
    const out = tempDir();
    for (const name of ['report.md', '.report.html.4242.partial', '.notes.txt.1.partial', 'notes.txt'])
      writeFileSync(path.join(out, name), 'old');
    const claim = claimOutDir(out, RUN_FILES);
    expect(readdirSync(out).sort()).toEqual(['.notes.txt.1.partial', LOCK_FILE, 'notes.txt']);
    claim.release();
    expect(existsSync(path.join(out, LOCK_FILE))).toBe(false);
  });
});

describe("writeRun: a run's files all, or none but the raw records", () => {
  it('writes every output file', () => {
    const files = outputFiles(tempDir());
    writeFileSync(files.raw, '{"kind":"run"}\n');
    writeRun(validResults(), undefined, files);
    for (const file of Object.values(files)) expect(existsSync(file), file).toBe(true);
  });

  it('a full disk at report.html: the files written before it go too, results.jsonl stays, and the error says so', () => {
    const files = outputFiles(tempDir());
    writeFileSync(files.raw, '{"kind":"run"}\n{"kind":"run"}\n');
    const real: WriteWhole = (file, data) => writeFileSync(file, data);
    const failAtHtml: WriteWhole = (file, data) =>
      (file.includes('report.html') ? fullDiskAfter(10) : real)(file, data);
    const error = usageErrorOf(() => writeRun(validResults(), undefined, files, failAtHtml));
    expect(error.message).toBe(
      `cannot write ${files.html}: no space left on device (ENOSPC); ${files.raw} keeps the 2 raw records measured ` +
        '(no report, no verdict: they were not written)',
    );
    expect(readdirSync(path.dirname(files.raw))).toEqual(['results.jsonl']);
  });
});
