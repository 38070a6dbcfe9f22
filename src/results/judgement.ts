/**
 * The verdict of a run, decided in one place for `tr118 run` (and the Action) and for `tr118 compare`: the
 * candidate's own gates (accuracy across backends, degraded runs, backends that did not run) and its comparison with
 * a base (the same-run base model, a stored baseline, or none), under the config's rules; and verdict.json, written
 * by one function for both. Given the same config, candidate and base, `run` and `compare` decide the same.
 */
import type { Config } from '../config/load.js';
import { writeFileAtomic } from '../out-dir.js';
import {
  compareResults,
  ratioDefinitions,
  type ComparableResults,
  type CompareOptions,
  type Comparison,
  type ComparisonMode,
} from '../gate/compare.js';
import { decide, type Verdict, type VerdictRules, type VerdictSubject } from '../gate/verdict.js';
import { RESULTS_SCHEMA_VERSION, type AccuracyResult, type MeasuredResults, type Results } from './schema.js';

export function compareOptions(config: Config, mode: ComparisonMode): CompareOptions {
  return {
    mode,
    latency: config.thresholds.latency,
    perplexityDeltaFraction: config.thresholds.perplexityDeltaFraction,
    maxDegradedRateIncrease: config.thresholds.maxDegradedRateIncrease,
    allowEnvironmentChange: config.compare.allowEnvironmentChange,
    missingCell: config.compare.missingCell,
    seed: config.seed,
  };
}

export function verdictRules(config: Config): VerdictRules {
  return {
    maxDegradedRate: config.thresholds.maxDegradedRate,
    missingCell: config.compare.missingCell,
    storedRegression: config.compare.storedRegression,
    unavailableBackend: config.unavailableBackend,
  };
}

/** What the candidate is compared with. */
export type Against =
  /** No base: the candidate's own gates only (`baselineProblem`: why an asked-for baseline was dropped). */
  | { readonly kind: 'none'; readonly baselineProblem?: string | undefined }
  /** The base model measured interleaved in this run, or an earlier results.json; `label` names it. */
  | { readonly kind: ComparisonMode; readonly base: ComparableResults; readonly label: string };

export interface Judgement {
  readonly verdict: Verdict;
  readonly comparison: Comparison | null;
}

/** A candidate's results (fresh, or a results.json read back whole), as the verdict and the comparison read them. */
export type Candidate = VerdictSubject & ComparableResults;

/** The one place a verdict is decided: the candidate compared with its base (if any), then judged with it. */
export function judge(config: Config, candidate: Candidate, against: Against): Judgement {
  const comparison =
    against.kind === 'none'
      ? null
      : compareResults(against.base, candidate, against.label, compareOptions(config, against.kind));
  const baselineProblem = against.kind === 'none' ? against.baselineProblem : undefined;
  return { verdict: decide(candidate, verdictRules(config), { comparison, baselineProblem }), comparison };
}

/** A side's results with its judgement, keys in results.json's order (the verdict after the accuracy). */
export function withJudgement<Base extends Results['sameRunBase']>(
  measured: MeasuredResults,
  judgement: Judgement,
  sameRunBase: Base,
): Omit<Results, 'sameRunBase'> & { readonly sameRunBase: Base } {
  const { notes, environment, git, ...rest } = measured;
  return { ...rest, ...judgement, sameRunBase, notes, environment, git };
}

/** What verdict.json is made from: a judgement and the candidate's own accuracy gate. */
export interface Judged extends Judgement {
  readonly accuracy: Pick<AccuracyResult, 'rows'> | null;
}

/** verdict.json: the verdict, what it rests on, and every cell's decision with its numbers. */
export function verdictFile(judged: Judged): Record<string, unknown> {
  const { verdict, comparison } = judged;
  return {
    schemaVersion: RESULTS_SCHEMA_VERSION,
    decision: verdict.decision,
    basis: verdict.basis,
    mode: comparison?.mode ?? 'no-baseline',
    base: comparison?.base ?? null,
    // What each cell's ratio and medianRatio are (a paired change is not a ratio of medians).
    definitions: comparison ? ratioDefinitions(comparison.mode) : null,
    reasons: verdict.reasons,
    cells: comparison?.cells ?? [],
    accuracy: { withinRun: judged.accuracy?.rows ?? [], againstBase: comparison?.accuracy ?? [] },
  };
}

export function verdictFileText(judged: Judged): string {
  return `${JSON.stringify(verdictFile(judged), null, 2)}\n`;
}

/** verdict.json, written whole or not at all (a UsageError naming the file if it cannot be). */
export function writeVerdictFile(file: string, judged: Judged): void {
  writeFileAtomic(file, verdictFileText(judged));
}
