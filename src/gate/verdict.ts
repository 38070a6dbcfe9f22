/**
 * The run's verdict: the gates that need no baseline (accuracy across backends, the degraded rate per cell, backends
 * that did not run) and, when there is one, the comparison with a baseline. Pure. Each reason names its subject, so
 * a reviewer sees which cell or backend decided; the basis says what was gated and what was not.
 */
import { z } from 'zod';
import type { DeepReadonly } from '../deep-readonly.js';
import type { AccuracyGate } from './accuracy-gate.js';
import type { CellDecision, Comparison } from './compare.js';

export const DECISIONS = ['pass', 'warn', 'fail', 'inconclusive'] as const;
export type Decision = (typeof DECISIONS)[number];

export const gateReasonSchema = z.object({
  rule: z.enum(['accuracy', 'degraded', 'coverage', 'latency', 'baseline']),
  subject: z.string(),
  decision: z.enum(DECISIONS),
  message: z.string(),
});
export type GateReason = DeepReadonly<z.infer<typeof gateReasonSchema>>;

export const verdictSchema = z.object({
  decision: z.enum(DECISIONS),
  reasons: z.array(gateReasonSchema),
  /** What the verdict rests on, in words (which comparisons were made). */
  basis: z.string(),
});
export type Verdict = DeepReadonly<z.infer<typeof verdictSchema>>;

export interface CellOutcome {
  readonly backend: string;
  readonly scenario: string;
  /** unavailable: the backend was configured but could not run here (firstReason says why). */
  readonly status: 'ok' | 'unavailable' | 'degraded';
  readonly runs: number;
  readonly degradedRuns: number;
  readonly firstReason: string | null;
}

/**
 * What is judged: a run's own cells and accuracy gate. A fresh run's results are one, and so is a results.json read
 * back (tr118 compare): both pass themselves whole, so neither can leave out a part of the candidate's own gates.
 */
export interface VerdictSubject {
  readonly cells: readonly CellOutcome[];
  readonly accuracy: AccuracyGate | null;
}

/** The config's verdict rules. */
export interface VerdictRules {
  /** thresholds.max_degraded_rate: a cell with a larger share of degraded runs fails. */
  readonly maxDegradedRate: number;
  /** How a cell measured in the base but not in the candidate counts (compare.missing_cell). */
  readonly missingCell: 'warn' | 'fail';
  /**
   * How a latency finding against a stored baseline counts at worst (compare.stored_regression): a fail, and a cell
   * too noisy or too different to tell (inconclusive, incomparable), count as no worse than this. Same-run stays.
   */
  readonly storedRegression: 'warn' | 'fail';
  /** How a configured backend that did not run counts (unavailable_backend); never a silent pass. */
  readonly unavailableBackend: 'warn' | 'fail';
}

