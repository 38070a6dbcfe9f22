/**
 * The run's verdict from the gates that need no baseline: accuracy across backends and the degraded rate per cell.
 * Pure. Each reason names its subject, so a reviewer sees which cell or backend decided.
 */
import type { AccuracyGate } from './accuracy.js';
import type { CellDecision, Comparison } from './compare.js';

export type Decision = 'pass' | 'warn' | 'fail' | 'inconclusive';

export interface GateReason {
  readonly rule: 'accuracy' | 'degraded' | 'coverage' | 'latency' | 'baseline';
  readonly subject: string;
  readonly decision: Decision;
  readonly message: string;
}

export interface Verdict {
  readonly decision: Decision;
  readonly reasons: readonly GateReason[];
  /** What the verdict rests on, in words (which comparisons were made). */
  readonly basis: string;
}

export interface CellOutcome {
  readonly backend: string;
  readonly scenario: string;
  readonly runs: number;
  readonly degradedRuns: number;
  readonly firstReason: string | null;
}

export interface VerdictInput {
  readonly cells: readonly CellOutcome[];
  readonly accuracy: AccuracyGate | null;
  readonly maxDegradedRate: number;
  /** The comparison with a baseline, when there is one. */
  readonly comparison?: Comparison | undefined;
  /** Why there is no comparison though one was asked for (an unusable baseline, with "no-baseline" configured). */
  readonly baselineProblem?: string | undefined;
  /** How a cell measured in the base but not in the candidate counts (compare.missing_cell). */
  readonly missingCellDecision?: 'warn' | 'fail' | undefined;
  /** How a latency fail against a stored baseline counts (compare.stored_regression); same-run fails stay fails. */
  readonly storedRegressionDecision?: 'warn' | 'fail' | undefined;
}

/** How a cell's comparison counts in the verdict; improvements and new cells are notes, not problems. */
const CELL_SEVERITY: Record<CellDecision, Decision> = {
  pass: 'pass',
  improvement: 'pass',
  new: 'pass',
  warn: 'warn',
  fail: 'fail',
  inconclusive: 'inconclusive',
  incomparable: 'inconclusive',
  missing: 'warn',
};

const SEVERITY: Record<Decision, number> = { pass: 0, warn: 1, inconclusive: 2, fail: 3 };

/** The worst of some decisions (pass when there are none): how reasons, and the parts of a split matrix, combine. */
export function worstDecision(decisions: Iterable<Decision>): Decision {
  let worst: Decision = 'pass';
  for (const d of decisions) if (SEVERITY[d] > SEVERITY[worst]) worst = d;
  return worst;
}

export function decide(input: VerdictInput): Verdict {
  const reasons: GateReason[] = [];
  for (const cell of input.cells) {
    if (cell.runs === 0) continue;
    const rate = cell.degradedRuns / cell.runs;
    if (rate > input.maxDegradedRate) {
      reasons.push({
        rule: 'degraded',
        subject: `${cell.backend} × ${cell.scenario}`,
        decision: 'fail',
        message: `${cell.degradedRuns} of ${cell.runs} runs degraded (rate ${rate.toFixed(2)} > ${input.maxDegradedRate}): ${cell.firstReason ?? 'no reason recorded'}`,
      });
    }
  }
  const measured = input.cells.some((c) => c.runs > c.degradedRuns);
  if (!measured) {
    reasons.push({
      rule: 'coverage',
      subject: 'matrix',
      decision: 'inconclusive',
      message: 'no cell produced a measurement',
    });
  }
  if (input.accuracy) {
    if (input.accuracy.referenceProblem) {
      reasons.push({
        rule: 'accuracy',
        subject: 'reference',
        decision: 'inconclusive',
        message: input.accuracy.referenceProblem,
      });
    }
    for (const row of input.accuracy.rows) {
      if (row.pass === false) {
        reasons.push({
          rule: 'accuracy',
          subject: row.backend,
          decision: 'fail',
          message: row.error ?? 'accuracy gate failed',
        });
      }
    }
  }
  const comparison = input.comparison;
  if (comparison) {
    for (const cell of comparison.cells) {
      if (cell.decision === 'pass') continue;
      let decision = cell.decision === 'missing' ? (input.missingCellDecision ?? 'warn') : CELL_SEVERITY[cell.decision];
      const latencyFail = cell.decision === 'fail' && cell.ratio !== null;
      if (latencyFail && comparison.mode === 'stored' && input.storedRegressionDecision === 'warn') decision = 'warn';
      reasons.push({
        rule: 'latency',
        subject: `${cell.backend} × ${cell.scenario}`,
        decision,
        message: `${cell.decision}: ${cell.reason}`,
      });
    }
    for (const row of comparison.accuracy) {
      if (row.decision === 'pass') continue;
      reasons.push({
        rule: 'accuracy',
        subject: `${row.backend} vs base`,
        decision: row.decision === 'fail' ? 'fail' : 'pass',
        message: row.reason,
      });
    }
  }
  if (input.baselineProblem) {
    reasons.push({ rule: 'baseline', subject: 'baseline', decision: 'warn', message: input.baselineProblem });
  }
  const decision = worstDecision(reasons.map((r) => r.decision));
  const within = input.accuracy?.reference
    ? `perplexity against the reference backend ${input.accuracy.reference}, degraded runs per cell`
    : 'degraded runs per cell';
  const basis = !comparison
    ? `${within}; no latency baseline`
    : comparison.mode === 'same-run'
      ? `same-run A/B against the base model ${comparison.base.label} (interleaved, paired by repetition); ${within}`
      : `stored baseline ${comparison.base.label} (measured ${comparison.base.startedAt}); ${within}`;
  return { decision, reasons, basis };
}
