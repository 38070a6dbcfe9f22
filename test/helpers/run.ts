/**
 * Runs a child process without blocking the test worker. vitest workers answer their runner over an RPC that times
 * out after a minute; a spawnSync that outlasts it leaves "Timeout calling onTaskUpdate", which fails the run.
 */
import { spawn } from 'node:child_process';

/**
 * How long a child process a test starts may take before it is killed as hung: ten minutes, far beyond any case here
 * (seconds on a quiet machine, a few times that on a loaded one). A test asserts what a process did, never how fast
 * it was; a timeout that is the subject of a test (timeout_s of a hung worker) is set in that test.
 */
export const HANG_GUARD_MS = 600_000;

export interface Ran {
  readonly status: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface RunOptions {
  readonly cwd?: string;
  readonly env?: NodeJS.ProcessEnv;
  /** Killed (SIGKILL) after this long (default HANG_GUARD_MS); the result then has signal SIGKILL. */
  readonly timeoutMs?: number;
  readonly uid?: number;
  readonly gid?: number;
}

export function runProcess(command: string, args: readonly string[], options: RunOptions = {}): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, [...args], {
      cwd: options.cwd,
      env: options.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(options.uid !== undefined ? { uid: options.uid, gid: options.gid ?? options.uid } : {}),
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? HANG_GUARD_MS);
    child.on('error', reject);
    child.on('close', (status, signal) => {
      clearTimeout(timer);
      resolve({ status, signal, stdout, stderr });
    });
  });
}
