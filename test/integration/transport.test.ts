/**
 * One protocol, two kinds of worker: large logits tensors cross the frame transport intact from the ONNX Runtime
 * worker (Node) and from a Python peer; a worker that writes garbage or dies is degraded with its stderr, never a
 * crash of the runner.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { HANG_GUARD_MS } from '../helpers/run.js';
import { ortWorkerLaunch } from '../../src/engines/onnxruntime/index.js';
import { makeFeeds, openSession } from '../../src/engines/onnxruntime/session.js';
import { ortCpuSpec } from '../helpers/specs.js';
import { ProcessBackend, type WorkerLaunch } from '../../src/backends/process-backend.js';
import { FIXTURE_MODEL, ROOT } from '../helpers/fixture.js';

const spec = ortCpuSpec(FIXTURE_MODEL);
const venv = path.join(ROOT, '.venv/bin/python');
const python = (args: readonly string[]): WorkerLaunch => ({
  command: existsSync(venv) ? venv : 'python3',
  args,
  env: { PYTHONPATH: path.join(ROOT, 'native') },
});
const backends: ProcessBackend[] = [];
const start = async (launch: WorkerLaunch): Promise<ProcessBackend> => {
  const backend = new ProcessBackend(spec, launch);
  backends.push(backend);
  const opened = await backend.open();
  expect(opened.status).toBe('ok');
  return backend;
};
afterAll(async () => {
  await Promise.all(backends.map((b) => b.close()));
});

describe('the frame transport carries large logits exactly', () => {
  it('from the ONNX Runtime worker: 4×512×4096 logits (32 MiB) equal an in-process session.run bit for bit', async () => {
    const worker = await start(ortWorkerLaunch());
    const [batch, seqLen] = [4, 512];
    const inputIds = Array.from({ length: batch * seqLen }, (_, i) => (i * 7919) % 4096);
    const reply = await worker.logits({ batch, seqLen, inputIds }, HANG_GUARD_MS);
    if (reply.status !== 'ok') throw new Error(reply.reason);
    expect(reply.dims).toEqual([batch, seqLen, 4096]);
    const { session } = await openSession(FIXTURE_MODEL, spec);
    const out = await session.run(
      makeFeeds(session, batch, seqLen, inputIds, new Array<number>(inputIds.length).fill(1)),
    );
    const direct = out.logits!.data as Float32Array;
    expect(reply.logits.length).toBe(direct.length);
    expect(
      Buffer.from(reply.logits.buffer).equals(Buffer.from(direct.buffer, direct.byteOffset, direct.byteLength)),
    ).toBe(true);
    await session.release();
  });

  it('from a Python worker: 2×128×50257 logits (49 MiB) arrive with every value in place', async () => {
    const peer = await start(python([path.join(ROOT, 'native/tests/peers/loopback.py')]));
    const reply = await peer.logits({ batch: 2, seqLen: 128, inputIds: new Array<number>(256).fill(1) }, HANG_GUARD_MS);
    if (reply.status !== 'ok') throw new Error(reply.reason);
    expect(reply.dims).toEqual([2, 128, 50257]);
    let wrong = 0;
    for (let i = 0; i < reply.logits.length; i++) if (reply.logits[i] !== (i % 1000) * 0.25 - 100) wrong++;
    expect(wrong).toBe(0);
  });
});

describe('a worker that breaks the protocol is degraded with its own words', () => {
  it('a line that is not a frame: degraded, naming the line and the stderr tail; the next request restarts it', async () => {
    const script = [
      'import sys, json',
      'from tr118_native.worker.framing import read_frame, write_frame',
      'h, _ = read_frame(sys.stdin.buffer)',
      'write_frame(sys.stdout.buffer, {"type": "opened", "id": h["id"], "info": {"protocolVersion": 1, "runtime": "x", "runtimeVersion": "0", "providers": [], "inputNames": ["input_ids"], "outputNames": ["logits"], "openMs": 0}})',
      'read_frame(sys.stdin.buffer)',
      'print("torch says hello", file=sys.stderr, flush=True)',
      'sys.stdout.write("Loading checkpoint shards: 100%\\n"); sys.stdout.flush()',
      'sys.stdin.read()',
    ].join('\n');
    const worker = await start(python(['-c', script]));
    const run = await worker.run(
      { batch: 1, seqLen: 2, inputIds: [1, 2], attentionMask: [1, 1], warmup: 0, iterations: 1 },
      20_000,
    );
    expect(run.status).toBe('degraded');
    if (run.status !== 'degraded') return;
    expect(run.reason).toContain('not a protocol frame');
    expect(run.reason).toContain('Loading checkpoint shards');
    expect(run.reason).toContain('torch says hello');
  });

  it('a worker that exits mid-run: degraded with its exit code and stderr', async () => {
    const script = [
      'import sys',
      'from tr118_native.worker.framing import read_frame, write_frame',
      'h, _ = read_frame(sys.stdin.buffer)',
      'write_frame(sys.stdout.buffer, {"type": "opened", "id": h["id"], "info": {"protocolVersion": 1, "runtime": "x", "runtimeVersion": "0", "providers": [], "inputNames": ["input_ids"], "outputNames": ["logits"], "openMs": 0}})',
      'read_frame(sys.stdin.buffer)',
      'sys.exit("CUDA error: an illegal memory access was encountered")',
    ].join('\n');
    const worker = await start(python(['-c', script]));
    const run = await worker.run(
      { batch: 1, seqLen: 2, inputIds: [1, 2], attentionMask: [1, 1], warmup: 0, iterations: 1 },
      20_000,
    );
    expect(run).toEqual({
      status: 'degraded',
      reason: 'the worker process exited with code 1: CUDA error: an illegal memory access was encountered',
    });
  });

  it('a worker program that does not exist: degraded at open, naming it', async () => {
    const backend = new ProcessBackend(spec, { command: '/nonexistent/python3', args: [] });
    const opened = await backend.open();
    expect(opened.status).toBe('degraded');
    if (opened.status === 'degraded') expect(opened.reason).toContain('/nonexistent/python3');
  });
});
