/**
 * Worker processes started before their backends exist (issue 23): the pipeline knows each backend's launch recipe
 * (its Python or Node command) from the config alone, so it starts the processes, and their imports (torch:
 * seconds), while the export, the variant derivations and the engine builds run. A backend then takes the process
 * started for its launch instead of spawning one (ProcessBackend), and sends it the open once its model exists.
 *
 * A process nobody took (its backend turned out unavailable, or the run stopped before the matrix) is killed by
 * close(), which the pipeline calls however the run ends: nothing outlives the run.
 */
import type { ChildProcess } from 'node:child_process';
import { hasEnded, sameLaunch, startWorkerProcess, type WorkerLaunch } from './worker-process.js';

/** How long close() waits for a killed child's exit before it stops waiting (SIGKILL cannot be refused). */
const EXIT_WAIT_MS = 5000;

export class WorkerPool {
  private readonly waiting: { readonly launch: WorkerLaunch; readonly child: ChildProcess }[] = [];
  private closed = false;
  /** Every child started here, taken or not: how many a run started early (tests, the log). */
  private startedCount = 0;

  /**
   * Starts a process for `launch`, kept until a backend takes it. After close(), or if spawn throws, nothing is
   * started: the backend spawns its own at open, and says there why it could not.
   */
  prestart(launch: WorkerLaunch): void {
    if (this.closed) return;
    const child = startWorkerProcess(launch);
    if ('failed' in child) return;
    this.startedCount++;
    this.waiting.push({ launch, child });
  }

  /**
   * A process started for this launch, now the caller's (alive, or dead: a worker that died during its imports is
   * handed over as it is, so that its exit and stderr are reported at its open rather than hidden by a respawn).
   */
  take(launch: WorkerLaunch): ChildProcess | undefined {
    const index = this.waiting.findIndex((w) => sameLaunch(w.launch, launch));
    if (index < 0) return undefined;
    return this.waiting.splice(index, 1)[0]!.child;
  }

  /** How many processes were started early, and how many still wait for a backend. */
  get counts(): { readonly started: number; readonly waiting: number } {
    return { started: this.startedCount, waiting: this.waiting.length };
  }

  /** Kills every process no backend took, and starts no more; resolves once they have exited. */
  async close(): Promise<void> {
    this.closed = true;
    const left = this.waiting.splice(0);
    await Promise.all(left.map(({ child }) => killAndWait(child)));
  }
}

function killAndWait(child: ChildProcess): Promise<void> {
  // No pid: spawn failed (a missing executable), there is no process to wait for.
  if (hasEnded(child) || child.pid === undefined) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, EXIT_WAIT_MS);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.stdin?.end();
    child.kill('SIGKILL');
  });
}
