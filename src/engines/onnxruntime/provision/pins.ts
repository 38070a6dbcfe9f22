/**
 * What tr118 may install as ONNX Runtime's GPU provider libraries, pinned by content: the packages, the files inside
 * them, their sha256 and size, and the CUDA libraries each provider needs at load time.
 *
 * Why src/engines/onnxruntime/provision/ and not src/action/: the CLI (`tr118 provision`) and the Action both provision, and the entry
 * points must not hold logic the other needs (docs/design.md). The availability check of the backends reads the tables
 * here too, so this file imports nothing of the project.
 *
 * Two sources of the same-version provider build (one ABI with onnxruntime-node's libonnxruntime.so.1):
 * - cuda13: PyPI's `onnxruntime-gpu` wheel. Its `onnxruntime/capi/` holds the three provider libraries next to the
 *   Python package (which the Python worker imports). One wheel per CPython version and architecture; the provider
 *   libraries are the same build in each, so a runner without Python still gets them (from the cp312 wheel).
 *   Hashes and sizes: PyPI's JSON simple API (`Accept: application/vnd.pypi.simple.v1+json` on
 *   https://pypi.org/simple/onnxruntime-gpu/), read 2026-11-28.
 * - cuda12: NuGet's `Microsoft.ML.OnnxRuntime.Gpu.Linux`, what onnxruntime-node's own install script downloads.
 *   nuget.org is unreachable from where this was written, so the project pins no hash: the user pins one
 *   (TR118_ORT_CUDA12_SHA256), or the route is refused. Never trust-on-first-use.
 */

/** The three provider libraries that must sit next to libonnxruntime.so.1 (names as ONNX Runtime loads them). */
export const PROVIDER_LIBRARIES = [
  'libonnxruntime_providers_shared.so',
  'libonnxruntime_providers_cuda.so',
  'libonnxruntime_providers_tensorrt.so',
] as const;
export type ProviderLibrary = (typeof PROVIDER_LIBRARIES)[number];

export type CudaMajor = 12 | 13;

/** The Action's `onnxruntime-gpu` input: auto (when the config and the runner need it), off, or a forced build. */
export const ORT_GPU_MODES = ['auto', 'off', 'cuda12', 'cuda13'] as const;
export type OrtGpuMode = (typeof ORT_GPU_MODES)[number];
export const CUDA_MAJORS: readonly CudaMajor[] = [12, 13];

export interface OrtGpuPackagePin {
  /** Tool-cache folder name and Actions cache key part: `cuda13-cp312-x64`, `cuda12-x64`. */
  readonly variant: string;
  readonly kind: 'wheel' | 'nupkg';
  readonly cudaMajor: CudaMajor;
  /** Node.js's name for the architecture (process.arch). */
  readonly arch: string;
  /** CPython tag the wheel's Python package is built for (`cp312`, `cp313t`); null for NuGet. */
  readonly pythonTag: string | null;
  readonly fileName: string;
  /** Path below the download base (PyPI's files host, or NuGet's flat container). */
  readonly urlPath: string;
  /** null: not pinned by the project; the user must pin it (NuGet). */
  readonly sha256: string | null;
  readonly sizeBytes: number | null;
  /** Archive entry of each provider library. */
  readonly providerEntries: Readonly<Record<ProviderLibrary, string>>;
  /** Archive entries unpacked: exact names, or prefixes ending in `/` (a whole folder). */
  readonly unpack: readonly string[];
  /** Folder, relative to the unpacked root, that goes on PYTHONPATH (wheel), or null. */
  readonly pythonPath: string | null;
}

export interface OrtGpuPins {
  /** The ONNX Runtime version; must equal onnxruntime-node's. */
  readonly version: string;
  readonly packages: readonly OrtGpuPackagePin[];
}

const VERSION = '1.30.0';

/** PyPI's file name for a wheel of this version; `cp313t` is the free-threaded build of CPython 3.13. */
export function wheelFileName(pythonTag: string, arch: string): string {
  const platform = arch === 'arm64' ? 'manylinux_2_34_aarch64' : 'manylinux_2_28_x86_64';
  return `onnxruntime_gpu-${VERSION}-${pythonTag.replace(/t$/, '')}-${pythonTag}-${platform}.whl`;
}

