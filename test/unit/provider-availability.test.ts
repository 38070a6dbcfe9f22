import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  providerCudaMajor,
  providerUnavailableReason,
  pythonProviderUnavailableReason,
  type MachineProbe,
} from '../../src/engines/onnxruntime/availability.js';
import { ORT_GPU_RECORD_FILE } from '../../src/engines/onnxruntime/provision/gpu-record.js';
import { tempDir } from '../helpers/fixture.js';

const PROVIDERS = [
  'libonnxruntime_providers_shared.so',
  'libonnxruntime_providers_cuda.so',
  'libonnxruntime_providers_tensorrt.so',
];

/** A machine with a GPU and the given libraries (by name) loadable. */
function machine(present: boolean, loadable: readonly string[]): MachineProbe {
  return {
    gpu: () => ({
      present,
      driverCudaVersion: present ? '13.0' : null,
      note: present ? 'recorded' : 'no /dev/nvidia0 and no working nvidia-smi',
    }),
    missingLibraries: (needed) => needed.filter((lib) => !loadable.includes(lib)),
  };
}

const CUDA13 = ['libcublasLt.so.13', 'libcublas.so.13', 'libcurand.so.10', 'libcudart.so.13', 'libcuda.so.1'];

function binding(files: readonly string[], cudaMajor?: 12 | 13): string {
  const dir = tempDir();
  for (const lib of files) writeFileSync(path.join(dir, lib), '');
  if (cudaMajor !== undefined) {
    const digest = { sha256: 'a'.repeat(64), sizeBytes: 0 };
    writeFileSync(
      path.join(dir, ORT_GPU_RECORD_FILE),
      JSON.stringify({
        version: '1.30.0',
        variant: cudaMajor === 13 ? 'cuda13-cp312-x64' : 'cuda12-x64',
        cudaMajor,
        url: 'http://mirror/x',
        sha256: 'b'.repeat(64),
        pythonTag: cudaMajor === 13 ? 'cp312' : null,
        entryDir: dir,
        providerDir: '.',
        pythonPath: null,
        providers: Object.fromEntries(PROVIDERS.map((lib) => [lib, digest])),
      }),
    );
  }
  return dir;
}

