import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { provisionOrtGpuStep } from '../../src/action/provision-onnxruntime-gpu.js';
import { UsageError } from '../../src/errors.js';
import { specOf } from '../helpers/specs.js';
import { actionsFolderCache } from '../../src/action/actions-cache-store.js';
import { ORT_GPU_RECORD_FILE } from '../../src/engines/onnxruntime/provision/gpu-record.js';
import type { NvidiaGpuProbe } from '../../src/engines/onnxruntime/provision/nvidia-gpu.js';
import {
  activateOrtGpu,
  ORT_GPU_PYTHONPATH_ENV,
  provisionOrtGpu,
  type ProvisionOrtGpuOptions,
} from '../../src/engines/onnxruntime/provision/onnxruntime-gpu.js';
import type { OrtGpuPins } from '../../src/engines/onnxruntime/provision/pins.js';
import { useFakeActionsCache } from '../helpers/actions-cache-hooks.js';
import { tempDir } from '../helpers/fixture.js';
import {
  CP312_X64,
  dummyLibrary,
  fakeNupkg,
  fakeOnnxruntimeNode,
  FakePackageHost,
  fakePython,
  fakeWheel,
  NUPKG_X64,
  pinsFor,
  sha256Of,
} from '../helpers/ort-gpu-packages.js';

const H200: NvidiaGpuProbe = { present: true, driverCudaVersion: '13.0', note: 'recorded' };
const PROVIDERS = [
  'libonnxruntime_providers_shared.so',
  'libonnxruntime_providers_cuda.so',
  'libonnxruntime_providers_tensorrt.so',
];

const host = new FakePackageHost();
let base = '';
let wheel: Buffer;
let pins: OrtGpuPins;

beforeAll(async () => {
  base = await host.start();
  wheel = await fakeWheel();
  pins = pinsFor(wheel);
});
afterAll(() => host.stop());

interface Setup {
  readonly dir: string;
  readonly env: NodeJS.ProcessEnv;
  readonly bindingDir: string;
  readonly toolCache: string;
  readonly python: string;
  readonly options: (extra?: Partial<ProvisionOrtGpuOptions>) => ProvisionOrtGpuOptions;
}

/** serve: false serves nothing (every request is a 404). */
function setup(serve = true): Setup {
  const dir = tempDir();
  const { packageDir, bindingDir } = fakeOnnxruntimeNode(dir);
  const { python } = fakePython(dir);
  const toolCache = path.join(dir, 'tool-cache');
  host.files.clear();
  host.requests = [];
  if (serve) host.files.set(`/${CP312_X64.urlPath}`, wheel);
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: dir,
    RUNNER_TOOL_CACHE: toolCache,
    RUNNER_TEMP: path.join(dir, 'tmp'),
    TR118_ONNXRUNTIME_NODE: packageDir,
    TR118_PYPI_FILES: base,
    TR118_NUGET_FLAT: `${base}/nuget`,
  };
  mkdirSync(env.RUNNER_TEMP!, { recursive: true });
  return {
    dir,
    env,
    bindingDir,
    toolCache,
    python,
    options: (extra = {}) => ({ env, pins, python, gpu: H200, arch: 'x64', ...extra }),
  };
}

const entryOf = (s: Setup, variant = 'cuda13-cp312-x64') =>
  path.join(s.toolCache, 'tr118-onnxruntime-gpu', '1.30.0', variant);

/** Nothing landed: no tool-cache entry (complete or partial), no library in the binding folder. */
function expectNothingLanded(s: Setup): void {
  const versionDir = path.join(s.toolCache, 'tr118-onnxruntime-gpu', '1.30.0');
  expect(existsSync(versionDir) ? readdirSync(versionDir) : []).toEqual([]);
  expect(readdirSync(s.bindingDir)).toEqual(['libonnxruntime.so.1']);
}

async function refusal(promise: Promise<unknown>): Promise<UsageError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(UsageError);
  return error as UsageError;
}

