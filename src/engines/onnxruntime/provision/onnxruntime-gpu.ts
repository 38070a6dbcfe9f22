/**
 * ONNX Runtime's CUDA and TensorRT providers for onnxruntime-node (and the Python worker), provisioned without
 * NuGet: the same-version package (pins.ts) is downloaded, its sha256 checked against the pin **before** anything is
 * unpacked, the needed entries unpacked into the tool cache (`tr118-onnxruntime-gpu/<version>/<variant>`, kept in
 * the Actions cache with `cache: actions`), and the three provider libraries copied next to onnxruntime-node's
 * libonnxruntime.so.1, which is where ONNX Runtime loads them from (what onnxruntime-node's own installer does).
 * The CUDA libraries they need are searched (cuda-libraries.ts) and their folders put on LD_LIBRARY_PATH for the
 * workers; the unpacked wheel goes on the Python worker's PYTHONPATH through TR118_ORT_GPU_PYTHONPATH.
 *
 * `tr118 provision` and the Action call provisionOrtGpu; `tr118 run` in a later process calls activateOrtGpu, which
 * needs no network: it reads the record provisioning left in the binding folder (gpu-record.ts).
 */
import {
  accessSync,
  constants,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ortBindingDir } from '../availability.js';
import { ORT_PACKAGE_ENV, ortPackageDir } from '../runtime.js';
import { findPython } from '../../../backends/native-worker.js';
import { describeError, UsageError } from '../../../errors.js';
import {
  findCudaLibraries,
  missingLibrariesText,
  nvidiaPipLibraryDirs,
  pythonFacts,
  type CudaLibrarySearch,
  type PythonFacts,
} from './cuda-libraries.js';
import { ORT_GPU_PYTHONPATH_ENV, readOrtGpuRecord, writeOrtGpuRecord, type OrtGpuRecord } from './gpu-record.js';

export { ORT_GPU_PYTHONPATH_ENV };
import { probeNvidiaGpu, parseDriverCudaVersion, type NvidiaGpuProbe } from './nvidia-gpu.js';
import {
  cudaLibraryNeeds,
  FALLBACK_PYTHON_TAG,
  ORT_GPU_PINS,
  PROVIDER_LIBRARIES,
  type CudaMajor,
  type OrtGpuMode,
  type OrtGpuPackagePin,
  type OrtGpuPins,
} from './pins.js';
import { downloadFile, mirrorBaseUrl } from './download.js';
import { digestFile, unpackEntries } from './zip-archive.js';

/** PyPI's files host, or a mirror of it (same `packages/…` paths; a file:// folder may also be flat). */
export const PYPI_FILES_ENV = 'TR118_PYPI_FILES';
export const DEFAULT_PYPI_FILES = 'https://files.pythonhosted.org';
/** NuGet's flat container (PackageBaseAddress), or a mirror of it. */
export const NUGET_FLAT_ENV = 'TR118_NUGET_FLAT';
export const DEFAULT_NUGET_FLAT = 'https://api.nuget.org/v3-flatcontainer';
/** The sha256 the user pins for the CUDA 12 NuGet package (the project cannot: nuget.org was unreachable). */
export const CUDA12_SHA256_ENV = 'TR118_ORT_CUDA12_SHA256';
/** Forces the CUDA major version (12 or 13) instead of reading the driver's from nvidia-smi. */
export const ORT_GPU_CUDA_ENV = 'TR118_ORT_GPU_CUDA';
export const ORT_GPU_TOOL = 'tr118-onnxruntime-gpu';

/** Where provision-onnxruntime.ts keeps its tool cache too when not on a runner. */
export function toolCacheRoot(env: NodeJS.ProcessEnv): string {
  return env.RUNNER_TOOL_CACHE || path.join(os.homedir(), '.cache', 'tr118', 'tool-cache');
}

/** @actions/tool-cache's layout (`<tool>/<version>/<arch>` + a `.complete` marker): tc.find sees our entries. */
export function toolCacheEntry(env: NodeJS.ProcessEnv, version: string, variant: string): string {
  return path.join(toolCacheRoot(env), ORT_GPU_TOOL, version, variant);
}

/** Folders kept under a key somewhere that outlives the machine (the GitHub Actions cache, handed in by src/action). */
export interface FolderCache {
  /** Whether the folders were restored. */
  restore(paths: readonly string[], key: string): Promise<boolean>;
  /** Whether they were saved (false: another job saves the same key). */
  save(paths: readonly string[], key: string): Promise<boolean>;
}

