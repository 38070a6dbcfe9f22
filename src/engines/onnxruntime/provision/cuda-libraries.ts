/**
 * Finds the CUDA libraries ONNX Runtime's GPU providers load (cuBLAS, cuDNN, the CUDA runtime, the driver's
 * libcuda, TensorRT), in the places a runner keeps them: LD_LIBRARY_PATH, the ld.so cache (`ldconfig -p`),
 * CUDA_PATH / CUDA_HOME, /usr/local/cuda, and the pip `nvidia-*` packages of a Python (torch installs those).
 * A pure search over listed folders, and a thin layer that lists them.
 */
import { execFile, execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { libraryHint, type CudaMajor } from './pins.js';

/** Where a library was found. The first two are where the dynamic loader looks by itself. */
export type LibraryOrigin = 'LD_LIBRARY_PATH' | 'ld.so cache' | 'CUDA_PATH' | 'CUDA_HOME' | '/usr/local/cuda' | 'pip';
const LOADER_ORIGINS: ReadonlySet<LibraryOrigin> = new Set(['LD_LIBRARY_PATH', 'ld.so cache']);

export interface LibraryPlace {
  readonly dir: string;
  readonly origin: LibraryOrigin;
  /** The file names in the folder. */
  readonly files: ReadonlySet<string>;
}

export interface FoundLibrary {
  readonly lib: string;
  readonly path: string;
  readonly origin: LibraryOrigin;
}

export interface CudaLibrarySearch {
  readonly found: readonly FoundLibrary[];
  readonly missing: readonly string[];
  /** Folders of found libraries that the loader would not search by itself: what LD_LIBRARY_PATH needs. */
  readonly libraryDirs: readonly string[];
}

/** Pure: the first place (in the order given, the ld.so cache after LD_LIBRARY_PATH) that holds each library. */
export function searchCudaLibraries(
  needed: readonly string[],
  places: readonly LibraryPlace[],
  ldCache: ReadonlyMap<string, string>,
): CudaLibrarySearch {
  const loaderFirst = places.filter((p) => p.origin === 'LD_LIBRARY_PATH');
  const others = places.filter((p) => p.origin !== 'LD_LIBRARY_PATH');
  const found: FoundLibrary[] = [];
  const missing: string[] = [];
  for (const lib of needed) {
    const inPath = loaderFirst.find((p) => p.files.has(lib));
    const cached = ldCache.get(lib);
    const other = others.find((p) => p.files.has(lib));
    if (inPath) found.push({ lib, path: path.join(inPath.dir, lib), origin: inPath.origin });
    else if (cached !== undefined) found.push({ lib, path: cached, origin: 'ld.so cache' });
    else if (other) found.push({ lib, path: path.join(other.dir, lib), origin: other.origin });
    else missing.push(lib);
  }
  const libraryDirs = [...new Set(found.filter((f) => !LOADER_ORIGINS.has(f.origin)).map((f) => path.dirname(f.path)))];
  return { found, missing, libraryDirs };
}

/** `ldconfig -p` → library name → path, for this architecture's entries only (the cache lists 32-bit ones too). */
export function parseLdconfig(text: string, arch: string = process.arch): Map<string, string> {
  const want = arch === 'arm64' ? 'AArch64' : arch === 'x64' ? 'x86-64' : undefined;
  const libraries = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^\s+(\S+)\s+\(([^)]*)\)\s+=>\s+(\S.*)$/.exec(line);
    if (!m) continue;
    const [, name = '', flags = '', file = ''] = m;
    if (want && !flags.includes(want)) continue;
    // The first entry of a name is the one the loader takes.
    if (!libraries.has(name)) libraries.set(name, file.trim());
  }
  return libraries;
}

/** "libcudnn.so.9 (pip install nvidia-cudnn-cu13, or cuDNN 9 for CUDA 13), …" */
export function missingLibrariesText(missing: readonly string[], cudaMajor: CudaMajor): string {
  return missing.map((lib) => `${lib} (${libraryHint(lib, cudaMajor)})`).join(', ');
}

// ---- I/O: list the places ----

function listDir(dir: string): ReadonlySet<string> | undefined {
  try {
    return new Set(readdirSync(dir));
  } catch {
    return undefined;
  }
}

function place(dir: string, origin: LibraryOrigin): LibraryPlace | undefined {
  const files = listDir(dir);
  return files ? { dir: path.resolve(dir), origin, files } : undefined;
}

