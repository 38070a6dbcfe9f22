/**
 * How the machine's own tools (git, nvidia-smi) are run: one small function, handed in, so that tests give recorded
 * output (or a missing tool) instead of the machine's, and a caller can tell "not installed" from "failed".
 */
import { execFileSync } from 'node:child_process';

/** What running a tool gave: its standard output, or why there is none. */
export type CommandResult =
  | { readonly ok: true; readonly stdout: string }
  /** missing: the program is not on PATH (ENOENT); otherwise it ran and failed, or (timedOut) did not answer. */
  | { readonly ok: false; readonly missing: boolean; readonly timedOut?: boolean; readonly reason: string };

export type CommandRunner = (command: string, args: readonly string[], options?: { cwd?: string }) => CommandResult;

/** Long enough for nvidia-smi on an 8-GPU host waking its driver, short enough not to stall a run. */
const TIMEOUT_MS = 10_000;

interface ExecError {
  code?: string;
  status?: number | null;
  signal?: string | null;
  stdout?: string | Buffer;
  stderr?: string | Buffer;
}

/** The first non-blank line a failed tool printed (nvidia-smi writes its errors to standard output). */
function firstLine(text: string | Buffer | undefined): string {
  return (
    String(text ?? '')
      .split('\n')
      .map((l) => l.trim())
      .find((l) => l !== '') ?? ''
  );
}

/** Runs programs for real; `env` replaces the process's environment (tests: a PATH without git). */
export function commandRunner(env: NodeJS.ProcessEnv = process.env): CommandRunner {
  return (command, args, options) => {
    try {
      const stdout = execFileSync(command, [...args], {
        cwd: options?.cwd,
        env,
        encoding: 'utf8',
        timeout: TIMEOUT_MS,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      return { ok: true, stdout };
    } catch (error) {
      const e = error as ExecError;
      if (e.code === 'ENOENT') return { ok: false, missing: true, reason: `${command} not found on PATH` };
      if (e.code === 'ETIMEDOUT' || (e.signal && e.status === null)) {
        const reason = `${command} did not answer within ${TIMEOUT_MS / 1000} s`;
        return { ok: false, missing: false, timedOut: true, reason };
      }
      const said = firstLine(e.stderr) || firstLine(e.stdout);
      const exit = typeof e.status === 'number' ? `exit status ${e.status}` : (e.code ?? 'failed');
      return { ok: false, missing: false, reason: `${command} failed (${exit})${said ? `: ${said}` : ''}` };
    }
  };
}
