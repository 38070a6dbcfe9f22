/**
 * The run's verdict from the gates that need no baseline: accuracy across backends and the degraded rate per cell.
 * Pure. Each reason names its subject, so a reviewer sees which cell or backend decided.
 */
import type { AccuracyGate } from './accuracy.js';

export type Decision = 'pass' | 'warn' | 'fail' | 'inconclusive';

export interface GateReason {
  readonly rule: 'accuracy' | 'degraded' | 'coverage';
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
}

const SEVERITY: Record<Decision, number> = { pass: 0, warn: 1, inconclusive: 2, fail: 3 };

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
  const decision = reasons.reduce<Decision>(
    (worst, r) => (SEVERITY[r.decision] > SEVERITY[worst] ? r.decision : worst),
    'pass',
  );
  const basis = input.accuracy?.reference
    ? `perplexity against the reference backend ${input.accuracy.reference}, and degraded runs per cell; no latency baseline`
    : 'degraded runs per cell; no latency baseline';
  return { decision, reasons, basis };
}
