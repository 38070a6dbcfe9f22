/**
 * Same-run A/B's reopen (protocol.ts `reopen`): the running worker releases both sessions and opens them again in
 * the order asked, in its own process; a worker that does not answer it in time is restarted, as before. The Node
 * ONNX Runtime worker on the fixture, watched through tap-worker.mjs (which logs each request with its process id).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ProcessBackend, type WorkerLaunch } from '../../src/backends/process-backend.js';
import { loadConfigFile } from '../../src/config/load.js';
import { reopenBeforeSequential } from '../../src/measure/pairing.js';
import { runPipeline } from '../../src/pipeline/index.js';
import { FIXTURE_MODEL, ROOT, tempDir, writeConfig } from '../helpers/fixture.js';
import { HANG_GUARD_MS } from '../helpers/run.js';
import { ortCpuSpec } from '../helpers/specs.js';

interface Logged {
  readonly type: string;
  readonly baseFirst: boolean | null;
  readonly pid: number;
}

const readLog = (file: string): Logged[] =>
  readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as Logged);

/** The ONNX Runtime worker (src/, through tsx), each request it reads logged to `log`. */
const tappedOrtWorker = (log: string): WorkerLaunch => ({
  command: process.execPath,
  args: ['--import', 'tsx', path.join(ROOT, 'test/helpers/tap-worker.mjs')],
  env: { TAP_LOG: log, TAP_WORKER: path.join(ROOT, 'src/engines/onnxruntime/worker.ts') },
});

const backends: ProcessBackend[] = [];
afterAll(async () => {
  await Promise.all(backends.map((b) => b.close()));
});

describe('the ONNX Runtime worker reopens both sessions in its process', () => {
  it('in either order, and runs both models after it', async () => {
    const log = path.join(tempDir(), 'tap.log');
    const backend = new ProcessBackend(ortCpuSpec(FIXTURE_MODEL), tappedOrtWorker(log), {
      baseModelPath: FIXTURE_MODEL,
    });
    backends.push(backend);
    expect((await backend.open()).status).toBe('ok');
    for (const side of ['base', 'candidate'] as const) {
      const reopened = await backend.reopen(side);
      expect(reopened.status === 'ok' && reopened.info.runtime).toBe('onnxruntime-node');
    }
    const ids = Array.from({ length: 8 }, (_, i) => i + 1);
    const ran = await backend.run(
      {
        batch: 1,
        seqLen: 8,
        inputIds: ids,
        attentionMask: ids.map(() => 1),
        warmup: 0,
        iterations: 2,
        paired: 'base-first',
      },
      HANG_GUARD_MS,
    );
    expect(ran.status === 'ok' && [ran.latenciesMs.length, ran.baseLatenciesMs?.length]).toEqual([2, 2]);
    await backend.close();
    const asked = readLog(log);
    expect(asked.map((a) => `${a.type} ${String(a.baseFirst)}`)).toEqual([
      'open false',
      'reopen true',
      'reopen false',
      'run null',
      'close null',
    ]);
    expect(new Set(asked.map((a) => a.pid)).size).toBe(1);
  });

  it('a sequential same-run A/A on the fixture starts its worker once, the open order still C B B C', async () => {
    const dir = tempDir();
    const log = path.join(dir, 'tap.log');
    const config = loadConfigFile(
      writeConfig(
        dir,
        `backends: [onnxruntime-cpu]\nscenarios:\n  s: { batch: 1, seq_len: 16 }\nrepetitions: 6\niterations: 5\nwarmup: 1\n` +
          `accuracy: { enabled: false }\ncompare: { base_model: ${FIXTURE_MODEL} }\n`,
      ),
    );
    const { results } = await runPipeline({
      config,
      outDir: path.join(dir, 'out'),
      backendOptions: { nodeWorker: tappedOrtWorker(log) },
    });
    // Wherever the A/A stopped (settled or its budget), every repetition after the first asked its reopen.
    const repetitions = results.cells[0]?.sequential?.repetitions ?? 0;
    expect(repetitions).toBeGreaterThanOrEqual(3);
    const expected = ['open false'];
    for (let r = 1; r < repetitions; r++) {
      const side = reopenBeforeSequential(r);
      if (side) expected.push(`reopen ${String(side === 'base')}`);
    }
    const asked = readLog(log);
    expect(
      asked.filter((a) => a.type === 'open' || a.type === 'reopen').map((a) => `${a.type} ${String(a.baseFirst)}`),
    ).toEqual(expected);
    expect(new Set(asked.map((a) => a.pid)).size).toBe(1);
  });
});

describe('a reopen that gets no answer', () => {
  it('restarts the worker with the order asked once the open timeout passes, as before', async () => {
    const log = path.join(tempDir(), 'ab.log');
    const backend = new ProcessBackend(
      ortCpuSpec(FIXTURE_MODEL),
      {
        command: process.execPath,
        args: [path.join(ROOT, 'test/helpers/ab-worker.mjs')],
        env: { AB_WORKER_LOG: log, AB_WORKER_REOPEN: 'ignore' },
      },
      { baseModelPath: FIXTURE_MODEL, openTimeoutMs: 500 },
    );
    backends.push(backend);
    expect((await backend.open()).status).toBe('ok');
    expect((await backend.reopen('base')).status).toBe('ok');
    await backend.close();
    const asked = readLog(log);
    expect(asked.map((a) => `${a.type} ${String(a.baseFirst)}`)).toEqual(['open false', 'reopen true', 'open true']);
    expect(asked[2]!.pid).not.toBe(asked[0]!.pid);
  });
});
