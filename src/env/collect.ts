/** What machine and software a run measured on: for the manifest, and later for comparability of baselines. */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadOrt } from '../backends/onnxruntime/runtime.js';
import { packageRoot } from '../paths.js';

export interface GpuInfo {
  readonly name: string;
  readonly driverVersion: string;
  readonly memoryMiB: number;
  readonly computeCapability: string | null;
}

export interface Environment {
  readonly toolVersion: string;
  readonly nodeVersion: string;
  readonly onnxruntimeVersion: string;
  readonly os: string;
  readonly cpuModel: string;
  readonly cpuCount: number;
  readonly totalMemoryMiB: number;
  readonly gpus: readonly GpuInfo[];
  /** Why the GPU list is empty, when it is. */
  readonly gpuNote: string | null;
}

export interface GitState {
  readonly commit: string;
  /** True when the working tree differs from the commit: the commit alone does not describe what ran. */
  readonly dirty: boolean;
}

export function toolVersion(): string {
  const pkg = JSON.parse(readFileSync(path.join(packageRoot(), 'package.json'), 'utf8')) as { version?: string };
  return pkg.version ?? 'unknown';
}

function run(cmd: string, args: string[], cwd?: string): string | undefined {
  try {
    return execFileSync(cmd, args, {
      cwd,
      encoding: 'utf8',
      timeout: 10_000,
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
  } catch {
    return undefined;
  }
}

/** Parses `nvidia-smi --query-gpu=name,driver_version,memory.total,compute_cap --format=csv,noheader,nounits`. */
export function parseNvidiaSmi(csv: string): GpuInfo[] {
  return csv
    .split('\n')
    .map((line) => line.split(',').map((f) => f.trim()))
    .filter((fields) => fields.length >= 3 && fields[0])
    .map(([name = '', driverVersion = '', memory = '', cc]) => ({
      name,
      driverVersion,
      memoryMiB: Number(memory),
      computeCapability: cc && cc !== '[N/A]' ? cc : null,
    }));
}

export function collectEnvironment(): Environment {
  const cpus = os.cpus();
  const smi = run('nvidia-smi', [
    '--query-gpu=name,driver_version,memory.total,compute_cap',
    '--format=csv,noheader,nounits',
  ]);
  const gpus = smi ? parseNvidiaSmi(smi) : [];
  return {
    toolVersion: toolVersion(),
    nodeVersion: process.version,
    onnxruntimeVersion: loadOrt().env.versions.node ?? 'unknown',
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    cpuCount: cpus.length,
    totalMemoryMiB: Math.round(os.totalmem() / 2 ** 20),
    gpus,
    gpuNote:
      smi === undefined
        ? 'nvidia-smi not found or failed: no NVIDIA GPU seen'
        : gpus.length === 0
          ? 'nvidia-smi listed no GPU'
          : null,
  };
}

/** The git commit of the repository the run was started in (the measured repo), if it is one. */
export function collectGitState(cwd: string): GitState | null {
  const commit = run('git', ['rev-parse', 'HEAD'], cwd);
  if (!commit) return null;
  const status = run('git', ['status', '--porcelain', '--untracked-files=no'], cwd);
  return { commit, dirty: status !== undefined && status !== '' };
}