describe('provisioning the CUDA 13 wheel from a PyPI mirror', () => {
  it('lands the Python package in the tool cache and the provider libraries next to libonnxruntime.so.1', async () => {
    const s = setup();
    const result = await provisionOrtGpu(s.options());
    const entry = entryOf(s);
    expect(result.source).toBe('downloaded');
    expect(host.requests).toEqual([`/${CP312_X64.urlPath}`]);
    expect(existsSync(`${entry}.complete`)).toBe(true);
    for (const file of [
      'onnxruntime/__init__.py',
      'onnxruntime/capi/libonnxruntime.so.1.30.0',
      'onnxruntime/capi/onnxruntime_pybind11_state.cpython-312-x86_64-linux-gnu.so',
      'onnxruntime_gpu-1.30.0.dist-info/METADATA',
      ORT_GPU_RECORD_FILE,
    ])
      expect(existsSync(path.join(entry, file)), file).toBe(true);
    expect(existsSync(path.join(entry, 'onnxruntime_gpu-1.30.0.data'))).toBe(false);
    // The .so keep the archive's executable bit.
    expect(statSync(path.join(entry, 'onnxruntime/capi/libonnxruntime_providers_cuda.so')).mode & 0o111).not.toBe(0);
    for (const lib of PROVIDERS) expect(readFileSync(path.join(s.bindingDir, lib))).toEqual(dummyLibrary(lib));
    expect(result.binding.copied).toEqual(PROVIDERS);
    expect(result.record).toMatchObject({ variant: 'cuda13-cp312-x64', cudaMajor: 13, sha256: sha256Of(wheel) });
    // The Python worker's import path, and the pip CUDA folders of the worker's Python for the loader.
    expect(s.env[ORT_GPU_PYTHONPATH_ENV]).toBe(path.join(entry, '.'));
    expect(result.pythonPath).toBe(s.env[ORT_GPU_PYTHONPATH_ENV]);
    const ld = (s.env.LD_LIBRARY_PATH ?? '').split(':');
    expect(ld).toContain(path.join(s.dir, 'site-packages/nvidia/cu13/lib'));
    expect(ld).toContain(path.join(s.dir, 'site-packages/nvidia/cudnn/lib'));
    // This machine's driver library is the only CUDA one the fake Python does not bring (unless a driver is here).
    expect(result.libraries.cudaMissing.filter((lib) => lib !== 'libcuda.so.1')).toEqual([]);
    expect(result.libraries.tensorrtMissing).toEqual(
      expect.arrayContaining(['libnvinfer.so.10', 'libnvonnxparser.so.10']),
    );
  });

  it('a second call is a tool-cache hit: no request, the binding folder left as it is', async () => {
    const s = setup();
    await provisionOrtGpu(s.options());
    const requests = host.requests.length;
    const again = await provisionOrtGpu(s.options());
    expect(again.source).toBe('tool-cache');
    expect(host.requests.length).toBe(requests);
    expect(again.binding).toMatchObject({ copied: [], unchanged: PROVIDERS });
  });

  it('replaces a provider library in the binding folder that differs from the pinned one', async () => {
    const s = setup();
    writeFileSync(path.join(s.bindingDir, 'libonnxruntime_providers_cuda.so'), 'another build');
    const result = await provisionOrtGpu(s.options());
    expect(result.binding.copied).toContain('libonnxruntime_providers_cuda.so');
    expect(readFileSync(path.join(s.bindingDir, 'libonnxruntime_providers_cuda.so'))).toEqual(
      dummyLibrary('libonnxruntime_providers_cuda.so'),
    );
  });

  it('a Python with no pinned wheel gets the cp312 provider libraries for Node only (no PYTHONPATH)', async () => {
    const s = setup();
    const { python } = fakePython(path.join(s.dir, 'py310'), 'cp310');
    const result = await provisionOrtGpu(s.options({ python }));
    expect(result.record.variant).toBe('cuda13-cp312-x64');
    expect(result.pythonPath).toBeUndefined();
    expect(s.env[ORT_GPU_PYTHONPATH_ENV]).toBeUndefined();
    expect(result.pythonNote).toBe(
      'onnxruntime-gpu 1.30.0 has no wheel for cp310: the cp312 wheel gives the provider libraries for Node only',
    );
  });

  it('a file:// base may be a flat folder of packages (pip download -d DIR)', async () => {
    const s = setup(false);
    const folder = path.join(s.dir, 'wheels');
    mkdirSync(folder);
    writeFileSync(path.join(folder, CP312_X64.fileName), wheel);
    s.env.TR118_PYPI_FILES = pathToFileURL(folder).href;
    const result = await provisionOrtGpu(s.options());
    expect(result.source).toBe('downloaded');
    expect(host.requests).toEqual([]);
    expect(readdirSync(s.bindingDir)).toEqual(expect.arrayContaining(PROVIDERS));
    expect(result.record.url).toBe(pathToFileURL(path.join(folder, CP312_X64.fileName)).href);
  });

  it('tr118 run in a later process finds what provisioning made (activateOrtGpu, no network)', async () => {
    const s = setup();
    await provisionOrtGpu(s.options());
    const requests = host.requests.length;
    const later: NodeJS.ProcessEnv = { ...s.env, LD_LIBRARY_PATH: undefined, [ORT_GPU_PYTHONPATH_ENV]: undefined };
    const activation = await activateOrtGpu(later, { python: s.python });
    expect(activation.activated).toBe(true);
    expect(later[ORT_GPU_PYTHONPATH_ENV]).toBe(path.join(entryOf(s), '.'));
    expect((later.LD_LIBRARY_PATH ?? '').split(':')).toContain(path.join(s.dir, 'site-packages/nvidia/cu13/lib'));
    expect(host.requests.length).toBe(requests);
  });

  it('activation without provisioned libraries sets nothing and says why', async () => {
    const s = setup();
    const env: NodeJS.ProcessEnv = { ...s.env };
    const activation = await activateOrtGpu(env, { python: s.python });
    expect(activation).toMatchObject({ activated: false, pythonPath: undefined });
    expect(activation.note).toBe(`no provider libraries provisioned by tr118 in ${s.bindingDir}`);
    expect(env[ORT_GPU_PYTHONPATH_ENV]).toBeUndefined();
    expect(env.LD_LIBRARY_PATH).toBeUndefined();
  });
});

