/**
 * Whether an ONNX Runtime provider can run on this machine, and if not, why (said before a worker is started).
 * For cuda and tensorrt it names everything missing at once: the GPU, the provider libraries (provisioned by
 * `tr118 provision`, src/engines/onnxruntime/provision/), and the CUDA / cuDNN / TensorRT libraries the provider loads, as a worker
 * started now would see them (LD_LIBRARY_PATH, the ld.so cache).
 */
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import type { OrtProvider } from './spec.js';
import { findCudaLibraries, missingLibrariesText } from './provision/cuda-libraries.js';
import { ORT_GPU_PYTHONPATH_ENV, readOrtGpuRecord } from './provision/gpu-record.js';
import { probeNvidiaGpu, type NvidiaGpuProbe } from './provision/nvidia-gpu.js';
import { cudaLibraryNeeds, TENSORRT_LIBRARIES, type CudaMajor } from './provision/pins.js';
import { ortPackageDir } from './runtime.js';

/** The folder of onnxruntime-node's native binding for this platform, where provider libraries must sit. */
export function ortBindingDir(root: string | undefined = ortPackageDir()): string | undefined {
  if (!root) return undefined;
  const bin = path.join(root, 'bin');
  if (!existsSync(bin)) return undefined;
  for (const napi of readdirSync(bin).sort().reverse()) {
    const dir = path.join(bin, napi, process.platform, process.arch);
    if (existsSync(dir)) return dir;
  }
  return undefined;
}

const PROVIDER_LIBRARIES: Record<Exclude<OrtProvider, 'cpu'>, string[]> = {
  cuda: ['libonnxruntime_providers_shared.so', 'libonnxruntime_providers_cuda.so'],
  tensorrt: [
    'libonnxruntime_providers_shared.so',
    'libonnxruntime_providers_cuda.so',
    'libonnxruntime_providers_tensorrt.so',
  ],
};

/** What the machine has, asked once per process; tests give their own. */
export interface MachineProbe {
  readonly gpu: () => NvidiaGpuProbe;
  /** The libraries of `needed` that a worker started now could not load. */
  readonly missingLibraries: (needed: readonly string[]) => readonly string[];
}

export const SYSTEM_PROBE: MachineProbe = {
  gpu: probeNvidiaGpu,
  missingLibraries: (needed) => findCudaLibraries(needed, { loaderOnly: true }).missing,
};

const PROVISION_HINT = '(the Action does it: input onnxruntime-gpu)';

/**
 * Pure but for the probe and the file checks: undefined when the GPU provider can be tried, else every reason it
 * cannot, joined. `providerDir`: where its provider libraries must be (onnxruntime-node's binding folder, or the
 * Python package's capi/); undefined skips that check.
 */
export function gpuProviderUnavailableReason(
  provider: Exclude<OrtProvider, 'cpu'>,
  providerDir: string | undefined,
  cudaMajor: CudaMajor,
  probe: MachineProbe,
): string | undefined {
  const reasons: string[] = [];
  const gpu = probe.gpu();
  if (!gpu.present) reasons.push(`no NVIDIA GPU on this machine (${gpu.note})`);
  if (providerDir !== undefined) {
    const missing = PROVIDER_LIBRARIES[provider].filter((lib) => !existsSync(path.join(providerDir, lib)));
    if (missing.length > 0) {
      reasons.push(
        `ONNX Runtime ${provider} provider libraries are not provisioned (${missing.join(', ')} missing in ${providerDir}): ` +
          `run \`tr118 provision\` ${PROVISION_HINT}`,
      );
    }
  }
  const needs = cudaLibraryNeeds(provider, cudaMajor).required;
  const missingLibs = probe.missingLibraries(needs);
  const trt = new Set<string>(TENSORRT_LIBRARIES);
  const cudaMissing = missingLibs.filter((lib) => !trt.has(lib));
  const trtMissing = missingLibs.filter((lib) => trt.has(lib));
  if (cudaMissing.length > 0) {
    reasons.push(
      `CUDA ${cudaMajor} libraries not found on LD_LIBRARY_PATH or in the ld.so cache: ${missingLibrariesText(cudaMissing, cudaMajor)}`,
    );
  }
  if (trtMissing.length > 0) {
    reasons.push(
      `TensorRT libraries missing: ${trtMissing.join(', ')}. TensorRT cannot be installed by tr118; install TensorRT 10 ` +
        `for CUDA ${cudaMajor} and put its lib folder on LD_LIBRARY_PATH`,
    );
  }
  return reasons.length > 0 ? reasons.join('; ') : undefined;
}

