/**
 * The Python workers' byte code folder (`.python-bytecode` in the artifact cache, tr118_native/worker/bytecode.py):
 * what `tr118 cache prune` may take out of it. The folder is Python's `sys.pycache_prefix` layout: a source's byte
 * code lies at the prefix followed by the source's own absolute folder, `<folder>/a/b/m.cpython-311.pyc` for
 * `/a/b/m.py`. A source rewritten in place (a package upgraded in the same environment) rewrites its byte code at the
 * same path; an environment made at a new path (a virtual environment per job in the runner's temp folder, a Python
 * upgrade) adds a whole tree, which nothing removes when that environment is deleted. Those orphans are what prune
 * removes: byte code whose source is gone. Byte code of a source that exists stays, whatever its age.
 */
import { existsSync, readdirSync, rmdirSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';

/** What a prune of the byte code folder removed. */
export interface BytecodePruned {
  folder: string;
  files: number;
  bytes: number;
}

/**
 * `m.cpython-311.pyc`, `m.cpython-311.opt-1.pyc` and a free-threaded build's `m.cpython-313t.pyc` → `m`
 * (importlib.util.source_from_cache's rule: the name is the part before the interpreter's tag). Null for a file that
 * is not byte code of that form.
 */
export function moduleNameOf(file: string): string | null {
  const match = /^(.+?)\.[a-z]+-?\d+[a-z]?(?:\.opt-\d+)?\.pyc$/.exec(file);
  return match ? match[1]! : null;
}

/**
 * The source a byte code file stands for: the folder's relative path, read as an absolute one. On Windows the
 * prefix's first segment is the drive (Python drops the colon). Python also compiles `m.pyw`; either source keeps it.
 */
export function sourcesOf(folder: string, pycFile: string, platform: NodeJS.Platform = process.platform): string[] {
  const name = moduleNameOf(path.basename(pycFile));
  if (name === null) return [];
  const relative = path.relative(folder, path.dirname(pycFile));
  const [first, ...rest] = relative.split(path.sep);
  const dir = platform === 'win32' && first ? path.join(`${first}:\\`, ...rest) : path.join(path.sep, relative);
  return [path.join(dir, `${name}.py`), path.join(dir, `${name}.pyw`)];
}

/** Removes the folder's byte code whose source is gone, then the folders left empty. A missing folder: nothing. */
export function pruneOrphanBytecode(
  folder: string,
  sourceExists: (file: string) => boolean = existsSync,
): BytecodePruned {
  const pruned: BytecodePruned = { folder, files: 0, bytes: 0 };
  const walk = (dir: string): boolean => {
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return false;
    }
    let left = entries.length;
    for (const entry of entries) {
      const file = path.join(dir, entry.name);
      if (entry.isDirectory()) {
        if (walk(file)) left--;
        continue;
      }
      const sources = sourcesOf(folder, file);
      // Not byte code of the prefix's form (a file someone put here): left alone.
      if (sources.length === 0 || sources.some(sourceExists)) continue;
      let size = 0;
      try {
        size = statSync(file).size;
        rmSync(file);
      } catch {
        continue; // Removed by another prune meanwhile, or not ours to remove: it stays counted as left.
      }
      pruned.files++;
      pruned.bytes += size;
      left--;
    }
    if (left > 0 || dir === folder) return false;
    try {
      rmdirSync(dir);
      return true;
    } catch {
      return false; // A worker wrote into it meanwhile.
    }
  };
  walk(folder);
  return pruned;
}
