/**
 * The calendar: the one place "now" comes from for everything that stamps or ages something (a run's start and
 * end, a cache entry's last use, `cache prune --older-than-days`, a lock's "since").
 *
 * `TR118_NOW` (an ISO 8601 instant) is a test hook: it sets the calendar of this process and of every tr118 process
 * it starts (the variable is inherited), so a test pins one date for the code it calls in-process and in children
 * alike. The pinned clock still advances with the process's monotonic clock, so durations stay real. Lint forbids
 * `Date.now()` and `new Date()` elsewhere in src/ (eslint.config.js), so no code can read the calendar around it.
 *
 * Two readings are deliberately *not* this clock:
 * - durations and deadlines (`performance.now()`), which must end whatever the calendar says;
 * - the age of a file (`fileAgeMs`): the kernel stamps mtimes with the system clock, so an age is only meaningful
 *   against that same clock. A pinned calendar must not make another process's fresh temporary folder look stale.
 */
import { UsageError } from './errors.js';

/** Milliseconds since the Unix epoch, as `Date.now()` gives them. */
export type Clock = () => number;

export const NOW_VARIABLE = 'TR118_NOW';

/** The system's calendar. */
// eslint-disable-next-line no-restricted-syntax -- the one allowed reading of the system calendar
export const systemClock: Clock = () => Date.now();

/** A calendar that reads `at` now and advances in real time from here (durations measured with it stay true). */
export function clockStartingAt(atMs: number): Clock {
  const started = performance.now();
  return () => Math.round(atMs + (performance.now() - started));
}

/** The clock of this process: `TR118_NOW` when it is set (a test hook), else the system's calendar. */
export function clockFromEnv(env: NodeJS.ProcessEnv = process.env): Clock {
  const text = env[NOW_VARIABLE];
  if (text === undefined || text === '') return systemClock;
  // An instant, not a local date: a bare `2026-11-25` would be read as UTC by Date.parse, `2026-11-25 10:00` as local
  // time; only the forms with an explicit zone mean the same on every machine.
  const atMs = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(text)
    ? Date.parse(text)
    : Number.NaN;
  if (!Number.isFinite(atMs)) {
    throw new UsageError(
      `${NOW_VARIABLE}: expected an ISO 8601 instant with a zone, e.g. 2026-12-04T12:00:00Z (a test hook that pins ` +
        `tr118's calendar; unset it for the real date); got ${JSON.stringify(text)}`,
    );
  }
  return clockStartingAt(atMs);
}

/** How long ago the kernel stamped `mtimeMs` (the system clock's reckoning; see the comment at the top). */
export function fileAgeMs(mtimeMs: number): number {
  // eslint-disable-next-line no-restricted-syntax -- mtimes are on the system clock, so their age is too
  return Date.now() - mtimeMs;
}

/** An ISO 8601 instant of a clock reading (`2026-12-04T12:00:00.000Z`). */
export function isoOf(ms: number): string {
  return new Date(ms).toISOString();
}
