/**
 * Who holds a lock file, and whether that holder can still be running. Used by the output folder's `.tr118.lock`
 * (out-dir.ts) and the artifact store's per-key locks (cache/store.ts).
 *
 * A pid alone says little: after a reboot, in another container or once the pid is reused, "pid 4242 is alive" is
 * about another process. So a lock records host, boot id (/proc/sys/kernel/random/boot_id) and the process's start
 * time (field 22 of /proc/PID/stat, in clock ticks since boot), and the holder refreshes the file's mtime while it
 * holds it (a heartbeat): a holder on another host, which cannot be asked, is taken for gone once its heartbeat is
 * older than HEARTBEAT_STALE_MS. Reading the machine (/proc) is the edge; the rules are pure functions of it.
 */
import { readFileSync, utimesSync } from 'node:fs';
import os from 'node:os';
import { systemClock } from './clock.js';

/** How often a holder touches its lock file. */
export const HEARTBEAT_MS = 10_000;
/** A lock whose holder cannot be asked (another host) and whose heartbeat is older than this is stale. */
export const HEARTBEAT_STALE_MS = 60_000;

export interface LockHolder {
  readonly pid: number;
  readonly host: string;
  /** The kernel's boot id when the lock was taken; absent in locks older tr118 versions wrote, or off Linux. */
  readonly bootId?: string | undefined;
  /** The holder's start time in clock ticks since boot (/proc/PID/stat field 22); absent as bootId is. */
  readonly startTicks?: string | undefined;
  /** When the lock was taken (ISO), if written. */
  readonly since?: string | undefined;
}

/** What the machine says about processes: injected in tests. */
export interface ProcessProbe {
  readonly host: string;
  readonly bootId: string | undefined;
  /** undefined: no such process; null: it exists but its start time cannot be read. */
  readonly startTicks: (pid: number) => string | null | undefined;
}

function readTrimmed(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}

/** Field 22 of /proc/PID/stat; the command name (field 2) may hold spaces and parentheses, so count from its end. */
export function startTicksOf(stat: string): string | null {
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return fields[19] ?? null;
}

/** This machine, read from /proc where there is one (elsewhere: kill(pid, 0) alone). */
export const systemProbe: ProcessProbe = {
  host: os.hostname(),
  bootId: readTrimmed('/proc/sys/kernel/random/boot_id'),
  startTicks: (pid) => {
    try {
      process.kill(pid, 0);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EPERM') return undefined;
    }
    const stat = readTrimmed(`/proc/${pid}/stat`);
    return stat === undefined ? null : startTicksOf(stat);
  },
};

/** The text of a lock held by this process: pid and host first (as older versions wrote), then named fields. */
export function lockText(probe: ProcessProbe, since: string): string {
  const start = probe.startTicks(process.pid);
  return (
    `${process.pid}\n${probe.host}\nsince=${since}\n` +
    (probe.bootId ? `boot=${probe.bootId}\n` : '') +
    (start ? `start=${start}\n` : '')
  );
}

export function parseLockText(text: string): LockHolder | undefined {
  const [pid, host, ...rest] = text.split('\n');
  const n = Number(pid);
  if (!Number.isInteger(n) || n <= 0) return undefined;
  const field = (name: string) => rest.find((l) => l.startsWith(`${name}=`))?.slice(name.length + 1);
  // Older store locks wrote the time bare on line 3.
  const since = field('since') ?? (rest[0] && !rest[0].includes('=') ? rest[0] : undefined);
  return { pid: n, host: host ?? '', bootId: field('boot'), startTicks: field('start'), since };
}

export function readLockHolder(file: string): LockHolder | undefined {
  try {
    return parseLockText(readFileSync(file, 'utf8'));
  } catch {
    return undefined;
  }
}

/**
 * alive: the holder is this machine's process, confirmed; gone: it cannot be (dead pid, another boot, a reused pid);
 * unknown: it cannot be asked (another host, or a container with its own hostname): judge by the heartbeat.
 */
export type HolderState = 'alive' | 'gone' | 'unknown';

export function holderState(holder: LockHolder, probe: ProcessProbe): HolderState {
  if (holder.host !== probe.host) return 'unknown';
  if (holder.bootId && probe.bootId && holder.bootId !== probe.bootId) return 'gone';
  const start = probe.startTicks(holder.pid);
  if (start === undefined) return 'gone';
  if (holder.startTicks && start !== null && start !== holder.startTicks) return 'gone';
  return 'alive';
}

/** Whether a lock file whose holder is in `state`, last touched `heartbeatAgeMs` ago, may be taken over. */
export function isStale(state: HolderState, heartbeatAgeMs: number): boolean {
  return state === 'gone' || (state === 'unknown' && heartbeatAgeMs > HEARTBEAT_STALE_MS);
}

/** Touches `file` every HEARTBEAT_MS until stopped; never keeps the process alive by itself. */
export function startHeartbeat(file: string): () => void {
  const timer = setInterval(() => {
    try {
      // File times are on the system clock (as fileAgeMs reads them): the heartbeat is "now" there.
      const nowSeconds = systemClock() / 1000;
      utimesSync(file, nowSeconds, nowSeconds);
    } catch {
      // Released or taken over: the holder finds out when it releases.
    }
  }, HEARTBEAT_MS);
  timer.unref();
  return () => clearInterval(timer);
}

/** "pid 4242 on host-a since 2026-12-05T01:00:00Z" */
export function describeHolder(holder: LockHolder, probe: ProcessProbe): string {
  const host = holder.host !== probe.host ? ` on ${holder.host}` : '';
  return `pid ${holder.pid}${host}${holder.since ? ` since ${holder.since}` : ''}`;
}
