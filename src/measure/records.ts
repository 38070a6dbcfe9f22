/**
 * Raw records: one JSON line each in results.jsonl, appended the moment they are measured, so a crash or a kill
 * leaves everything measured so far readable.
 */
import type { SessionInfo } from '../backends/protocol.js';
import type { Side } from '../backends/types.js';

export type BackendStatus = 'ok' | 'unavailable' | 'degraded';

export interface BackendRecord {
  readonly kind: 'backend';
  readonly backend: string;
  /** Which model of the worker: the candidate, or in same-run A/B the base model (measure/pairing.ts). */
  readonly side: Side;
  readonly status: BackendStatus;
  readonly reason?: string;
  readonly info?: SessionInfo;
  readonly at: string;
}

/** One run: one repetition of one cell, i.e. `warmup` untimed then `iterations` timed forward passes. */
export interface RunRecord {
  readonly kind: 'run';
  readonly backend: string;
  readonly side: Side;
  readonly scenario: string;
  readonly repetition: number;
  /** Position of this run in the whole run sequence (cells are shuffled per repetition). */
  readonly sequence: number;
  readonly batch: number;
  readonly seqLen: number;
  readonly realTokens: number;
  readonly warmup: number;
  readonly iterations: number;
  readonly status: 'ok' | 'degraded';
  readonly reason?: string;
  /** The gated figure of every timed pass (what it covers: the backend's SessionInfo.timerCovers). */
  readonly latenciesMs: readonly number[];
  /** GPU workers: as many end-to-end passes (host inputs in, logits out to the host), reported beside. */
  readonly endToEndLatenciesMs?: readonly number[];
  /** A compile happened during these timed passes (a compiled backend's new shape with `warmup: 0`, or a recompile):
   * the passes are kept as measured, and the run says which cells hold one. */
  readonly compiledInTimedPasses?: true;
  readonly at: string;
}

export interface AccuracyRecord {
  readonly kind: 'accuracy';
  readonly backend: string;
  readonly side: Side;
  readonly status: 'ok' | 'degraded';
  readonly reason?: string;
  readonly nllSum?: number;
  readonly scoredTokens?: number;
  readonly windows?: number;
  /** Peak resident memory of the backend's worker process after scoring. */
  readonly peakRssMiB?: number;
  readonly at: string;
}

/** Logits of the probe batch compared with the reference backend's. */
export interface ParityRecord {
  readonly kind: 'parity';
  readonly backend: string;
  /** Parity is against the run's reference backend on the candidate model: never the base's. */
  readonly side: 'candidate';
  /** null: skipped for want of a reference (the reason says why). */
  readonly reference: string | null;
  /** skipped: never compared (measure/parity-plan.ts); degraded: compared but no figure came out. */
  readonly status: 'ok' | 'degraded' | 'skipped';
  readonly reason?: string;
  readonly maxAbsDelta?: number;
  readonly meanAbsDelta?: number;
  readonly top1Agreement?: number;
  readonly positions?: number;
  readonly at: string;
}

/** Why a same-run cell stopped repeating under sequential stopping (measure/sequential.ts). */
export const STOP_REASONS = ['settled', 'budget-repetitions', 'budget-seconds', 'noise-floor'] as const;
export type StopReason = (typeof STOP_REASONS)[number];

/**
 * Sequential stopping: one cell stopped repeating (same-run A/B only; the candidate's side, as the decision is).
 * Its figures are the confidence sequence's at the stop: `decision` is set when it settled, and a noise-floor stop
 * carries what the budget could have resolved.
 */
export interface StopRecord {
  readonly kind: 'stop';
  readonly backend: string;
  readonly side: 'candidate';
  readonly scenario: string;
  /** The method's name and parameters, as the report states them. */
  readonly method: string;
  /** Repetitions this cell ran (paired observations the decision rests on). */
  readonly repetitions: number;
  readonly why: StopReason;
  /** settled: the decision the confidence sequence settled on; otherwise null (the fixed-sample rules decide). */
  readonly decision: 'pass' | 'improvement' | 'warn' | 'fail' | null;
  /** exp(mean per-repetition paired log-ratio) and its confidence-sequence interval; null before 2 repetitions. */
  readonly ratio: number | null;
  readonly ratioCi: readonly [number, number] | null;
  /** The relative change the budget's last look would resolve (its interval's half-width), from the noise so far. */
  readonly achievableFraction: number | null;
  /** The seconds of repetitions the budget allows, as projected when the cell stopped. */
  readonly budgetSeconds: number | null;
  readonly reason: string;
  readonly at: string;
}

export type RawRecord = BackendRecord | RunRecord | AccuracyRecord | ParityRecord | StopRecord;

/** Every raw record of a run, by kind. */
export interface Measurement {
  readonly backends: readonly BackendRecord[];
  readonly runs: readonly RunRecord[];
  readonly accuracy: readonly AccuracyRecord[];
  readonly parity: readonly ParityRecord[];
  /** Sequential stopping's stop of each same-run cell; absent or empty for fixed runs. */
  readonly stops?: readonly StopRecord[];
}
