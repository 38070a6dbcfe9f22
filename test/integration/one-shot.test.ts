/** One request to a fresh worker (backends/one-shot.ts): a worker that dies says why on one line. */
import { describe, expect, it } from 'vitest';
import { HANG_GUARD_MS } from '../helpers/run.js';
import { oneShot } from '../../src/backends/one-shot.js';

const dying = (stderr: string, code = 1) => ({
  command: process.execPath,
  args: ['-e', `process.stderr.write(${JSON.stringify(stderr)}); process.exit(${code})`],
});

describe('oneShot', () => {
  it('a worker that exits without a reply: the reason ends with its last log lines, on one line', async () => {
    const traceback =
      'Traceback (most recent call last):\n  File "x.py", line 1, in <module>\n    import torch\n' +
      '  File "torch/__init__.py", line 9\n\nOSError: libcudart.so.13: cannot open shared object file\n';
    const outcome = await oneShot(dying(traceback), { type: 'probe', engine: 'tensorrt', deviceId: 0 }, HANG_GUARD_MS);
    expect(outcome).toEqual({
      ok: false,
      reason:
        'the worker exited (code 1) without a reply; worker stderr: …File "x.py", line 1, in <module> ⏎ import torch ⏎ ' +
        'File "torch/__init__.py", line 9 ⏎ ' +
        'OSError: libcudart.so.13: cannot open shared object file',
    });
  });

  it('a long log is cut from the front, never past one line', async () => {
    const outcome = await oneShot(
      dying(`${'x'.repeat(5000)}\nlast words\n`),
      { type: 'probe', engine: 'tensorrt', deviceId: 0 },
      30_000,
    );
    expect(outcome.ok).toBe(false);
    const reason = outcome.ok ? '' : outcome.reason;
    expect(reason).not.toContain('\n');
    expect(reason.endsWith('⏎ last words')).toBe(true);
    expect(reason.length).toBeLessThan(1100);
  });

  it('a worker that cannot be started', async () => {
    const outcome = await oneShot(
      { command: '/nonexistent/python', args: [] },
      { type: 'probe', engine: 'tensorrt', deviceId: 0 },
      30_000,
    );
    expect(outcome).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/^could not start the worker: spawn \/nonexistent\/python ENOENT/) as unknown,
    });
  });
});
