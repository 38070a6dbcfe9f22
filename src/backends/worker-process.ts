/**
 * One worker process as the runner sees it: the child speaking the worker protocol on stdin and stdout, its stderr
 * kept (the last words of a crash), and the replies it sends emitted as events. ProcessBackend sends requests
 * through it; WorkerPool starts them early (while the export runs) and hands each to the backend that runs it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { describeError } from '../errors.js';
import { FrameDecoder } from './framing.js';
import { decodeReply } from './protocol.js';

/** How to start a worker process: the command, its arguments and environment additions. */
export interface WorkerLaunch {
  readonly command: string;
  readonly args: readonly string[];
  readonly env?: Readonly<Record<string, string>>;
}

const STDERR_TAIL_CHARS = 2000;

/** The end of each started child's stderr, and why it could not start if spawn said so (kept per child). */
const stderrTails = new WeakMap<ChildProcess, { text: string }>();
const startFailures = new WeakMap<ChildProcess, string>();

/**
 * Spawns a worker and wires it: stdout frames become 'reply' events (or 'garbled', with a description), stderr's
 * last characters are kept (stderrTailOf), and a process that could not start says why ('garbled', and
 * startFailureOf for a child that failed before anyone listened). Returns why not, if spawn itself throws.
 */
export function startWorkerProcess(launch: WorkerLaunch): ChildProcess | { readonly failed: string } {
  let child: ChildProcess;
  try {
    child = spawn(launch.command, [...launch.args], {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, ...launch.env },
    });
  } catch (error) {
    return { failed: `could not start the worker process: ${describeError(error)}` };
  }
  const tail = { text: '' };
  stderrTails.set(child, tail);
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (chunk: string) => {
    tail.text = (tail.text + chunk).slice(-STDERR_TAIL_CHARS);
  });
  // A worker that dies while a request is being written must not crash the runner with EPIPE.
  child.stdin?.on('error', () => undefined);
  const decoder = new FrameDecoder();
  child.stdout?.on('data', (chunk: Buffer) => {
    let frames;
    try {
      frames = decoder.push(chunk);
    } catch (error) {
      child.emit('garbled', `the worker wrote something that is not a protocol frame: ${describeError(error)}`);
      return;
    }
    for (const frame of frames) {
      const decoded = decodeReply(frame);
      if (decoded.ok) child.emit('reply', decoded.reply);
      else child.emit('garbled', `the worker sent a malformed reply: ${decoded.error}`);
    }
  });
  // spawn reports a missing executable asynchronously, as an 'error' event before 'exit'; a worker started early
  // may fail so before any request listens, so the reason is also kept.
  child.on('error', (error) => {
    const reason = `could not start the worker process: ${error.message}`;
    startFailures.set(child, reason);
    child.emit('garbled', reason);
  });
  return child;
}

/** The last characters the child wrote to stderr (its log), so far. */
export function stderrTailOf(child: ChildProcess): string {
  return stderrTails.get(child)?.text ?? '';
}

/** Why the child could not start, if spawn reported it (a missing executable); undefined otherwise. */
export function startFailureOf(child: ChildProcess): string | undefined {
  return startFailures.get(child);
}

/** Whether a child has exited (or been killed): it answers nothing more. */
export function hasEnded(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

/** Two launches start the same process: the same command, arguments and environment additions. */
export function sameLaunch(a: WorkerLaunch, b: WorkerLaunch): boolean {
  const env = (l: WorkerLaunch): string =>
    JSON.stringify(Object.entries(l.env ?? {}).sort(([x], [y]) => x.localeCompare(y)));
  return a.command === b.command && a.args.join('\0') === b.args.join('\0') && env(a) === env(b);
}
