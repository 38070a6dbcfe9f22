/**
 * Sequential stopping as the matrix runs (measure/runner.ts): which cells are still open, when the time budget
 * forbids another repetition, and the stop record of each cell (settled, noise floor, or budget). The statistics
 * are measure/sequential.ts's; this holds the state between repetitions.
 */
import type { Config } from '../config/load.js';
import type { RunRecord, StopReason, StopRecord } from './records.js';
import {
  achievableFraction,
  couldSettleWithin,
  MIN_REPETITIONS,
  noiseFloorLine,
  optimisticSd,
  sequentialLook,
  sequentialMethod,
  type SequentialLook,
  type SequentialOptions,
} from './sequential.js';

export interface CellKey {
  readonly backend: string;
  readonly scenario: string;
}

const keyOf = (c: CellKey): string => `${c.backend}\u0000${c.scenario}`;

/** A cell's ok runs, base and candidate, of the repetitions where both sides are ok (in repetition order). */
export function pairedRepetitions(
  runs: readonly RunRecord[],
  cell: CellKey,
): { base: (readonly number[])[]; candidate: (readonly number[])[] } {
  const bySide = { base: new Map<number, readonly number[]>(), candidate: new Map<number, readonly number[]>() };
  for (const r of runs)
    if (r.backend === cell.backend && r.scenario === cell.scenario && r.status === 'ok')
      bySide[r.side].set(r.repetition, r.latenciesMs);
  const reps = [...bySide.candidate.keys()].filter((r) => bySide.base.has(r)).sort((a, b) => a - b);
  return { base: reps.map((r) => bySide.base.get(r)!), candidate: reps.map((r) => bySide.candidate.get(r)!) };
}

export class SequentialStopping {
  private readonly options: SequentialOptions;
  private readonly method: string;
  private readonly startedSeconds: number;
  private readonly open = new Map<string, CellKey>();
  private readonly lastLook = new Map<string, SequentialLook>();
  private outOfTime = false;

  constructor(
    private readonly config: Config,
    private readonly monotonicSeconds: () => number,
    cells: readonly CellKey[],
  ) {
    this.options = { thresholds: config.thresholds.latency, maxRepetitions: config.repetitions };
    this.method = sequentialMethod(config.thresholds.latency.confidence, config.repetitions);
    this.startedSeconds = monotonicSeconds();
    for (const cell of cells) this.open.set(keyOf(cell), cell);
  }

  isOpen(backend: string, scenario: string): boolean {
    return this.open.has(keyOf({ backend, scenario }));
  }

  anyOpen(): boolean {
    return this.open.size > 0;
  }

  /** False once another repetition, as long as the ones so far on average, would end past max_seconds. */
  mayStartRepetition(repetition: number): boolean {
    if (repetition === 0) return true;
    const elapsed = this.elapsedSeconds();
    if (elapsed + elapsed / repetition > this.config.stopping.maxSeconds) this.outOfTime = true;
    return !this.outOfTime;
  }

  /** Looks at every open cell after a repetition; the stop records of the cells that stop now. */
  afterRepetition(repetition: number, runs: readonly RunRecord[], at: string): StopRecord[] {
    const stops: StopRecord[] = [];
    const done = repetition + 1;
    const secondsPerRepetition = this.elapsedSeconds() / done;
    for (const [key, cell] of this.open) {
      const { base, candidate } = pairedRepetitions(runs, cell);
      const look = sequentialLook(base, candidate, this.options);
      if (!look) continue;
      this.lastLook.set(key, look);
      if (look.settled) {
        stops.push(this.record(cell, look, 'settled', look.settled, look.reason, null, null, at));
        continue;
      }
      // Noise floor, once, after the first block: what can the rest of the budget resolve at this noise?
      if (look.repetitions !== MIN_REPETITIONS) continue;
      const byTime = Math.floor(this.config.stopping.maxSeconds / Math.max(secondsPerRepetition, 1e-9));
      const looksAtBudget = Math.max(Math.min(this.config.repetitions, byTime), MIN_REPETITIONS);
      const achievable = achievableFraction(look.robustSdLogRatio, looksAtBudget, this.options);
      // The decision to stop takes the noise at its most favourable: a spread from three repetitions is itself very
      // uncertain, and an early `inconclusive` fails the gate by default, so the cell stops only if even the lower
      // bound of its spread could not settle it.
      const optimistic = achievableFraction(
        optimisticSd(look.robustSdLogRatio, look.repetitions),
        looksAtBudget,
        this.options,
      );
      // The runner cannot resolve the warn threshold, and this cell's answer would stay open at the budget's end. A
      // cell that looks slower than the warn line is never cut short: a regression gets the whole budget (and the
      // fixed-sample rules at its end) rather than an early `inconclusive`.
      const thresholds = this.config.thresholds.latency;
      if (optimistic <= thresholds.warnFraction || look.ratio - 1 > thresholds.warnFraction) continue;
      if (couldSettleWithin(look, optimistic, thresholds)) continue;
      const budgetSeconds = looksAtBudget * secondsPerRepetition;
      const line = noiseFloorLine(achievable, budgetSeconds, this.config.thresholds.latency);
      const reason = `${line}: stopped after ${look.repetitions} repetitions instead of spending the budget (${look.reason.replace(/^open: /, '')})`;
      stops.push(this.record(cell, look, 'noise-floor', null, reason, achievable, budgetSeconds, at));
    }
    for (const stop of stops) this.open.delete(keyOf(stop));
    return stops;
  }

  /** The cells still open when the budget ran out: decided by the fixed-sample rules, as before. */
  atBudgetEnd(at: string): StopRecord[] {
    const why: StopReason = this.outOfTime ? 'budget-seconds' : 'budget-repetitions';
    const stops = [...this.open].map(([key, cell]) => {
      const look = this.lastLook.get(key) ?? null;
      const budget =
        why === 'budget-seconds'
          ? `the ${this.config.stopping.maxSeconds} s budget`
          : `the ${this.config.repetitions}-repetition budget`;
      const reason = `still open at the end of ${budget}${look ? ` (${look.reason.replace(/^open: /, '')})` : ''}`;
      return this.record(cell, look, why, null, reason, null, null, at);
    });
    this.open.clear();
    return stops;
  }

  private elapsedSeconds(): number {
    return this.monotonicSeconds() - this.startedSeconds;
  }

  private record(
    cell: CellKey,
    look: SequentialLook | null,
    why: StopReason,
    decision: StopRecord['decision'],
    reason: string,
    achievable: number | null,
    budgetSeconds: number | null,
    at: string,
  ): StopRecord {
    return {
      kind: 'stop',
      backend: cell.backend,
      side: 'candidate',
      scenario: cell.scenario,
      method: this.method,
      repetitions: look?.repetitions ?? 0,
      why,
      decision,
      ratio: look?.ratio ?? null,
      ratioCi: look?.ratioCi ?? null,
      achievableFraction: achievable,
      budgetSeconds,
      reason,
      at,
    };
  }
}