export function actionsCacheKey(version: string, variant: string, sha256: string): string {
  return `${ORT_GPU_TOOL}/${version}/${variant}/${sha256.slice(0, 16)}`;
}

/** The CUDA major version to provision for: forced, else the driver's (12.x → 12, 13.x and later → 13). */
export function chooseCudaMajor(forced: CudaMajor | undefined, gpu: NvidiaGpuProbe): CudaMajor {
  if (forced) return forced;
  if (!gpu.present) {
    throw new UsageError(
      `no NVIDIA GPU on this machine (${gpu.note}): nothing to provision for; give --cuda 12|13 ` +
        `(${ORT_GPU_CUDA_ENV}, Action input onnxruntime-gpu: cuda12|cuda13) to provision anyway`,
    );
  }
  const version = gpu.driverCudaVersion ? parseDriverCudaVersion(`CUDA Version: ${gpu.driverCudaVersion}`) : undefined;
  if (!version) {
    throw new UsageError(
      `could not read the driver's CUDA version (${gpu.note}); give --cuda 12|13 (${ORT_GPU_CUDA_ENV}) to choose`,
    );
  }
  if (version.major < 12) {
    throw new UsageError(
      `the NVIDIA driver runs CUDA ${gpu.driverCudaVersion}; ONNX Runtime's GPU providers need CUDA 12 or 13: update the driver`,
    );
  }
  return version.major >= 13 ? 13 : 12;
}

export function parseCudaMajor(value: string, source: string): CudaMajor {
  const trimmed = value.trim().replace(/^cuda/, '');
  if (trimmed === '12' || trimmed === '13') return Number(trimmed) as CudaMajor;
  throw new UsageError(`${source}: expected 12 or 13; got ${JSON.stringify(value)}`);
}

export interface PackageChoice {
  readonly pin: OrtGpuPackagePin;
  /** The sha256 to check: the project's pin, or the user's for NuGet. */
  readonly sha256: string;
  /** The wheel's Python package matches the worker's Python (else only the provider libraries are used). */
  readonly pythonUsable: boolean;
  readonly note: string | undefined;
}

/** Pure: which pinned package to fetch for this CUDA major, architecture and worker Python. */
export function choosePackage(
  pins: OrtGpuPins,
  cudaMajor: CudaMajor,
  arch: string,
  pythonTag: string | undefined,
  userCuda12Sha256: string | undefined,
): PackageChoice {
  if (cudaMajor === 12) {
    const pin = pins.packages.find((p) => p.kind === 'nupkg' && p.arch === arch);
    if (!pin) throw new UsageError(`ONNX Runtime publishes no CUDA 12 GPU package for linux-${arch} on NuGet`);
    const sha256 = pin.sha256 ?? userCuda12Sha256?.trim().toLowerCase();
    if (!sha256) {
      throw new UsageError(
        `the CUDA 12 provider package (${pin.fileName}, NuGet) has no sha256 pinned by tr118: nuget.org was ` +
          'unreachable when this version was made, and a hash first seen at download time would prove nothing. ' +
          `Pin the one you trust in ${CUDA12_SHA256_ENV} (Action input onnxruntime-cuda12-sha256), or use CUDA 13 (--cuda 13)`,
      );
    }
    if (!/^[0-9a-f]{64}$/.test(sha256)) {
      throw new UsageError(`${CUDA12_SHA256_ENV}: expected a sha256 (64 hex digits); got ${JSON.stringify(sha256)}`);
    }
    return { pin, sha256, pythonUsable: false, note: 'the NuGet package has no Python module' };
  }
  const wheels = pins.packages.filter((p) => p.kind === 'wheel' && p.arch === arch);
  if (wheels.length === 0) throw new UsageError(`onnxruntime-gpu ${pins.version} has no wheel for linux-${arch}`);
  const exact = pythonTag === undefined ? undefined : wheels.find((p) => p.pythonTag === pythonTag);
  const pin = exact ?? wheels.find((p) => p.pythonTag === FALLBACK_PYTHON_TAG) ?? wheels[0]!;
  const note = exact
    ? undefined
    : pythonTag === undefined
      ? `no Python for the worker: the ${pin.pythonTag} wheel gives the provider libraries for Node only`
      : `onnxruntime-gpu ${pins.version} has no wheel for ${pythonTag}: the ${pin.pythonTag} wheel gives the provider libraries for Node only`;
  return { pin, sha256: pin.sha256!, pythonUsable: exact !== undefined, note };
}