/** The folders to search, in order; folders that do not exist are left out. pipDirs: see nvidiaPipLibraryDirs. */
export function cudaLibraryPlaces(
  env: NodeJS.ProcessEnv,
  pipDirs: readonly string[] = [],
  loaderOnly = false,
): LibraryPlace[] {
  const candidates: [string, LibraryOrigin][] = (env.LD_LIBRARY_PATH ?? '')
    .split(path.delimiter)
    .filter((d) => d !== '')
    .map((d) => [d, 'LD_LIBRARY_PATH']);
  if (!loaderOnly) {
    if (env.CUDA_PATH) candidates.push([path.join(env.CUDA_PATH, 'lib64'), 'CUDA_PATH']);
    if (env.CUDA_HOME) candidates.push([path.join(env.CUDA_HOME, 'lib64'), 'CUDA_HOME']);
    candidates.push(['/usr/local/cuda/lib64', '/usr/local/cuda']);
    for (const dir of pipDirs) candidates.push([dir, 'pip']);
  }
  return candidates.map(([dir, origin]) => place(dir, origin)).filter((p): p is LibraryPlace => p !== undefined);
}

let ldCache: Map<string, string> | undefined;

/** The ld.so cache, read once per process (ldconfig is in /sbin, not always on a user's PATH). */
export function readLdCache(): ReadonlyMap<string, string> {
  if (ldCache) return ldCache;
  for (const command of ['ldconfig', '/sbin/ldconfig', '/usr/sbin/ldconfig']) {
    try {
      const text = execFileSync(command, ['-p'], {
        encoding: 'utf8',
        timeout: 15_000,
        stdio: ['ignore', 'pipe', 'ignore'],
        maxBuffer: 64 * 2 ** 20,
      });
      ldCache = parseLdconfig(text);
      return ldCache;
    } catch {
      // next candidate
    }
  }
  ldCache = new Map();
  return ldCache;
}

export interface FindCudaOptions {
  readonly env?: NodeJS.ProcessEnv;
  /** `lib` folders of the worker Python's pip nvidia-* packages (nvidiaPipLibraryDirs). */
  readonly pipDirs?: readonly string[];
  /** Only where the loader looks by itself (LD_LIBRARY_PATH, ld.so cache): what a worker started now would find. */
  readonly loaderOnly?: boolean;
  readonly ldCache?: ReadonlyMap<string, string>;
}

export function findCudaLibraries(needed: readonly string[], options: FindCudaOptions = {}): CudaLibrarySearch {
  const env = options.env ?? process.env;
  return searchCudaLibraries(
    needed,
    cudaLibraryPlaces(env, options.pipDirs ?? [], options.loaderOnly ?? false),
    options.ldCache ?? readLdCache(),
  );
}

/** What one call of the worker's Python says: its wheel tag and where its `nvidia` namespace package lives. */
export interface PythonFacts {
  /** `cp312`, or `cp313t` for a free-threaded build. */
  readonly tag: string;
  readonly nvidiaDirs: readonly string[];
}

const FACTS_SCRIPT = [
  'import json, sys, sysconfig',
  'tag = "cp%d%d%s" % (sys.version_info[0], sys.version_info[1], "t" if sysconfig.get_config_var("Py_GIL_DISABLED") else "")',
  'try:',
  '    import nvidia',
  '    dirs = [str(p) for p in nvidia.__path__]',
  'except Exception:',
  '    dirs = []',
  'print(json.dumps({"tag": tag, "nvidiaDirs": dirs}))',
].join('\n');

/** Asks the Python; a Python that does not answer is a clear error naming it. */
export function pythonFacts(python: string): Promise<PythonFacts> {
  return new Promise((resolve, reject) => {
    execFile(python, ['-c', FACTS_SCRIPT], { encoding: 'utf8', timeout: 60_000 }, (error, stdout, stderr) => {
      if (error) {
        reject(new Error(`${python} -c …: ${stderr.trim().split('\n').pop() ?? ''} (${error.message.split('\n')[0]})`));
        return;
      }
      try {
        const facts = JSON.parse(stdout.trim().split('\n').pop() ?? '') as PythonFacts;
        if (typeof facts.tag !== 'string' || !Array.isArray(facts.nvidiaDirs)) throw new Error('unexpected answer');
        resolve(facts);
      } catch {
        reject(new Error(`${python}: could not read its version (got ${JSON.stringify(stdout.slice(0, 200))})`));
      }
    });
  });
}

/**
 * Every `lib` folder one level below the nvidia namespace package: `nvidia/cu13/lib` and `nvidia/cudnn/lib` for
 * CUDA 13's wheels, `nvidia/cublas/lib`, `nvidia/cuda_runtime/lib`, … for CUDA 12's.
 */
export function nvidiaPipLibraryDirs(nvidiaDirs: readonly string[]): string[] {
  const dirs: string[] = [];
  for (const root of nvidiaDirs) {
    for (const name of [...(listDir(root) ?? [])].sort()) {
      const lib = path.join(root, name, 'lib');
      if (listDir(lib)) dirs.push(lib);
    }
  }
  return dirs;
}