/**
 * The CUDA major version of the provider libraries in a folder: what tr118 recorded when it put them there; else,
 * when they are there, onnxruntime-node's own installer's build (CUDA 12); else what `tr118 provision` installs on
 * a current driver (CUDA 13).
 */
export function providerCudaMajor(providerDir: string | undefined): CudaMajor {
  if (!providerDir) return 13;
  const record = readOrtGpuRecord(providerDir);
  if (record) return record.cudaMajor;
  return existsSync(path.join(providerDir, 'libonnxruntime_providers_cuda.so')) ? 12 : 13;
}

/** undefined when the provider can be tried from Node; otherwise the reason it cannot run here. */
export function providerUnavailableReason(
  provider: OrtProvider,
  bindingDir = ortBindingDir(),
  probe: MachineProbe = SYSTEM_PROBE,
): string | undefined {
  if (provider === 'cpu') return undefined;
  if (process.platform !== 'linux' && process.platform !== 'win32') {
    return `ONNX Runtime's ${provider} provider is not built for ${process.platform}`;
  }
  if (!bindingDir) return 'onnxruntime-node has no native binding for this platform';
  if (process.platform === 'win32') {
    // tr118 provisions and probes on Linux only: on Windows, only the files are checked.
    const missing = PROVIDER_LIBRARIES[provider].filter((lib) => !existsSync(path.join(bindingDir, lib)));
    return missing.length > 0
      ? `ONNX Runtime ${provider} provider libraries are not installed (${missing.join(', ')} missing in ${bindingDir})`
      : undefined;
  }
  return gpuProviderUnavailableReason(provider, bindingDir, providerCudaMajor(bindingDir), probe);
}

/**
 * The same for the Python worker's ONNX Runtime: the provider libraries of the wheel `tr118 provision` unpacked
 * (TR118_ORT_GPU_PYTHONPATH). Without that variable the worker imports its Python's own onnxruntime, whose files
 * only the worker can check (at open); the GPU and the CUDA libraries (CUDA 13: onnxruntime-gpu 1.30's build) are
 * still checked here.
 */
export function pythonProviderUnavailableReason(
  provider: OrtProvider,
  env: NodeJS.ProcessEnv = process.env,
  probe: MachineProbe = SYSTEM_PROBE,
): string | undefined {
  if (provider === 'cpu') return undefined;
  if (process.platform !== 'linux') return `tr118 runs ONNX Runtime's ${provider} provider in Python on Linux only`;
  const pythonPath = env[ORT_GPU_PYTHONPATH_ENV];
  if (!pythonPath) {
    // The worker's own onnxruntime-gpu finds its CUDA libraries itself (preload_dlls: pip nvidia-* packages), where
    // a search from here would not look: only the GPU is checked here, the worker says the rest at open.
    const gpu = probe.gpu();
    return gpu.present ? undefined : `no NVIDIA GPU on this machine (${gpu.note})`;
  }
  const providerDir = path.join(pythonPath, 'onnxruntime', 'capi');
  const cudaMajor = readOrtGpuRecord(pythonPath)?.cudaMajor ?? 13;
  return gpuProviderUnavailableReason(provider, providerDir, cudaMajor, probe);
}