/** The mirror variables' base URLs, checked (mirrorBaseUrl): a value that is no URL stops provisioning at once. */
function mirrorBases(env: NodeJS.ProcessEnv): Record<OrtGpuPackagePin['kind'], string> {
  return {
    wheel: mirrorBaseUrl(PYPI_FILES_ENV, env[PYPI_FILES_ENV] || DEFAULT_PYPI_FILES, { file: true }),
    nupkg: mirrorBaseUrl(NUGET_FLAT_ENV, env[NUGET_FLAT_ENV] || DEFAULT_NUGET_FLAT, { file: true }),
  };
}

export function packageUrl(pin: OrtGpuPackagePin, env: NodeJS.ProcessEnv): string {
  return `${mirrorBases(env)[pin.kind]}/${pin.urlPath}`;
}

function mirrorEnv(pin: OrtGpuPackagePin): string {
  return pin.kind === 'wheel' ? PYPI_FILES_ENV : NUGET_FLAT_ENV;
}

/** The downloaded (or, with a file:// base, local) package file. */
async function fetchPackage(pin: OrtGpuPackagePin, url: string, staging: string, env: NodeJS.ProcessEnv) {
  if (url.startsWith('file:')) {
    // A local mirror: PyPI's path below it, or a flat folder of packages (what `pip download -d DIR` leaves).
    const base = (env[mirrorEnv(pin)] ?? '').replace(/\/+$/, '');
    const candidates = [fileURLToPath(url), path.join(fileURLToPath(base), pin.fileName)];
    const file = candidates.find((f) => existsSync(f));
    if (!file) {
      throw new UsageError(`${mirrorEnv(pin)}=${base}: no ${pin.fileName} there (looked for ${candidates.join(', ')})`);
    }
    return file;
  }
  const dest = path.join(staging, pin.fileName);
  try {
    await downloadFile(url, dest);
    return dest;
  } catch (error) {
    const status = describeError(error);
    throw new UsageError(
      `could not download ${pin.fileName} from ${url} (${status}); set ${mirrorEnv(pin)} to a reachable mirror ` +
        `(http(s):// or a file:// folder holding ${pin.fileName})`,
    );
  }
}

function seconds(startMs: number): string {
  return `${((performance.now() - startMs) / 1000).toFixed(1)} s`;
}

/** Download, verify, unpack into the tool-cache entry; returns its record. Nothing lands when a check fails. */
async function fetchIntoToolCache(
  choice: PackageChoice,
  version: string,
  entryDir: string,
  env: NodeJS.ProcessEnv,
  log: (line: string) => void,
): Promise<OrtGpuRecord> {
  const { pin, sha256 } = choice;
  let url = packageUrl(pin, env);
  const staging = mkdtempSync(path.join(env.RUNNER_TEMP || os.tmpdir(), 'tr118-ort-gpu-'));
  const partial = `${entryDir}.partial-${process.pid}`;
  try {
    log(`fetching ${url}`);
    const file = await fetchPackage(pin, url, staging, env);
    // A flat file:// folder: name the file that was read.
    if (url.startsWith('file:')) url = pathToFileURL(file).href;
    let started = performance.now();
    const actual = await digestFile(file);
    if (pin.sizeBytes !== null && actual.sizeBytes !== pin.sizeBytes) {
      throw new UsageError(
        `${url}: ${actual.sizeBytes} bytes, but tr118 pins ${pin.fileName} at ${pin.sizeBytes} bytes (sha256 ${sha256}); refusing to unpack it`,
      );
    }
    if (actual.sha256 !== sha256) {
      throw new UsageError(
        `${url}: sha256 ${actual.sha256}, but ${pin.sha256 ? 'tr118 pins' : `${CUDA12_SHA256_ENV} pins`} ${pin.fileName} at ${sha256}; refusing to unpack it`,
      );
    }
    log(`verified sha256 ${sha256} (${(actual.sizeBytes / 2 ** 20).toFixed(1)} MiB) in ${seconds(started)}`);

    started = performance.now();
    rmSync(partial, { recursive: true, force: true });
    mkdirSync(partial, { recursive: true });
    let unpacked;
    try {
      unpacked = await unpackEntries(file, partial, pin.unpack, url);
    } catch (error) {
      throw new UsageError(`${describeError(error)}; expected the ${pin.kind} ${pin.fileName}`);
    }
    const providers = {} as Record<(typeof PROVIDER_LIBRARIES)[number], { sha256: string; sizeBytes: number }>;
    for (const lib of PROVIDER_LIBRARIES) {
      const entry = unpacked.find((u) => u.entry === pin.providerEntries[lib]);
      if (!entry) {
        throw new UsageError(
          `${url}: ${pin.fileName} has no ${pin.providerEntries[lib]} (expected the ONNX Runtime ${version} ${pin.kind} layout); nothing installed`,
        );
      }
      providers[lib] = { sha256: entry.sha256, sizeBytes: entry.sizeBytes };
    }
    const totalBytes = unpacked.reduce((sum, u) => sum + u.sizeBytes, 0);
    log(`unpacked ${unpacked.length} files (${(totalBytes / 2 ** 20).toFixed(1)} MiB) in ${seconds(started)}`);
    const record: OrtGpuRecord = {
      version,
      variant: pin.variant,
      cudaMajor: pin.cudaMajor,
      url,
      sha256,
      pythonTag: pin.pythonTag,
      entryDir,
      providerDir: path.posix.dirname(pin.providerEntries['libonnxruntime_providers_cuda.so']),
      pythonPath: pin.pythonPath,
      providers,
    };
    writeOrtGpuRecord(partial, record);
    // Unpacked beside the entry and renamed into place: no 340 MB copy (tc.cacheDir copies), and a crash leaves
    // no entry that looks complete.
    rmSync(entryDir, { recursive: true, force: true });
    rmSync(`${entryDir}.complete`, { force: true });
    renameSync(partial, entryDir);
    writeFileSync(`${entryDir}.complete`, '');
    return record;
  } finally {
    rmSync(staging, { recursive: true, force: true });
    rmSync(partial, { recursive: true, force: true });
  }
}

