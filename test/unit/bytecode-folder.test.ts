import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { moduleNameOf, pruneOrphanBytecode, sourcesOf } from '../../src/cache/bytecode-folder.js';
import { tempDir } from '../helpers/fixture.js';

describe('the byte code folder (sys.pycache_prefix layout)', () => {
  it.each([
    ['m.cpython-311.pyc', 'm'],
    ['m.cpython-312.opt-1.pyc', 'm'],
    ['__init__.cpython-311.opt-2.pyc', '__init__'],
    ['m.pypy310.pyc', 'm'],
    ['m.cpython-313t.pyc', 'm'],
    ['m.pyc', null],
    ['notes.txt', null],
  ])('%s is byte code of module %s', (file, name) => {
    expect(moduleNameOf(file)).toBe(name);
  });

  it("reads a byte code file's source back from the prefix, a drive first on Windows", () => {
    expect(sourcesOf('/c/bc', '/c/bc/venv/lib/m.cpython-311.pyc', 'linux')).toEqual([
      '/venv/lib/m.py',
      '/venv/lib/m.pyw',
    ]);
    expect(sourcesOf('/c/bc', '/c/bc/venv/notes.txt', 'linux')).toEqual([]);
    const [windows] = sourcesOf('/c/bc', '/c/bc/C/env/m.cpython-311.pyc', 'win32');
    expect(windows).toMatch(/^C:[\\/]+env[\\/]m\.py$/);
  });

  it('removes the byte code of sources that are gone and the folders left empty; keeps what a source still has', () => {
    const folder = tempDir();
    const env = tempDir(); // a live environment's package folder
    writeFileSync(path.join(env, 'kept.py'), 'x = 1\n');
    writeFileSync(path.join(env, 'script.pyw'), 'x = 1\n');
    const mirror = (dir: string) => path.join(folder, dir);
    const put = (file: string, bytes: number) => {
      mkdirSync(path.dirname(file), { recursive: true });
      writeFileSync(file, Buffer.alloc(bytes));
    };
    put(path.join(mirror(env), 'kept.cpython-311.pyc'), 10);
    put(path.join(mirror(env), 'kept.cpython-312.opt-1.pyc'), 20);
    put(path.join(mirror(env), 'script.cpython-311.pyc'), 30);
    put(path.join(mirror(env), 'removed-from-package.cpython-311.pyc'), 40);
    put(path.join(mirror(env), 'notes.txt'), 50);
    // A deleted job's virtual environment: the whole mirrored tree goes.
    const gone = path.join(env, 'deleted-venv', 'lib', 'python3.11', 'site-packages', 'torch');
    put(path.join(mirror(gone), '__init__.cpython-311.pyc'), 100);
    put(path.join(mirror(gone), 'nn', 'functional.cpython-311.pyc'), 200);

    const pruned = pruneOrphanBytecode(folder);

    expect(pruned).toEqual({ folder, files: 3, bytes: 340 });
    for (const file of ['kept.cpython-311.pyc', 'kept.cpython-312.opt-1.pyc', 'script.cpython-311.pyc', 'notes.txt'])
      expect(existsSync(path.join(mirror(env), file))).toBe(true);
    expect(existsSync(path.join(mirror(env), 'removed-from-package.cpython-311.pyc'))).toBe(false);
    expect(existsSync(mirror(path.join(env, 'deleted-venv')))).toBe(false);
    expect(existsSync(folder)).toBe(true);
    expect(pruneOrphanBytecode(folder)).toEqual({ folder, files: 0, bytes: 0 });
  });

  it('a folder that does not exist prunes nothing', () => {
    const folder = path.join(tempDir(), 'none');
    expect(pruneOrphanBytecode(folder)).toEqual({ folder, files: 0, bytes: 0 });
    expect(existsSync(folder)).toBe(false);
  });
});