describe('provisioning refuses bad packages before anything lands', () => {
  it('a wrong hash: refused before unpacking, naming the URL, the file and both hashes', async () => {
    const s = setup();
    const tampered = await fakeWheel(['onnxruntime/capi/libonnxruntime_providers_tensorrt.so']);
    host.files.set(`/${CP312_X64.urlPath}`, tampered);
    const pinsSameSize: OrtGpuPins = {
      ...pins,
      packages: pins.packages.map((p) => (p.variant === CP312_X64.variant ? { ...p, sizeBytes: tampered.length } : p)),
    };
    const error = await refusal(provisionOrtGpu(s.options({ pins: pinsSameSize })));
    expect(error.message).toBe(
      `${base}/${CP312_X64.urlPath}: sha256 ${sha256Of(tampered)}, but tr118 pins ${CP312_X64.fileName} at ${sha256Of(wheel)}; refusing to unpack it`,
    );
    expectNothingLanded(s);
  });

  it('a wrong size: refused, naming the pinned size', async () => {
    const s = setup();
    host.files.set(`/${CP312_X64.urlPath}`, Buffer.concat([wheel, Buffer.from('x')]));
    const error = await refusal(provisionOrtGpu(s.options()));
    expect(error.message).toContain(
      `${wheel.length + 1} bytes, but tr118 pins ${CP312_X64.fileName} at ${wheel.length} bytes`,
    );
    expectNothingLanded(s);
  });

  it('a corrupt zip (hash pinned to it): not a readable zip archive, expected the wheel', async () => {
    const s = setup();
    const corrupt = Buffer.from(wheel);
    corrupt.fill(0, corrupt.length - 60); // the end of central directory record
    host.files.set(`/${CP312_X64.urlPath}`, corrupt);
    const error = await refusal(provisionOrtGpu(s.options({ pins: pinsFor(corrupt) })));
    expect(error.message).toMatch(
      new RegExp(
        `^${escape(`${base}/${CP312_X64.urlPath}`)}: not a readable zip archive \\(.+\\); expected the wheel ${escape(CP312_X64.fileName)}$`,
      ),
    );
    expectNothingLanded(s);
  });

  it('a package without the CUDA provider library: names the missing entry, nothing installed', async () => {
    const s = setup();
    const partial = await fakeWheel(['onnxruntime/capi/libonnxruntime_providers_cuda.so']);
    host.files.set(`/${CP312_X64.urlPath}`, partial);
    const error = await refusal(provisionOrtGpu(s.options({ pins: pinsFor(partial) })));
    expect(error.message).toBe(
      `${base}/${CP312_X64.urlPath}: ${CP312_X64.fileName} has no onnxruntime/capi/libonnxruntime_providers_cuda.so (expected the ONNX Runtime 1.30.0 wheel layout); nothing installed`,
    );
    expectNothingLanded(s);
  });

  it('HTTP 404: names the URL, the status and the mirror variable', async () => {
    const s = setup(false);
    const error = await refusal(provisionOrtGpu(s.options()));
    expect(error.message).toBe(
      `could not download ${CP312_X64.fileName} from ${base}/${CP312_X64.urlPath} (HTTP 404); set TR118_PYPI_FILES to a reachable mirror (http(s):// or a file:// folder holding ${CP312_X64.fileName})`,
    );
    expectNothingLanded(s);
  });

  it('a server that is down: names the URL and the connection error', async () => {
    const s = setup();
    const gone = new FakePackageHost();
    const goneBase = await gone.start();
    await gone.stop();
    s.env.TR118_PYPI_FILES = goneBase;
    const error = await refusal(provisionOrtGpu(s.options()));
    expect(error.message).toMatch(
      new RegExp(
        `^could not download ${escape(CP312_X64.fileName)} from ${escape(goneBase)}/\\S+ \\(.*ECONNREFUSED.*\\); set TR118_PYPI_FILES`,
      ),
    );
    expectNothingLanded(s);
  });

  it.each([
    ['TR118_PYPI_FILES', 'not a url', 'not a URL'],
    ['TR118_PYPI_FILES', 'http://', 'not a URL'],
    ['TR118_PYPI_FILES', 'http:/packages', 'no host after the scheme'],
    ['TR118_PYPI_FILES', 'https:///mirror', 'no host after the scheme'],
    ['TR118_PYPI_FILES', 'files.pythonhosted.org', 'not a URL'],
    ['TR118_PYPI_FILES', 'ftp://mirror.example/pypi', 'tr118 does not download from ftp://'],
    ['TR118_NUGET_FLAT', 'https://mirror example/nuget', 'not a URL'],
    ['TR118_NUGET_FLAT', 'file://other-host/nuget', 'File URL host must be "localhost" or empty on linux'],
  ])('%s=%j is no URL to download from: refused at once, naming both, before any request', async (name, value, why) => {
    const s = setup();
    s.env[name] = value;
    const error = await refusal(provisionOrtGpu(s.options()));
    expect(error.message).toBe(
      `${name}=${JSON.stringify(value)}: ${why} (expected http:// or https:// and a host, or a file:// folder); set it to the mirror's base URL, or unset it`,
    );
    expect(host.requests).toEqual([]);
    expectNothingLanded(s);
  });

  it('a file:// folder without the package: names where it looked', async () => {
    const s = setup(false);
    const folder = path.join(s.dir, 'empty');
    mkdirSync(folder);
    s.env.TR118_PYPI_FILES = pathToFileURL(folder).href;
    const error = await refusal(provisionOrtGpu(s.options()));
    expect(error.message).toContain(
      `no ${CP312_X64.fileName} there (looked for ${path.join(folder, CP312_X64.urlPath)}, ${path.join(folder, CP312_X64.fileName)})`,
    );
  });

  it('an onnxruntime-node of another version: refused (the provider libraries are one ABI with it)', async () => {
    const s = setup();
    const other = fakeOnnxruntimeNode(path.join(s.dir, 'other'), '1.29.0');
    s.env.TR118_ONNXRUNTIME_NODE = other.packageDir;
    const error = await refusal(provisionOrtGpu(s.options()));
    expect(error.message).toBe(
      `${other.packageDir} is onnxruntime-node 1.29.0, but tr118 pins the GPU providers of ONNX Runtime 1.30.0: the two must be one version`,
    );
    expect(host.requests).toEqual([]);
  });
});