/** hashDir: the folders PyPI's files host keeps the file under (`packages/<hashDir>/<file>`). */
function wheel(pythonTag: string, arch: string, hashDir: string, sha256: string, sizeBytes: number): OrtGpuPackagePin {
  const capi = 'onnxruntime/capi/';
  const fileName = wheelFileName(pythonTag, arch);
  return {
    variant: `cuda13-${pythonTag}-${arch}`,
    kind: 'wheel',
    cudaMajor: 13,
    arch,
    pythonTag,
    fileName,
    urlPath: `packages/${hashDir}/${fileName}`,
    sha256,
    sizeBytes,
    providerEntries: {
      'libonnxruntime_providers_shared.so': `${capi}libonnxruntime_providers_shared.so`,
      'libonnxruntime_providers_cuda.so': `${capi}libonnxruntime_providers_cuda.so`,
      'libonnxruntime_providers_tensorrt.so': `${capi}libonnxruntime_providers_tensorrt.so`,
    },
    // The whole package and its metadata, so that `import onnxruntime` works from PYTHONPATH (the pybind module
    // loads libonnxruntime.so.1.30.0 and the providers from capi/).
    unpack: ['onnxruntime/', `onnxruntime_gpu-${VERSION}.dist-info/`],
    pythonPath: '.',
  };
}

/** NuGet's layout: runtimes/<rid>/native/ (as onnxruntime-node's script/install-metadata.js names the files). */
function nupkg(): OrtGpuPackagePin {
  const id = 'microsoft.ml.onnxruntime.gpu.linux';
  const native = 'runtimes/linux-x64/native/';
  return {
    variant: 'cuda12-x64',
    kind: 'nupkg',
    cudaMajor: 12,
    arch: 'x64',
    pythonTag: null,
    fileName: `${id}.${VERSION}.nupkg`,
    urlPath: `${id}/${VERSION}/${id}.${VERSION}.nupkg`,
    sha256: null,
    sizeBytes: null,
    providerEntries: {
      'libonnxruntime_providers_shared.so': `${native}libonnxruntime_providers_shared.so`,
      'libonnxruntime_providers_cuda.so': `${native}libonnxruntime_providers_cuda.so`,
      'libonnxruntime_providers_tensorrt.so': `${native}libonnxruntime_providers_tensorrt.so`,
    },
    unpack: PROVIDER_LIBRARIES.map((lib) => `${native}${lib}`),
    pythonPath: null,
  };
}

export const ORT_GPU_PINS: OrtGpuPins = {
  version: VERSION,
  packages: [
    wheel(
      'cp311',
      'x64',
      'ea/71/b225bd559a718f6cefb058d4f4c4c95e556543f47d4be0e81819681ac347',
      '4fbf0c5d7b5fb99266c2e8a802e3e64af68bdc383e0f3c7349b985f1087eedaa',
      246_658_419,
    ),
    wheel(
      'cp312',
      'x64',
      '9e/80/d96143329dbe925d434b016c890a5caa785fac8e14a1570e5d6818b63545',
      '6acc0f4b3d5ac5f2984432faa59dd8fcce6775f8b43a7140afa0f322c7a703b1',
      246_685_715,
    ),
    wheel(
      'cp313',
      'x64',
      '31/ae/cfec0c21d039e4125fdc333e2e2032ed0a49eb50f9dd70b7f3819b339018',
      '9aba23f903f434cc55d851aeb801afee19e287c202f4ab8f59d02f04caa90aed',
      246_688_669,
    ),
    wheel(
      'cp313t',
      'x64',
      '8e/41/3ebd7b9648259adcf3abd245be862a0cb4c24d4b12f4f7b82d3e9fcf18f0',
      '675d519cab613bc42685ecb998f8e8e8c6d73143496681650d30ef14fedeade7',
      246_684_982,
    ),
    wheel(
      'cp314',
      'x64',
      'bb/75/09a6c97136c747608867a63114d988384e6ddb5507e08bbe9ced08744a4c',
      '5aacc98f394a13f4891c0a07e60479d8fb0b1ea6f3328b6b38cfc88f9dfb05ea',
      246_693_192,
    ),
    wheel(
      'cp314t',
      'x64',
      '75/66/11c43d3d544380271aa14fd55c1e5be65f28fac007128e369f1192c9bfa9',
      'a4dfbe80d4167ff5bc269f266778ee6d0eb771fd9f3c0c4d83757e7ae42fe3c8',
      246_687_044,
    ),
    wheel(
      'cp311',
      'arm64',
      '54/21/81371bce6071c18a65c99f20a7943048146a46256aa34b318a21e057d75c',
      '6c70b83afd6bfcc34b4b58d6a41f8c439c96811bbb7fe9fb1d2c2c9dd9c881b5',
      205_734_826,
    ),
    wheel(
      'cp312',
      'arm64',
      '39/2b/97887b3f49ddad0d22b596a1e32a38a8e029cad81c6342da6d709cdc381c',
      '12af352b24145b3480794fcf327d313a240550e772a07fb182390872c1a642fc',
      205_731_632,
    ),
    wheel(
      'cp313',
      'arm64',
      '07/cd/99171c84362c9a3292ec909c2e8edd922dec21d65e28e83e9d809ad178c6',
      '0c68878729527a28202af6c1b7ebc2fc5a687e9f6e02bfb8796e39d1fe775fd7',
      205_732_148,
    ),
    wheel(
      'cp313t',
      'arm64',
      'f5/b0/6187754ea45ce90c116730115e4d856a6107b9e708580093c112def9a567',
      'c6df4b62538f98482dd5cebc91cba668c4b82156e872517c314a383c904a191d',
      205_776_779,
    ),
    wheel(
      'cp314',
      'arm64',
      '73/93/415e8100a3d7d4754f406fadbe86fa91d03058a9a6d7fa8a692722e9ceb8',
      '96cb15cff2f0dffaef3ae636560145d41be47bb73e3230113f2e946ca576014b',
      205_736_852,
    ),
    wheel(
      'cp314t',
      'arm64',
      '74/3d/33878b36bc473415ff7ed92ba751a5b5181d2779c74441c3584c68261dbc',
      '13d4cf97120882739da8572ba26e2a0f39caed4c69749a147d8f1a77f74a4690',
      205_750_897,
    ),
    nupkg(),
  ],
};

