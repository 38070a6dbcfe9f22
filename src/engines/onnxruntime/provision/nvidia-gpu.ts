/**
 * Is there an NVIDIA GPU here, and which CUDA major version does its driver run? The driver's "CUDA Version" (the
 * header of plain `nvidia-smi`) is the newest CUDA runtime it can run: a CUDA 13 build of ONNX Runtime needs a
 * driver that says 13.x; a 12.x driver needs the CUDA 12 build.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

export interface NvidiaGpuProbe {
  readonly present: boolean;
  /** The driver's CUDA version from nvidia-smi's header, e.g. `13.0`; null when not read. */
  readonly driverCudaVersion: string | null;
  /** Why no GPU was seen (names what was looked at), or what was seen. */
  readonly note: string;
}

/** "CUDA Version: 13.0" in nvidia-smi's header → { major: 13, minor: 0 }. */
export function parseDriverCudaVersion(nvidiaSmiText: string): { major: number; minor: number } | undefined {
  const m = /CUDA Version\s*:\s*(\d+)\.(\d+)/.exec(nvidiaSmiText);
  return m ? { major: Number(m[1]), minor: Number(m[2]) } : undefined;
}

/** Pure: what /dev/nvidia0 and nvidia-smi's output (undefined: it did not run or failed) say. */
export function judgeNvidiaGpu(deviceNode: boolean, nvidiaSmiText: string | undefined): NvidiaGpuProbe {
  const version = nvidiaSmiText === undefined ? undefined : parseDriverCudaVersion(nvidiaSmiText);
  const cuda = version ? `${version.major}.${version.minor}` : null;
  if (nvidiaSmiText !== undefined) {
    return { present: true, driverCudaVersion: cuda, note: `nvidia-smi: driver CUDA version ${cuda ?? 'not shown'}` };
  }
  if (deviceNode)
    return { present: true, driverCudaVersion: null, note: '/dev/nvidia0 exists; nvidia-smi did not run' };
  return { present: false, driverCudaVersion: null, note: 'no /dev/nvidia0 and no working nvidia-smi' };
}

let probed: NvidiaGpuProbe | undefined;

/** Runs nvidia-smi once per process (availability asks once per backend). */
export function probeNvidiaGpu(): NvidiaGpuProbe {
  if (probed) return probed;
  let text: string | undefined;
  try {
    text = execFileSync('nvidia-smi', [], { encoding: 'utf8', timeout: 15_000, stdio: ['ignore', 'pipe', 'ignore'] });
  } catch {
    text = undefined;
  }
  probed = judgeNvidiaGpu(existsSync('/dev/nvidia0'), text);
  return probed;
}
