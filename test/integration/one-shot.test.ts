/** One request to a fresh worker (backends/one-shot.ts): a worker that dies says why on one line. */
import { describe, expect, it } from 'vitest';
import { HANG_GUARD_MS } from '../helpers/run.js';
import { oneShot } from '../../src/backends/one-shot.js';
import { probedReplySchema, type ProbeRequest } from '../../src/engines/tensorrt/jobs.js';

const PROBE: ProbeRequest = { type: 'probe', engine: 'tensorrt', deviceId: 0 };

/** A worker that answers any request with `reply` (one frame: a JSON header line). */
const answering = (reply: object) => ({
  command: process.execPath,
  args: [
    '-e',
    `process.stdin.once('data', () => process.stdout.write(${JSON.stringify(JSON.stringify(reply) + '\n')}))`,
  ],
});

const dying = (stderr: string, code = 1) => ({
  command: process.execPath,
  args: ['-e', `process.stderr.write(${JSON.stringify(stderr)}); process.exit(${code})`],
});

describe('oneShot', () => {
  it('a worker that exits without a reply: the reason ends with its last log lines, on one line', async () => {
    const traceback =
      'Traceback (most recent call last):\n  File "x.py", line 1, in <module>\n    import torch\n' +
      '  File "torch/__init__.py", line 9\n\nOSError: libcudart.so.13: cannot open shared object file\n';
    const outcome = await oneShot(dying(traceback), PROBE, probedReplySchema, HANG_GUARD_MS);
    expect(outcome).toEqual({
      ok: false,
      reason:
        'the worker exited (code 1) without a reply; worker stderr: …File "x.py", line 1, in <module> ⏎ import torch ⏎ ' +
        'File "torch/__init__.py", line 9 ⏎ ' +
        'OSError: libcudart.so.13: cannot open shared object file',
    });
  });

  it('a long log is cut from the front, never past one line', async () => {
    const outcome = await oneShot(dying(`${'x'.repeat(5000)}\nlast words\n`), PROBE, probedReplySchema, HANG_GUARD_MS);
    expect(outcome.ok).toBe(false);
    const reason = outcome.ok ? '' : outcome.reason;
    expect(reason).not.toContain('\n');
    expect(reason.endsWith('⏎ last words')).toBe(true);
    expect(reason.length).toBeLessThan(1100);
  });

  it('a worker that cannot be started', async () => {
    const outcome = await oneShot(
      { command: '/nonexistent/python', args: [] },
      PROBE,
      probedReplySchema,
      HANG_GUARD_MS,
    );
    expect(outcome).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/^could not start the worker: spawn \/nonexistent\/python ENOENT/) as unknown,
    });
  });

  it("the reply is checked against the job owner's schema: a whole one is the typed reply", async () => {
    const reply = { type: 'probed', id: 1, tensorrtVersion: '10.13.3.9', computeCapability: '9.0', gpu: 'NVIDIA H200' };
    const outcome = await oneShot(answering(reply), PROBE, probedReplySchema, HANG_GUARD_MS);
    expect(outcome).toEqual({ ok: true, reply });
  });

  it('a reply missing what the owner declares is malformed, naming the field; an error reply keeps its kind', async () => {
    const partial = await oneShot(
      answering({ type: 'probed', id: 1, gpu: 'x' }),
      PROBE,
      probedReplySchema,
      HANG_GUARD_MS,
    );
    expect(partial.ok).toBe(false);
    expect(partial.ok ? '' : partial.reason).toMatch(/^malformed reply: .*tensorrtVersion/s);
    const refused = await oneShot(
      answering({ type: 'error', id: 1, kind: 'unavailable', message: 'tensorrt is not installed' }),
      PROBE,
      probedReplySchema,
      HANG_GUARD_MS,
    );
    expect(refused).toEqual({ ok: false, reason: 'tensorrt is not installed', kind: 'unavailable' });
  });
});