/** A complete entry for this pin: the tool-cache marker, and a record of the same package hash. */
function completeEntry(entryDir: string, sha256: string): OrtGpuRecord | undefined {
  if (!existsSync(`${entryDir}.complete`)) return undefined;
  const record = readOrtGpuRecord(entryDir);
  if (!record || record.sha256 !== sha256) return undefined;
  const libs = path.join(entryDir, record.providerDir);
  return PROVIDER_LIBRARIES.every((lib) => existsSync(path.join(libs, lib))) ? { ...record, entryDir } : undefined;
}

export interface BindingInstall {
  readonly bindingDir: string;
  readonly copied: readonly string[];
  readonly unchanged: readonly string[];
}

/**
 * Copies (not links: a tool-cache entry may be removed, and the Action's onnxruntime-node folder may be saved to the
 * Actions cache) the provider libraries next to libonnxruntime.so.1, skipping those already there with the same
 * size and sha256. Each is written beside and renamed into place, so a loader never sees half a file.
 */
export async function installProviderLibraries(record: OrtGpuRecord, bindingDir: string): Promise<BindingInstall> {
  accessWritable(bindingDir);
  const copied: string[] = [];
  const unchanged: string[] = [];
  for (const lib of PROVIDER_LIBRARIES) {
    const source = path.join(record.entryDir, record.providerDir, lib);
    const target = path.join(bindingDir, lib);
    const want = record.providers[lib];
    if (existsSync(target)) {
      const have = await digestFile(target);
      if (have.sizeBytes === want.sizeBytes && have.sha256 === want.sha256) {
        unchanged.push(lib);
        continue;
      }
    }
    const temporary = `${target}.tr118-${process.pid}`;
    try {
      copyFileSync(source, temporary);
      renameSync(temporary, target);
    } catch (error) {
      rmSync(temporary, { force: true });
      throw new UsageError(`could not copy ${source} to ${target}: ${describeError(error)}`);
    }
    copied.push(lib);
  }
  writeOrtGpuRecord(bindingDir, record);
  return { bindingDir, copied, unchanged };
}

/** What the providers still lack on this machine, by provider. */
export interface OrtGpuLibraries {
  readonly search: CudaLibrarySearch;
  readonly cudaMissing: readonly string[];
  /** cuDNN for the CUDA provider: dlopened by the ops that use it. */
  readonly cudaMissingRecommended: readonly string[];
  readonly tensorrtMissing: readonly string[];
}

