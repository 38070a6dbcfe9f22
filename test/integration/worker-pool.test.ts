import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { ProcessBackend } from '../../src/backends/process-backend.js';
import { WorkerPool } from '../../src/backends/worker-pool.js';
import { ROOT, tempDir } from '../helpers/fixture.js';

const SPEC = { name: 'early', engine: 'pytorch' };
const openLog = (log: string) => ({
  command: process.execPath,
  args: [path.join(ROOT, 'test/helpers/open-log-worker.mjs')],
  env: { OPEN_LOG: log },
});
// A worker whose imports crash: it says why on stderr and exits before reading any request.
const CRASHING = {
  command: process.execPath,
  args: [
    '-e',
    'process.stderr.write("ImportError: libtorch_cpu.so: cannot open shared object file\\n"); process.exit(3)',
  ],
};

function logged(log: string): { readonly pid: number; readonly event: string }[] {
  return readFileSync(log, 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as { pid: number; event: string })
    .filter((e) => e.event === 'spawned');
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function exited(backend: ProcessBackend): Promise<void> {
  const child = (backend as unknown as { child?: { exitCode: number | null } }).child;
  for (let i = 0; i < 100 && child?.exitCode === null; i++) await sleep(50);
}

describe('WorkerPool: processes started before their backend exists (issue 23)', () => {
  it('passes: a backend takes the process started for its launch, and one for another launch is not taken', async () => {
    const log = path.join(tempDir(), 'workers.log');
    const pool = new WorkerPool();
    pool.prestart(openLog(log));
    expect(pool.counts).toEqual({ started: 1, waiting: 1 });
    expect(pool.take({ ...openLog(log), env: { OPEN_LOG: `${log}.other` } })).toBeUndefined();
    const backend = new ProcessBackend(SPEC, openLog(log), { pool });
    expect((await backend.open()).status).toBe('ok');
    expect(pool.counts).toEqual({ started: 1, waiting: 0 });
    // One process: the one started early opened the session.
    expect(new Set(logged(log).map((e) => e.pid)).size).toBe(1);
    await backend.close();
    await pool.close();
  });

  it('fails to keep anything after close: unclaimed processes are killed, and none start after it', async () => {
    const log = path.join(tempDir(), 'workers.log');
    const pool = new WorkerPool();
    pool.prestart(openLog(log));
    pool.prestart(openLog(log));
    for (let i = 0; i < 200 && (!existsSync(log) || logged(log).length < 2); i++) await sleep(50);
    const pids = logged(log).map((e) => e.pid);
    expect(pids).toHaveLength(2);
    await pool.close();
    for (const pid of pids) expect(isAlive(pid), `pid ${pid}`).toBe(false);
    pool.prestart(openLog(log));
    expect(pool.counts).toEqual({ started: 2, waiting: 0 });
  });

  it('a worker that died while it imported is not hidden: its open says how it exited and its last stderr', async () => {
    const pool = new WorkerPool();
    pool.prestart(CRASHING);
    const backend = new ProcessBackend(SPEC, CRASHING, { pool });
    backend.prestart();
    await exited(backend);
    const outcome = await backend.open();
    expect(outcome.status).toBe('degraded');
    expect(outcome.status === 'degraded' && outcome.reason).toMatch(
      /the worker process exited with code 3: ImportError: libtorch_cpu\.so: cannot open shared object file/,
    );
    expect(pool.counts).toEqual({ started: 1, waiting: 0 });
    await backend.close();
    await pool.close();
  });

  it('a worker started early whose executable is missing says so at its open', async () => {
    const pool = new WorkerPool();
    const missing = { command: path.join(ROOT, 'no-such-python'), args: ['-m', 'tr118_native.worker'] };
    pool.prestart(missing);
    const backend = new ProcessBackend(SPEC, missing, { pool });
    backend.prestart();
    await sleep(200); // spawn says ENOENT asynchronously, before anyone sends a request
    const outcome = await backend.open();
    expect(outcome.status === 'degraded' && outcome.reason).toMatch(/could not start the worker process: .*ENOENT/);
    await backend.close();
    await pool.close();
  });
});
