/**
 * One job to a fresh worker process and its one reply: the requests that need no open model (the Python worker's
 * `export`, `probe`, `build`). Each job's owner declares its request and reply (model/onnx-export.ts,
 * engines/tensorrt/jobs.ts); the reply is validated against that schema here, in the same frames as a session. A
 * worker that crashes, hangs past the timeout or answers something else is an error with its stderr tail, never a
 * hang.
 */
import { spawn } from 'node:child_process';
import { prettifyError, type z } from 'zod';
import { describeError } from '../errors.js';
import { encodeFrame, FrameDecoder } from './framing.js';
import type { WorkerLaunch } from './process-backend.js';
import { errorReplySchema } from './protocol.js';

/** A job request: its type and fields (the id is added here). */
export type JobRequest = { readonly type: string } & Readonly<Record<string, unknown>>;

export type OneShotOutcome<R> =
  | { readonly ok: true; readonly reply: R }
  | { readonly ok: false; readonly reason: string; readonly kind?: 'unavailable' | 'degraded' | 'failed' | 'usage' };

const STDERR_TAIL_BYTES = 1000;
const TAIL_LINES = 4;

export function oneShot<R>(
  launch: WorkerLaunch,
  request: JobRequest,
  replySchema: z.ZodType<R>,
  timeoutMs: number,
): Promise<OneShotOutcome<R>> {
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
    const finish = (outcome: OneShotOutcome<R>): void => {
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
          const failed = errorReplySchema.safeParse(frame.header);
          if (failed.success) return finish({ ok: false, reason: failed.data.message, kind: failed.data.kind });
          const parsed = replySchema.safeParse(frame.header);
          if (!parsed.success) {
            return finish({ ok: false, reason: `malformed reply: ${prettifyError(parsed.error)}${tail()}` });
          }
          return finish({ ok: true, reply: parsed.data });
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
    child.stdin.write(encodeFrame({ ...request, id: 1 }));
  });
}