/** Every library either provider may load, searched once; the folders found go on LD_LIBRARY_PATH. */
export function searchGpuLibraries(
  cudaMajor: CudaMajor,
  env: NodeJS.ProcessEnv,
  pipDirs: readonly string[],
): OrtGpuLibraries {
  const cuda = cudaLibraryNeeds('cuda', cudaMajor);
  const tensorrt = cudaLibraryNeeds('tensorrt', cudaMajor);
  const all = [...new Set([...cuda.required, ...cuda.recommended, ...tensorrt.required])];
  const search = findCudaLibraries(all, { env, pipDirs });
  const missing = new Set(search.missing);
  return {
    search,
    cudaMissing: cuda.required.filter((lib) => missing.has(lib)),
    cudaMissingRecommended: cuda.recommended.filter((lib) => missing.has(lib)),
    tensorrtMissing: tensorrt.required.filter((lib) => missing.has(lib)),
  };
}

/** Lines that say what the providers lack (empty when nothing). */
export function libraryWarnings(libraries: OrtGpuLibraries, cudaMajor: CudaMajor): string[] {
  const lines: string[] = [];
  if (libraries.cudaMissing.length > 0) {
    lines.push(
      `cuda provider: unavailable until these are installed: ${missingLibrariesText(libraries.cudaMissing, cudaMajor)}`,
    );
  }
  if (libraries.cudaMissingRecommended.length > 0) {
    lines.push(
      `cuda provider: ${missingLibrariesText(libraries.cudaMissingRecommended, cudaMajor)} not found: ops that use cuDNN (convolutions, some normalizations) will fail`,
    );
  }
  const trt = libraries.tensorrtMissing.filter((lib) => !libraries.cudaMissing.includes(lib));
  if (trt.length > 0) {
    lines.push(`tensorrt provider: unavailable: ${missingLibrariesText(trt, cudaMajor)}`);
  }
  return lines;
}

function prependSearchPath(current: string | undefined, dirs: readonly string[]): string | undefined {
  const existing = (current ?? '').split(path.delimiter).filter((d) => d !== '');
  const merged = [...new Set([...dirs, ...existing])];
  return merged.length > 0 ? merged.join(path.delimiter) : undefined;
}

function applyEnv(env: NodeJS.ProcessEnv, pythonPath: string | undefined, libraryDirs: readonly string[]): void {
  if (pythonPath) env[ORT_GPU_PYTHONPATH_ENV] = pythonPath;
  const ld = prependSearchPath(env.LD_LIBRARY_PATH, libraryDirs);
  if (ld !== undefined) env.LD_LIBRARY_PATH = ld;
}

async function workerPython(
  env: NodeJS.ProcessEnv,
  python: string | undefined,
  searchFrom: string,
): Promise<{ facts: PythonFacts | undefined; note: string | undefined }> {
  let command = python;
  if (command === undefined) {
    const found = findPython(env, searchFrom);
    if ('missing' in found) return { facts: undefined, note: found.missing };
    command = found.command;
  }
  try {
    return { facts: await pythonFacts(command), note: undefined };
  } catch (error) {
    if (python !== undefined) throw new UsageError(`--python: ${describeError(error)}`);
    return { facts: undefined, note: describeError(error) };
  }
}

export interface ProvisionOrtGpuOptions {
  /** Read, and written (LD_LIBRARY_PATH, TR118_ORT_GPU_PYTHONPATH) for this process and its workers. */
  readonly env?: NodeJS.ProcessEnv;
  readonly pins?: OrtGpuPins;
  /** Forces the CUDA major version; else TR118_ORT_GPU_CUDA, else the driver's. */
  readonly cudaMajor?: CudaMajor;
  /** The Python the worker will use (its version picks the wheel); else the one the worker would find. */
  readonly python?: string;
  /** Where the search for a project's .venv starts (the config's folder). */
  readonly searchFrom?: string;
  /** The user's sha256 for the CUDA 12 NuGet package; else TR118_ORT_CUDA12_SHA256. */
  readonly cuda12Sha256?: string;
  /**
   * A cache beside the tool cache that outlives the machine (the Action's `cache: actions`: src/action hands in the
   * GitHub Actions cache); the unpacked entry is restored from it and saved to it.
   */
  readonly remoteCache?: FolderCache | undefined;
  readonly gpu?: NvidiaGpuProbe;
  readonly arch?: string;
  readonly log?: (line: string) => void;
}