describe('the CUDA 12 NuGet route', () => {
  let nupkg: Buffer;
  beforeEach(async () => {
    nupkg = await fakeNupkg();
  });

  it('without a sha256 pinned by the user: refused, saying why (no trust on first use)', async () => {
    const s = setup();
    const error = await refusal(provisionOrtGpu(s.options({ cudaMajor: 12 })));
    expect(error.message).toBe(
      'the CUDA 12 provider package (microsoft.ml.onnxruntime.gpu.linux.1.30.0.nupkg, NuGet) has no sha256 pinned by tr118: ' +
        'nuget.org was unreachable when this version was made, and a hash first seen at download time would prove nothing. ' +
        'Pin the one you trust in TR118_ORT_CUDA12_SHA256 (Action input onnxruntime-cuda12-sha256), or use CUDA 13 (--cuda 13)',
    );
    expect(host.requests).toEqual([]);
  });

  it('with the user pin (TR118_ORT_CUDA12_SHA256): the three libraries from runtimes/linux-x64/native land', async () => {
    const s = setup();
    host.files.set(`/nuget/${NUPKG_X64.urlPath}`, nupkg);
    s.env.TR118_ORT_CUDA12_SHA256 = sha256Of(nupkg).toUpperCase();
    const result = await provisionOrtGpu(s.options({ cudaMajor: 12 }));
    expect(result.record).toMatchObject({ variant: 'cuda12-x64', cudaMajor: 12, pythonPath: null });
    expect(host.requests).toEqual([`/nuget/${NUPKG_X64.urlPath}`]);
    for (const lib of PROVIDERS) {
      expect(readFileSync(path.join(s.bindingDir, lib))).toEqual(dummyLibrary(lib, 'cuda12'));
      expect(existsSync(path.join(entryOf(s, 'cuda12-x64'), 'runtimes/linux-x64/native', lib))).toBe(true);
    }
    expect(result.pythonPath).toBeUndefined();
    expect(s.env[ORT_GPU_PYTHONPATH_ENV]).toBeUndefined();
    // The CUDA 12 names are what is looked for.
    expect(result.libraries.cudaMissing).toEqual(
      expect.arrayContaining(['libcublasLt.so.12', 'libcublas.so.12', 'libcudart.so.12']),
    );
  });

  it('a user pin that does not match: refused before unpacking, naming the variable', async () => {
    const s = setup();
    host.files.set(`/nuget/${NUPKG_X64.urlPath}`, nupkg);
    s.env.TR118_ORT_CUDA12_SHA256 = 'a'.repeat(64);
    const error = await refusal(provisionOrtGpu(s.options({ cudaMajor: 12 })));
    expect(error.message).toBe(
      `${base}/nuget/${NUPKG_X64.urlPath}: sha256 ${sha256Of(nupkg)}, but TR118_ORT_CUDA12_SHA256 pins ${NUPKG_X64.fileName} at ${'a'.repeat(64)}; refusing to unpack it`,
    );
    expectNothingLanded(s);
  });
});