/** The wheel whose provider libraries a runner without a usable Python gets (any wheel has the same build). */
export const FALLBACK_PYTHON_TAG = 'cp312';

/**
 * The CUDA libraries each provider library needs at load time. cuda13: the DT_NEEDED entries of the 1.30.0 wheel's
 * provider libraries (readelf -d; libc and friends left out). cuDNN 9 is not a DT_NEEDED of the CUDA provider
 * (ONNX Runtime dlopens it for the ops that use it: convolutions and some normalizations), so it is recommended
 * for `cuda` and required for `tensorrt`, which links it. cuda12: the same names at CUDA 12, assumed from the
 * CUDA 13 build because the NuGet package could not be downloaded here.
 */
export interface CudaLibraryNeeds {
  readonly required: readonly string[];
  readonly recommended: readonly string[];
}

export function cudaLibraryNeeds(provider: 'cuda' | 'tensorrt', cudaMajor: CudaMajor): CudaLibraryNeeds {
  const cuda = [
    `libcublasLt.so.${cudaMajor}`,
    `libcublas.so.${cudaMajor}`,
    'libcurand.so.10',
    `libcudart.so.${cudaMajor}`,
    'libcuda.so.1',
  ];
  if (provider === 'cuda') return { required: cuda, recommended: ['libcudnn.so.9'] };
  // TensorRT's provider falls back to the CUDA provider for the nodes TensorRT does not take: it needs both.
  return { required: [...cuda, 'libcudnn.so.9', ...TENSORRT_LIBRARIES], recommended: [] };
}

export const TENSORRT_LIBRARIES = ['libnvinfer.so.10', 'libnvonnxparser.so.10'] as const;

/** What installs a missing library, for the message that names it (pip names as NVIDIA publishes them). */
export function libraryHint(lib: string, cudaMajor: CudaMajor): string {
  if (lib === 'libcuda.so.1') return 'the NVIDIA driver';
  if (lib.startsWith('libnvinfer') || lib.startsWith('libnvonnxparser')) {
    return `TensorRT 10 for CUDA ${cudaMajor}; TensorRT cannot be installed by tr118`;
  }
  const base = lib.replace(/\.so\.\d+$/, '');
  if (base === 'libcudnn') return `pip install nvidia-cudnn-cu${cudaMajor}, or cuDNN 9 for CUDA ${cudaMajor}`;
  const pip: Record<string, string> = {
    libcublas: 'nvidia-cublas',
    libcublasLt: 'nvidia-cublas',
    libcurand: 'nvidia-curand',
    libcudart: 'nvidia-cuda-runtime',
  };
  const pkg = pip[base];
  if (!pkg) return `the CUDA ${cudaMajor} toolkit`;
  // CUDA 13's wheels dropped the -cuXY suffix (nvidia-cublas 13.x); CUDA 12's carry it.
  return `pip install ${cudaMajor === 12 ? `${pkg}-cu12` : pkg}, or the CUDA ${cudaMajor} toolkit`;
}