describe.skipIf(process.platform !== 'linux')('GPU provider availability', () => {
  it('everything in place: the provider can be tried', () => {
    const dir = binding(PROVIDERS, 13);
    expect(providerUnavailableReason('cuda', dir, machine(true, CUDA13))).toBeUndefined();
    expect(providerUnavailableReason('cpu', dir, machine(false, []))).toBeUndefined();
  });

  it('names every missing thing at once: the GPU, the provider files (and how to get them), the CUDA libraries', () => {
    const dir = binding([]);
    expect(providerUnavailableReason('cuda', dir, machine(false, ['libcuda.so.1', 'libcurand.so.10']))).toBe(
      'no NVIDIA GPU on this machine (no /dev/nvidia0 and no working nvidia-smi); ' +
        `ONNX Runtime cuda provider libraries are not provisioned (libonnxruntime_providers_shared.so, libonnxruntime_providers_cuda.so missing in ${dir}): ` +
        'run `tr118 provision` (the Action does it: input onnxruntime-gpu); ' +
        'CUDA 13 libraries not found on LD_LIBRARY_PATH or in the ld.so cache: ' +
        'libcublasLt.so.13 (pip install nvidia-cublas, or the CUDA 13 toolkit), libcublas.so.13 (pip install nvidia-cublas, or the CUDA 13 toolkit), ' +
        'libcudart.so.13 (pip install nvidia-cuda-runtime, or the CUDA 13 toolkit)',
    );
  });

  it('a GPU, the provider files, no cuDNN: cuda can be tried (cuDNN is dlopened by the ops that use it)', () => {
    expect(providerUnavailableReason('cuda', binding(PROVIDERS, 13), machine(true, CUDA13))).toBeUndefined();
  });

  it('TensorRT: its libraries are named, with the fact that tr118 cannot install them', () => {
    const dir = binding(PROVIDERS, 13);
    expect(providerUnavailableReason('tensorrt', dir, machine(true, [...CUDA13, 'libcudnn.so.9']))).toBe(
      'TensorRT libraries missing: libnvinfer.so.10, libnvonnxparser.so.10. TensorRT cannot be installed by tr118; ' +
        'install TensorRT 10 for CUDA 13 and put its lib folder on LD_LIBRARY_PATH',
    );
    expect(providerUnavailableReason('tensorrt', binding(PROVIDERS.slice(0, 2), 13), machine(true, []))).toMatch(
      /libonnxruntime_providers_tensorrt\.so missing in .*; CUDA 13 libraries .*libcudnn\.so\.9 \(pip install nvidia-cudnn-cu13, or cuDNN 9 for CUDA 13\); TensorRT libraries missing: libnvinfer\.so\.10, libnvonnxparser\.so\.10\./,
    );
  });

  it('the CUDA version of the libraries to look for: the record; else 12 (NuGet installer) when files are there; else 13', () => {
    expect(providerCudaMajor(binding(PROVIDERS, 13))).toBe(13);
    expect(providerCudaMajor(binding(PROVIDERS, 12))).toBe(12);
    expect(providerCudaMajor(binding(PROVIDERS))).toBe(12);
    expect(providerCudaMajor(binding([]))).toBe(13);
    expect(providerUnavailableReason('cuda', binding(PROVIDERS), machine(true, CUDA13))).toMatch(
      /^CUDA 12 libraries not found .*: libcublasLt\.so\.12 \(pip install nvidia-cublas-cu12, or the CUDA 12 toolkit\)/,
    );
  });

  it("the Python worker's ONNX Runtime: the unpacked wheel's capi/ folder, when provisioned", () => {
    const wheel = tempDir();
    const capi = path.join(wheel, 'onnxruntime', 'capi');
    mkdirSync(capi, { recursive: true });
    writeFileSync(path.join(capi, 'libonnxruntime_providers_shared.so'), '');
    const env = { TR118_ORT_GPU_PYTHONPATH: wheel };
    expect(pythonProviderUnavailableReason('cuda', env, machine(true, CUDA13))).toBe(
      `ONNX Runtime cuda provider libraries are not provisioned (libonnxruntime_providers_cuda.so missing in ${capi}): ` +
        'run `tr118 provision` (the Action does it: input onnxruntime-gpu)',
    );
    writeFileSync(path.join(capi, 'libonnxruntime_providers_cuda.so'), '');
    expect(pythonProviderUnavailableReason('cuda', env, machine(true, CUDA13))).toBeUndefined();
    // Not provisioned by tr118: the worker's own onnxruntime decides (and finds its CUDA libraries itself); the GPU
    // is still checked here.
    expect(pythonProviderUnavailableReason('cuda', {}, machine(false, CUDA13))).toBe(
      'no NVIDIA GPU on this machine (no /dev/nvidia0 and no working nvidia-smi)',
    );
    expect(pythonProviderUnavailableReason('cuda', {}, machine(true, []))).toBeUndefined();
  });

  // This machine as it is (CI has no GPU): never a CPU number under a GPU name.
  it.skipIf(existsSync('/dev/nvidia0'))(
    'on this GPU-less machine, cuda and tensorrt are unavailable, naming why',
    () => {
      const dir = binding(PROVIDERS, 13);
      const cuda = providerUnavailableReason('cuda', dir);
      expect(cuda).toMatch(/^no NVIDIA GPU on this machine \(no \/dev\/nvidia0 and no working nvidia-smi\)/);
      expect(cuda).toContain('libcuda.so.1 (the NVIDIA driver)');
      const tensorrt = providerUnavailableReason('tensorrt', dir);
      expect(tensorrt).toMatch(/^no NVIDIA GPU on this machine/);
      expect(tensorrt).toContain('TensorRT libraries missing: libnvinfer.so.10, libnvonnxparser.so.10');
      expect(providerUnavailableReason('cuda')).toMatch(/^no NVIDIA GPU on this machine/);
    },
  );
});
