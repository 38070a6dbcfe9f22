/** What machine and software a run measured on: for the manifest, and later for comparability of baselines. */
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import type { DeepReadonly } from '../deep-readonly.js';
import { loadOrt } from '../engines/onnxruntime/runtime.js';
import { packageRoot } from '../paths.js';
import { commandRunner, type CommandRunner } from './command.js';
import { gpuStateSchema } from './gpu-state.js';

export const gpuInfoSchema = z.object({
  name: z.string(),
  driverVersion: z.string(),
  memoryMiB: z.number(),
  computeCapability: z.string().nullable(),
});
export type GpuInfo = DeepReadonly<z.infer<typeof gpuInfoSchema>>;

export const environmentSchema = z.object({
  toolVersion: z.string(),
  nodeVersion: z.string(),
  onnxruntimeVersion: z.string(),
  os: z.string(),
  cpuModel: z.string(),
  cpuCount: z.number(),
  totalMemoryMiB: z.number(),
  gpus: z.array(gpuInfoSchema),
  /** Why the GPU list is empty, when it is. */
  gpuNote: z.string().nullable(),
  /**
   * The GPUs' clocks, temperature, power and throttle reasons before and after the matrix (env/gpu-state.ts).
   * Absent where nothing was measured around a matrix (bench records) and in results made before it was recorded.
   */
  gpuState: gpuStateSchema.optional(),
});
export type Environment = DeepReadonly<z.infer<typeof environmentSchema>>;

export const gitStateSchema = z.object({
  /** null: no commit could be read (not a repository, no git); `note` says which. */
  commit: z.string().nullable(),
  /**
   * True when the working tree differs from the commit: the commit alone does not describe what ran. null: unknown
   * (git could not say), never taken for clean, since a clean tree is what a reader would then wrongly assume.
   */
  dirty: z.boolean().nullable(),
  /** Why commit or dirty is null (absent in results made before it was recorded). */
  note: z.string().nullable().default(null),
});
export type GitState = DeepReadonly<z.infer<typeof gitStateSchema>>;

export function toolVersion(): string {
  const pkg = JSON.parse(readFileSync(path.join(packageRoot(), 'package.json'), 'utf8')) as { version?: string };
  return pkg.version ?? 'unknown';
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

export function collectEnvironment(commands: CommandRunner = commandRunner()): Environment {
  const cpus = os.cpus();
  const answer = commands('nvidia-smi', [
    '--query-gpu=name,driver_version,memory.total,compute_cap',
    '--format=csv,noheader,nounits',
  ]);
  const smi = answer.ok ? answer.stdout.trim() : undefined;
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

/**
 * The git commit of the repository the run was started in (the measured repo), and whether its tracked files had
 * changes; each null with the reason when git could not say (not a repository, git not installed, git failing).
 */
export function collectGitState(cwd: string, commands: CommandRunner = commandRunner()): GitState {
  const head = commands('git', ['rev-parse', 'HEAD'], { cwd });
  if (!head.ok) return { commit: null, dirty: null, note: head.reason };
  const commit = head.stdout.trim();
  const status = commands('git', ['status', '--porcelain', '--untracked-files=no'], { cwd });
  if (!status.ok) return { commit, dirty: null, note: status.reason };
  return { commit, dirty: status.stdout.trim() !== '', note: null };
}