export interface OrtGpuProvisioned {
  readonly record: OrtGpuRecord;
  readonly source: 'tool-cache' | 'actions-cache' | 'downloaded';
  readonly binding: BindingInstall;
  /** Set as TR118_ORT_GPU_PYTHONPATH, when the wheel matches the worker's Python. */
  readonly pythonPath: string | undefined;
  readonly pythonNote: string | undefined;
  readonly libraries: OrtGpuLibraries;
}

export async function provisionOrtGpu(options: ProvisionOrtGpuOptions = {}): Promise<OrtGpuProvisioned> {
  const env = options.env ?? process.env;
  const pins = options.pins ?? ORT_GPU_PINS;
  const log = options.log ?? (() => {});
  if (process.platform !== 'linux') {
    throw new UsageError(`tr118 provisions ONNX Runtime's GPU providers on Linux only (this is ${process.platform})`);
  }
  // Both mirrors, before anything else: a mistyped variable is a usage error whichever package this machine needs.
  mirrorBases(env);
  const packageDir = ortPackageDir(env);
  const bindingDir = packageDir ? ortBindingDir(packageDir) : undefined;
  if (!packageDir || !bindingDir) {
    throw new UsageError(
      `onnxruntime-node is not installed${packageDir ? ` (no native binding for linux-${process.arch} in ${packageDir})` : ''}: run npm ci, or set ${ORT_PACKAGE_ENV}`,
    );
  }
  const nodeVersion = (JSON.parse(readFileSync(path.join(packageDir, 'package.json'), 'utf8')) as { version?: string })
    .version;
  if (nodeVersion !== pins.version) {
    throw new UsageError(
      `${packageDir} is onnxruntime-node ${nodeVersion ?? '(no version)'}, but tr118 pins the GPU providers of ONNX Runtime ${pins.version}: the two must be one version`,
    );
  }
  // Before any download: a folder we cannot write would waste 250 MB of it.
  accessWritable(bindingDir);

  const forced =
    options.cudaMajor ?? (env[ORT_GPU_CUDA_ENV] ? parseCudaMajor(env[ORT_GPU_CUDA_ENV], ORT_GPU_CUDA_ENV) : undefined);
  const cudaMajor = chooseCudaMajor(forced, forced ? (options.gpu ?? NO_PROBE) : (options.gpu ?? probeNvidiaGpu()));
  const python = await workerPython(env, options.python, options.searchFrom ?? process.cwd());
  const choice = choosePackage(
    pins,
    cudaMajor,
    options.arch ?? process.arch,
    python.facts?.tag,
    options.cuda12Sha256 ?? env[CUDA12_SHA256_ENV],
  );
  const entryDir = toolCacheEntry(env, pins.version, choice.pin.variant);
  log(
    `ONNX Runtime ${pins.version} GPU providers, CUDA ${cudaMajor}: ${choice.pin.fileName} (variant ${choice.pin.variant})`,
  );

  let source: OrtGpuProvisioned['source'] = 'tool-cache';
  let record = completeEntry(entryDir, choice.sha256);
  const cacheKey = actionsCacheKey(pins.version, choice.pin.variant, choice.sha256);
  const cachePaths = [entryDir, `${entryDir}.complete`];
  const remote = options.remoteCache;
  if (!record && remote) {
    try {
      if (await remote.restore(cachePaths, cacheKey)) {
        record = completeEntry(entryDir, choice.sha256);
        if (record) source = 'actions-cache';
      }
    } catch (error) {
      log(`Actions cache not read (${describeError(error)})`);
    }
  }
  if (!record) {
    record = await fetchIntoToolCache(choice, pins.version, entryDir, env, log);
    source = 'downloaded';
    if (remote) {
      try {
        const saved = await remote.save(cachePaths, cacheKey);
        log(saved ? `saved to the Actions cache as ${cacheKey}` : `not saved to the Actions cache (${cacheKey})`);
      } catch (error) {
        log(`not saved to the Actions cache (${describeError(error)})`);
      }
    }
  }

  const binding = await installProviderLibraries(record, bindingDir);
  const pythonPath =
    choice.pythonUsable && record.pythonPath !== null ? path.join(entryDir, record.pythonPath) : undefined;
  const pipDirs = nvidiaPipLibraryDirs(python.facts?.nvidiaDirs ?? []);
  const libraries = searchGpuLibraries(cudaMajor, env, pipDirs);
  applyEnv(env, pythonPath, libraries.search.libraryDirs);
  return {
    record,
    source,
    binding,
    pythonPath,
    pythonNote: choice.note ?? python.note,
    libraries,
  };
}