describe('cache: actions', () => {
  const actionsCache = useFakeActionsCache().cache;

  it('saves the unpacked entry, and a runner with an empty tool cache restores it without downloading', async () => {
    const s = setup();
    const first = await provisionOrtGpu(s.options({ remoteCache: actionsFolderCache() }));
    expect(first.source).toBe('downloaded');
    const key = `tr118-onnxruntime-gpu/1.30.0/cuda13-cp312-x64/${sha256Of(wheel).slice(0, 16)}`;
    expect(actionsCache.calls).toContain(`FinalizeCacheEntryUpload ${key}`);
    rmSync(path.join(s.toolCache, 'tr118-onnxruntime-gpu'), { recursive: true });
    for (const lib of PROVIDERS) rmSync(path.join(s.bindingDir, lib));
    const requests = host.requests.length;
    const second = await provisionOrtGpu(s.options({ remoteCache: actionsFolderCache() }));
    expect(second.source).toBe('actions-cache');
    expect(host.requests.length).toBe(requests);
    expect(second.binding.copied).toEqual(PROVIDERS);
    expect(actionsCache.calls.filter((c) => c.startsWith('INVALID'))).toEqual([]);
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

describe("the Action's step (input onnxruntime-gpu)", () => {
  const cudaConfig = [specOf('onnxruntime-cuda', '/m.onnx')];
  const lines = () => {
    const info: string[] = [];
    const warning: string[] = [];
    return { info, warning, log: { info: (l: string) => info.push(l), warning: (l: string) => warning.push(l) } };
  };

  it('a failure to provision is a warning naming the cause, never a throw', async () => {
    const out = lines();
    const ok = await provisionOrtGpuStep({
      mode: 'cuda12',
      cuda12Sha256: undefined,
      actionsCache: false,
      backends: cudaConfig,
      searchFrom: tempDir(),
      python: fakePython(tempDir()).python,
      ...out.log,
    });
    expect(ok).toBe(false);
    expect(out.warning).toHaveLength(1);
    expect(out.warning[0]).toMatch(
      /^tr118: ONNX Runtime GPU providers not provisioned: the CUDA 12 provider package .* has no sha256 pinned by tr118.*; the cuda and tensorrt backends will be unavailable$/,
    );
  });

  it('auto on a runner without a GPU: nothing downloaded, said why', async () => {
    const out = lines();
    const ok = await provisionOrtGpuStep({
      mode: 'auto',
      cuda12Sha256: undefined,
      actionsCache: false,
      backends: cudaConfig,
      searchFrom: tempDir(),
      gpu: () => ({ present: false, driverCudaVersion: null, note: 'no /dev/nvidia0 and no working nvidia-smi' }),
      ...out.log,
    });
    expect(ok).toBe(false);
    expect(out.info[0]).toBe(
      'ONNX Runtime GPU providers: not provisioned (no NVIDIA GPU on this runner (no /dev/nvidia0 and no working nvidia-smi))',
    );
    expect(out.warning).toEqual([]);
  });
});
