/**
 * Same-run A/B: every backend's worker holds the candidate and the base model and times their passes alternately
 * (A B A B …). Everything about the two sides lives here: which side's pass goes first in each repetition, which
 * side's session is opened first (swapped halfway), and splitting the raw records of a run into its two sides. The
 * side is a field of every raw record, never a suffix of a name. Pure.
 */
import type { PairedOrder, Side } from '../backends/types.js';
import type { Measurement } from './records.js';

export type { Side } from '../backends/types.js';

/**
 * Which side's pass opens the A B A B pattern of a repetition: alternating by repetition, so that neither side is
 * always the one timed right after a pause.
 */
export function passOrder(repetition: number): PairedOrder {
  return repetition % 2 === 0 ? 'candidate-first' : 'base-first';
}

/**
 * Which side's session is opened first for a repetition. The session opened first measures about 1% slower (seen
 * on the development VM), so from the halfway repetition on, the workers run with the base model's session opened
 * first; a single repetition keeps the candidate's.
 */
export function sessionOpenedFirst(repetition: number, repetitions: number): Side {
  return repetition > 0 && repetition >= Math.floor(repetitions / 2) ? 'base' : 'candidate';
}

/** The side whose session the workers must reopen first before this repetition, or null when nothing changes. */
export function reopenBefore(repetition: number, repetitions: number): Side | null {
  if (repetition === 0) return null;
  const now = sessionOpenedFirst(repetition, repetitions);
  return now === sessionOpenedFirst(repetition - 1, repetitions) ? null : now;
}

/**
 * Sequential stopping may end a run after any repetition from the third, so balancing halfway through a budget it
 * may never reach would leave most stops with the candidate's session opened first. Instead the side opened first
 * follows C B B C, C B B C … by repetition: with passOrder's alternation, every 4 repetitions hold each
 * (session, pass) order combination once, and at any stop the two sessions differ by at most one repetition.
 */
export function sessionOpenedFirstSequential(repetition: number): Side {
  const phase = repetition % 4;
  return phase === 1 || phase === 2 ? 'base' : 'candidate';
}

/** Sequential stopping: the side to reopen first before this repetition, or null when nothing changes. */
export function reopenBeforeSequential(repetition: number): Side | null {
  if (repetition === 0) return null;
  const now = sessionOpenedFirstSequential(repetition);
  return now === sessionOpenedFirstSequential(repetition - 1) ? null : now;
}

/** The records of one side of a run; without a base model, every record is the candidate's. */
export function splitMeasurement(measurement: Measurement, side: Side): Measurement {
  const mine = <T extends { readonly side: Side }>(records: readonly T[]): T[] =>
    records.filter((r) => r.side === side);
  return {
    backends: mine(measurement.backends),
    runs: mine(measurement.runs),
    accuracy: mine(measurement.accuracy),
    parity: mine(measurement.parity),
    // A stop is the pair's: both sides' cells ran the same repetitions.
    stops: measurement.stops ?? [],
  };
}
