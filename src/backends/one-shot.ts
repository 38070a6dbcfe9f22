/**
 * One request to a fresh worker process and its one reply: the requests that need no open model (the Python
 * worker's `export` and `build`). The same frames and validation as ProcessBackend; a worker that crashes, hangs
 * past the timeout or answers something else is an error with its stderr tail, never a hang.
 */
import { spawn } from 'node:child_process';
import { describeError } from '../errors.js';
import { FrameDecoder } from './framing.js';
import type { WorkerLaunch } from './process-backend.js';
import { decodeReply, encodeRequest, type WorkerReply, type WorkerRequest } from './protocol.js';

/** Distributes Omit over a union (each request type keeps its own fields). */
type WithoutId<T> = T extends unknown ? Omit<T, 'id'> : never;

export type OneShotOutcome =
  | { readonly ok: true; readonly reply: WorkerReply }
  | { readonly ok: false; readonly reason: string; readonly kind?: 'unavailable' | 'degraded' | 'failed' | 'usage' };

const STDERR_TAIL_BYTES = 1000;
const TAIL_LINES = 4;

export function oneShot(
  launch: WorkerLaunch,
  request: WithoutId<WorkerRequest>,
  timeoutMs: number,
): Promise<OneShotOutcome> {
  return new Promise((resolve) => {
    const child = spawn(launch.command, launch.args, {
      env: { ...process.env, ...launch.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stderr = '';
    let settled = false;
    // The last lines of the worker's log (a Python traceback ends with the exception), on one line: the reason
    // becomes one error line (exit 2) or one backend reason, never a wall of text.
    const tail = (): string => {
      const lines = stderr
        .trim()
        .split('\n')
        .map((l) => l.trim())
        .filter(Boolean);
      return lines.length > 0
        ? `; worker stderr: …${lines.slice(-TAIL_LINES).join(' ⏎ ').slice(-STDERR_TAIL_BYTES)}`
        : '';
    };
    const finish = (outcome: OneShotOutcome): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      child.stdin.end();
      if (child.exitCode === null) child.kill('SIGKILL');
      resolve(outcome);
    };
    const timer = setTimeout(
      () =>
        finish({ ok: false, reason: `the worker did not answer within ${(timeoutMs / 1000).toFixed(0)} s${tail()}` }),
      timeoutMs,
    );
    child.stderr.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString('utf8')).slice(-STDERR_TAIL_BYTES * 2);
    });
    const decoder = new FrameDecoder();
    child.stdout.on('data', (chunk: Buffer) => {
      try {
        for (const frame of decoder.push(chunk)) {
          const decoded = decodeReply(frame);
          if (!decoded.ok) return finish({ ok: false, reason: `malformed reply: ${decoded.error}${tail()}` });
          const reply = decoded.reply;
          if (reply.type === 'error') return finish({ ok: false, reason: reply.message, kind: reply.kind });
          return finish({ ok: true, reply });
        }
      } catch (error) {
        finish({
          ok: false,
          reason: `the worker wrote something that is not a frame: ${describeError(error)}${tail()}`,
        });
      }
    });
    child.on('error', (error) => finish({ ok: false, reason: `could not start the worker: ${error.message}` }));
    child.on('close', (code, signal) =>
      finish({ ok: false, reason: `the worker exited (${signal ?? `code ${String(code)}`}) without a reply${tail()}` }),
    );
    child.stdin.on('error', () => undefined);
    child.stdin.write(encodeRequest({ ...request, id: 1 }));
  });
}
