/**
 * Where a run's seconds go (issue 23): one monotonic clock, and the time between two of its readings charged to the
 * phase the run is in. Exactly one phase is current at any moment (`other` when none is named), so the phases sum to
 * the span from the first reading to the last by construction: nothing is counted twice, nothing is lost.
 *
 * A phase entered inside another (a raw record written during the matrix) takes the time until it is left, then the
 * outer phase resumes. Figures a worker reports about itself (its session open, torch.compile's first call, the
 * timed passes) are moved afterwards from the phase that contained them (`reassign`), never added on top.
 */

/** The phases of a run, in the order they happen; README and results.json `phases` describe each. */
export const PHASES = [
  'inputs',
  'export',
  'engineBuild',
  'workerStart',
  'sessionOpen',
  'compile',
  'warmUp',
  'timedPasses',
  'endToEndPasses',
  'perplexity',
  'parity',
  'environment',
  'judging',
  'writing',
  'other',
] as const;
export type Phase = (typeof PHASES)[number];

export type PhaseSeconds = Readonly<Record<Phase, number>>;

/** A reading of a monotonic clock in milliseconds (`performance.now()`); only differences between readings count. */
export type MonotonicMs = () => number;

export interface PhaseClock {
  /** Runs `work` with `phase` current; the phase that was current before resumes after it, however it ends. */
  during<T>(phase: Phase, work: () => T): T;
  /** As `during`, for work that is awaited. */
  duringAsync<T>(phase: Phase, work: () => Promise<T>): Promise<T>;
  /**
   * Moves up to `seconds` already charged to `from` onto `to` (a worker's own figure for part of a span that was
   * charged whole). Never more than `from` holds, so no phase goes negative and the sum is unchanged.
   */
  reassign(from: Phase, to: Phase, seconds: number): void;
  /** The seconds of every phase so far, the current one's up to now. */
  seconds(): PhaseSeconds;
}

export function phaseClock(now: MonotonicMs = () => performance.now()): PhaseClock {
  const totalsMs = Object.fromEntries(PHASES.map((p) => [p, 0])) as Record<Phase, number>;
  let current: Phase = 'other';
  let since = now();
  // Charges the time since the last switch to the current phase, then makes `next` current.
  const switchTo = (next: Phase): Phase => {
    const at = now();
    totalsMs[current] += at - since;
    since = at;
    const previous = current;
    current = next;
    return previous;
  };
  return {
    during(phase, work) {
      const previous = switchTo(phase);
      try {
        return work();
      } finally {
        switchTo(previous);
      }
    },
    async duringAsync(phase, work) {
      const previous = switchTo(phase);
      try {
        return await work();
      } finally {
        switchTo(previous);
      }
    },
    reassign(from, to, seconds) {
      switchTo(current); // brings `from` up to date when it is the current phase
      const movedMs = Math.min(Math.max(seconds * 1000, 0), totalsMs[from]);
      totalsMs[from] -= movedMs;
      totalsMs[to] += movedMs;
    },
    seconds() {
      switchTo(current);
      return Object.fromEntries(PHASES.map((p) => [p, totalsMs[p] / 1000])) as Record<Phase, number>;
    },
  };
}

/** A phase clock that measures nothing: for callers (tests, benches) that do not ask where the time went. */
export const NO_PHASES: PhaseClock = {
  during: (_phase, work) => work(),
  duringAsync: (_phase, work) => work(),
  reassign: () => undefined,
  seconds: () => Object.fromEntries(PHASES.map((p) => [p, 0])) as Record<Phase, number>,
};

/** A worker's own figures for one session open: all of it, and torch.compile's first call within it. */
export interface OpenFigures {
  readonly openMs: number;
  readonly compileMs?: number | undefined;
}

/**
 * Session opens that ran concurrently were charged whole, as one span, to workerStart; within a device queue they
 * ran one after another (measure/runner.ts). The queue whose workers report the most seconds is the span's
 * critical path: its figures move to sessionOpen (the open less its compile) and compile. The other queues' opens
 * ran inside that span and are not moved as well (that would count the same second twice). What stays in
 * workerStart is what no worker timed: process start, imports before an open's timer, waiting on each other.
 */
export function reassignOpens(phases: PhaseClock, queues: readonly (readonly OpenFigures[])[]): void {
  const totalMs = (queue: readonly OpenFigures[]): number => queue.reduce((sum, o) => sum + o.openMs, 0);
  const critical = queues.reduce<readonly OpenFigures[]>((a, b) => (totalMs(b) > totalMs(a) ? b : a), []);
  const compileMs = critical.reduce((sum, o) => sum + (o.compileMs ?? 0), 0);
  phases.reassign('workerStart', 'sessionOpen', Math.max(totalMs(critical) - compileMs, 0) / 1000);
  phases.reassign('workerStart', 'compile', compileMs / 1000);
}