/** What the subject was compared with. */
export interface VerdictAgainst {
  /** The comparison with a baseline (stored or same-run), when there is one. */
  readonly comparison: Comparison | null;
  /** Why there is no comparison though one was asked for (an unusable baseline, with "no-baseline" configured). */
  readonly baselineProblem?: string | undefined;
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

/**
 * Which verdict, or worse (pass < warn < inconclusive < fail), fails: the CLI's exit code (--fail-on), the Action's
 * step and its commit status (fail-on) follow this one rule. Default inconclusive: a run that could not tell is
 * not green unless the user says so (fail-on: fail).
 */
export const FAIL_ON = ['warn', 'inconclusive', 'fail', 'never'] as const;
export type FailOn = (typeof FAIL_ON)[number];
export const DEFAULT_FAIL_ON: FailOn = 'inconclusive';

export function failsOn(decision: Decision, failOn: FailOn): boolean {
  return failOn !== 'never' && SEVERITY[decision] >= SEVERITY[failOn];
}

/**
 * What the accuracy gate compared, in the basis's words: `gated` words, or why accuracy was `notGated`; neither
 * when only the comparison with the base gated it (the comparison's part of the basis says so).
 */
function accuracyBasis(
  accuracy: AccuracyGate | null,
  comparison: Comparison | undefined,
): { readonly gated?: string; readonly notGated?: string } {
  if (accuracy && accuracy.checks.length > 0) return { gated: accuracy.checks.join(', ') };
  if (comparison && comparison.accuracy.length > 0) return {};
  const why = !accuracy
    ? 'no perplexity measured'
    : accuracy.reference
      ? `the reference backend ${accuracy.reference} has no other backend to compare with`
      : 'no reference backend';
  return { notGated: `accuracy not gated (${why})` };
}

export function decide(subject: VerdictSubject, rules: VerdictRules, against: VerdictAgainst): Verdict {
  const reasons: GateReason[] = [];
  // A configured backend that did not run is said, once per backend: never a pass that silently covers less.
  const unavailable = new Map<string, string>();
  for (const cell of subject.cells) {
    if (cell.status === 'unavailable' && !unavailable.has(cell.backend))
      unavailable.set(cell.backend, cell.firstReason ?? 'no reason recorded');
  }
  const unavailableDecision = rules.unavailableBackend;
  for (const [backend, why] of unavailable) {
    reasons.push({
      rule: 'coverage',
      subject: backend,
      decision: unavailableDecision,
      message: `configured but not run (unavailable: ${why}); unavailable_backend: ${unavailableDecision}`,
    });
  }
  for (const cell of subject.cells) {
    if (cell.runs === 0) continue;
    const rate = cell.degradedRuns / cell.runs;
    if (rate > rules.maxDegradedRate) {
      reasons.push({
        rule: 'degraded',
        subject: `${cell.backend} × ${cell.scenario}`,
        decision: 'fail',
        message: `${cell.degradedRuns} of ${cell.runs} runs degraded (rate ${rate.toFixed(2)} > ${rules.maxDegradedRate}): ${cell.firstReason ?? 'no reason recorded'}`,
      });
    }
  }
  const measured = subject.cells.some((c) => c.runs > c.degradedRuns);
  if (!measured) {
    reasons.push({
      rule: 'coverage',
      subject: 'matrix',
      decision: 'inconclusive',
      message: 'no cell produced a measurement',
    });
  }
  if (subject.accuracy) {
    if (subject.accuracy.referenceProblem) {
      reasons.push({
        rule: 'accuracy',
        subject: 'reference',
        decision: 'inconclusive',
        message: subject.accuracy.referenceProblem,
      });
    }
    for (const row of subject.accuracy.rows) {
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
  const comparison = against.comparison ?? undefined;
  if (comparison) {
    for (const cell of comparison.cells) {
      if (cell.decision === 'pass') continue;
      let decision = cell.decision === 'missing' ? rules.missingCell : CELL_SEVERITY[cell.decision];
      const latencyFail = cell.decision === 'fail' && cell.ratio !== null;
      // Against a stored baseline, a cell that could not tell (too noisy, another machine) is no worse than a
      // measured regression there: both are within the drift between two processes that the run cannot see.
      const cannotTell = cell.decision === 'inconclusive' || cell.decision === 'incomparable';
      if (comparison.mode === 'stored' && rules.storedRegression === 'warn' && (latencyFail || cannotTell))
        decision = 'warn';
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
        // Perplexities of different evaluations cannot tell whether accuracy changed: as an incomparable cell.
        decision: row.decision === 'fail' ? 'fail' : row.decision === 'incomparable' ? 'inconclusive' : 'pass',
        message: row.decision === 'incomparable' ? `incomparable: ${row.reason}` : row.reason,
      });
    }
  }
  if (against.baselineProblem) {
    reasons.push({ rule: 'baseline', subject: 'baseline', decision: 'warn', message: against.baselineProblem });
  }
  const accuracy = accuracyBasis(subject.accuracy, comparison);
  // A lone reference backend with no baseline checks only that the runs ran: say so rather than a bare pass.
  const onlyDegraded = !comparison && accuracy.notGated !== undefined;
  if (onlyDegraded) {
    reasons.push({
      rule: 'coverage',
      subject: 'gates',
      decision: 'pass',
      message:
        'latency and accuracy were not gated: compare latency with --baseline or --base-model (compare.baseline, ' +
        'compare.base_model); gate accuracy with a second backend or thresholds.max_perplexity',
    });
  }
  const decision = worstDecision(reasons.map((r) => r.decision));
  const accuracyText = accuracy.gated ?? accuracy.notGated;
  const within = accuracyText ? `${accuracyText}, degraded runs per cell` : 'degraded runs per cell';
  const gated = comparison && comparison.accuracy.length > 0 ? 'latency and perplexity' : 'latency';
  const parts = onlyDegraded
    ? [`only degraded runs per cell were gated: latency not gated (no baseline), ${accuracy.notGated}`]
    : !comparison
      ? [within, 'latency not gated (no baseline)']
      : comparison.mode === 'same-run'
        ? [
            `same-run A/B against the base model ${comparison.base.label} (interleaved, paired by repetition): ${gated}`,
            within,
          ]
        : [`stored baseline ${comparison.base.label} (measured ${comparison.base.startedAt}): ${gated}`, within];
  if (unavailable.size > 0) parts.push(`not run: ${[...unavailable.keys()].join(', ')} (unavailable)`);
  return { decision, reasons, basis: parts.join('; ') };
}
