/** Who holds a lock, and whether it can still be running (src/lock.ts): each rule both ways (issue 21). */
import { spawnSync } from 'node:child_process';
import { statSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  HEARTBEAT_MS,
  HEARTBEAT_STALE_MS,
  holderState,
  isStale,
  lockText,
  parseLockText,
  startHeartbeat,
  startTicksOf,
  systemProbe,
  type ProcessProbe,
} from '../../src/lock.js';
import { tempDir } from '../helpers/fixture.js';

const HERE: ProcessProbe = {
  host: 'runner-a',
  bootId: 'boot-1',
  startTicks: (pid) => (pid === 4242 ? '777' : pid === 5000 ? null : undefined),
};

describe('holderState', () => {
  it.each([
    ['this host, this boot, the same process', '4242\nrunner-a\nboot=boot-1\nstart=777\n', 'alive'],
    ['an old lock (pid and host only) of a live pid', '4242\nrunner-a\n', 'alive'],
    ['a live pid whose start time cannot be read', '5000\nrunner-a\nboot=boot-1\nstart=1\n', 'alive'],
    ['a dead pid', '999\nrunner-a\nboot=boot-1\nstart=5\n', 'gone'],
    ['a reused pid (another start time)', '4242\nrunner-a\nboot=boot-1\nstart=123\n', 'gone'],
    ['another boot of this host', '4242\nrunner-a\nboot=boot-0\nstart=777\n', 'gone'],
    [
      'another host (a container, a machine sharing the cache)',
      '4242\ncontainer-9\nboot=boot-1\nstart=777\n',
      'unknown',
    ],
  ])('%s: %s', (_, text, expected) => {
    expect(holderState(parseLockText(text)!, HERE)).toBe(expected);
  });

  it('a holder that cannot be asked is stale only once its heartbeat stopped; a gone one at once; an alive one never', () => {
    expect(isStale('unknown', HEARTBEAT_STALE_MS - 1)).toBe(false);
    expect(isStale('unknown', HEARTBEAT_STALE_MS + 1)).toBe(true);
    expect(isStale('gone', 0)).toBe(true);
    expect(isStale('alive', 10 * HEARTBEAT_STALE_MS)).toBe(false);
  });
});

describe('lock text', () => {
  it('reads what this version writes, and the formats older versions wrote', () => {
    expect(parseLockText('12\nh\nsince=2026-12-05T00:00:00.000Z\nboot=b\nstart=9\n')).toEqual({
      pid: 12,
      host: 'h',
      since: '2026-12-05T00:00:00.000Z',
      bootId: 'b',
      startTicks: '9',
    });
    expect(parseLockText('12\nh\n2026-01-01T00:00:00.000Z\n')).toMatchObject({
      pid: 12,
      since: '2026-01-01T00:00:00.000Z',
    });
    expect(parseLockText('')).toBeUndefined();
    expect(parseLockText('x\nh\n')).toBeUndefined();
  });

  it("field 22 of /proc/PID/stat, whatever the command's name holds", () => {
    const rest = 'S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 424242 20';
    expect(startTicksOf(`77 (node) ${rest}`)).toBe('424242');
    expect(startTicksOf(`77 (a b) c)) ${rest}`)).toBe('424242');
  });

  it('on this machine: this process is alive by its own lock; a finished child is gone', () => {
    const mine = parseLockText(lockText(systemProbe, 'now'))!;
    expect(mine.pid).toBe(process.pid);
    expect(holderState(mine, systemProbe)).toBe('alive');
    const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], {
      encoding: 'utf8',
    });
    expect(holderState({ ...mine, pid: Number(child.stdout) }, systemProbe)).toBe('gone');
  });
});

describe('startHeartbeat', () => {
  afterEach(() => vi.useRealTimers());

  it('touches the lock file every HEARTBEAT_MS until stopped', () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    const file = path.join(tempDir(), 'x.lock');
    writeFileSync(file, '1\nh\n');
    utimesSync(file, 1000, 1000);
    const stop = startHeartbeat(file);
    vi.advanceTimersByTime(HEARTBEAT_MS);
    expect(statSync(file).mtimeMs).toBeGreaterThan(1_000_000);
    stop();
    utimesSync(file, 1000, 1000);
    vi.advanceTimersByTime(3 * HEARTBEAT_MS);
    expect(statSync(file).mtimeMs).toBe(1_000_000);
  });
});
