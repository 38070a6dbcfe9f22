/**
 * Whether this machine has an NVIDIA GPU at all, asked before a GPU backend's worker is started: a machine without
 * one gets `unavailable` with this reason at once (never a CPU number under a GPU name, never a Python start for
 * nothing). The driver creates /dev/nvidia0 (and /dev/nvidiactl) on Linux, inside containers given a GPU too.
 */
import { existsSync } from 'node:fs';

export function noGpuReason(
  platform: NodeJS.Platform = process.platform,
  exists: (file: string) => boolean = existsSync,
): string | undefined {
  if (platform !== 'linux') return undefined; // no device files to look at: the worker finds out
  if (exists('/dev/nvidiactl') || exists('/dev/nvidia0')) return undefined;
  return 'no NVIDIA GPU on this machine (no /dev/nvidia0 or /dev/nvidiactl: no driver, or the container was given no GPU)';
}