const NO_PROBE: NvidiaGpuProbe = { present: false, driverCudaVersion: null, note: 'not probed: CUDA major forced' };

function accessWritable(dir: string): void {
  try {
    accessSync(dir, constants.W_OK);
  } catch (error) {
    throw new UsageError(
      `${dir}: onnxruntime-node's binding folder is not writable (${describeError(error)}); the provider ` +
        `libraries must sit next to its libonnxruntime.so.1: make it writable, or set ${ORT_PACKAGE_ENV} to a writable copy of onnxruntime-node`,
    );
  }
}

export interface OrtGpuActivation {
  readonly activated: boolean;
  /** What was found or why nothing was set. */
  readonly note: string;
  readonly record: OrtGpuRecord | undefined;
  readonly pythonPath: string | undefined;
  readonly libraryDirs: readonly string[];
}

export interface ActivateOrtGpuOptions {
  readonly python?: string;
  readonly searchFrom?: string;
}

/**
 * No network: when `tr118 provision` (or the Action) put provider libraries in the onnxruntime-node binding in use,
 * sets LD_LIBRARY_PATH (the CUDA library folders found now) and TR118_ORT_GPU_PYTHONPATH (the unpacked wheel in the
 * tool cache, when it matches the worker's Python) in `env`. Never throws: what it could not do is in `note`, and
 * the backends then come out unavailable with their own reason.
 */
export async function activateOrtGpu(
  env: NodeJS.ProcessEnv = process.env,
  options: ActivateOrtGpuOptions = {},
): Promise<OrtGpuActivation> {
  const none = (note: string): OrtGpuActivation => ({
    activated: false,
    note,
    record: undefined,
    pythonPath: undefined,
    libraryDirs: [],
  });
  try {
    const packageDir = ortPackageDir(env);
    const bindingDir = packageDir ? ortBindingDir(packageDir) : undefined;
    if (!bindingDir) return none('onnxruntime-node is not installed');
    const bound = readOrtGpuRecord(bindingDir);
    if (!bound) return none(`no provider libraries provisioned by tr118 in ${bindingDir}`);
    const entry =
      completeEntry(toolCacheEntry(env, bound.version, bound.variant), bound.sha256) ??
      completeEntry(bound.entryDir, bound.sha256);
    const python = await workerPython(env, options.python, options.searchFrom ?? process.cwd());
    const pythonPath =
      entry !== undefined && entry.pythonPath !== null && entry.pythonTag === python.facts?.tag
        ? path.join(entry.entryDir, entry.pythonPath)
        : undefined;
    const libraries = searchGpuLibraries(bound.cudaMajor, env, nvidiaPipLibraryDirs(python.facts?.nvidiaDirs ?? []));
    applyEnv(env, pythonPath, libraries.search.libraryDirs);
    return {
      activated: true,
      note: `${bound.variant} in ${bindingDir}${pythonPath ? `; Python package ${pythonPath}` : ''}`,
      record: bound,
      pythonPath,
      libraryDirs: libraries.search.libraryDirs,
    };
  } catch (error) {
    return none(describeError(error));
  }
}

export type OrtGpuPlan =
  | { readonly provision: false; readonly why: string }
  | { readonly provision: true; readonly cudaMajor: CudaMajor | undefined };

/**
 * Pure: whether the Action provisions. Only for a config with a cuda / tensorrt backend; `auto` also needs a GPU on
 * the runner, cuda12 / cuda13 force the variant without looking.
 */
export function planOrtGpu(
  mode: OrtGpuMode,
  /** Whether a backend of the config uses a GPU provider (engines/registry.ts needsGpuProviders). */
  needed: boolean,
  gpu: () => NvidiaGpuProbe,
): OrtGpuPlan {
  if (mode === 'off') return { provision: false, why: 'input onnxruntime-gpu is off' };
  if (!needed) {
    return { provision: false, why: 'no backend of the config uses the cuda or tensorrt provider' };
  }
  if (mode === 'cuda12') return { provision: true, cudaMajor: 12 };
  if (mode === 'cuda13') return { provision: true, cudaMajor: 13 };
  const probe = gpu();
  if (!probe.present) return { provision: false, why: `no NVIDIA GPU on this runner (${probe.note})` };
  return { provision: true, cudaMajor: undefined };
}
