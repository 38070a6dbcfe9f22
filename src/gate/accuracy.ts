/**
 * The accuracy gate: each backend's perplexity against the reference backend's, under the threshold of the
 * backend's precision class. A backend whose perplexity could not be computed never passes. Pure.
 */
import type { BackendSpec } from '../backends/presets.js';
import { perplexityFromNll } from '../accuracy/perplexity.js';
import type { Precision } from '../config/schema.js';
import type { AccuracyRecord, BackendRecord } from '../measure/records.js';

export interface AccuracyRow {
  readonly backend: string;
  readonly precision: Precision;
  readonly status: 'ok' | 'degraded' | 'unavailable' | 'not-run';
  readonly perplexity: number | null;
  readonly meanNll: number | null;
  readonly scoredTokens: number | null;
  /** (PPL − reference PPL) / reference PPL. */
  readonly deltaFraction: number | null;
  readonly thresholdFraction: number | null;
  readonly isReference: boolean;
  /** null: not gated (unavailable backend, or no reference). */
  readonly pass: boolean | null;
  readonly error: string | null;
}

export interface AccuracyGateInput {
  readonly specs: readonly BackendSpec[];
  readonly backends: readonly BackendRecord[];
  readonly records: readonly AccuracyRecord[];
  readonly reference: string | undefined;
  readonly perplexityDeltaFraction: Readonly<Record<Precision, number>>;
  readonly maxPerplexity: number | undefined;
}

export interface AccuracyGate {
  readonly reference: string | null;
  /** Why there is no reference, when there is none. */
  readonly referenceProblem: string | null;
  readonly rows: readonly AccuracyRow[];
}

export function evaluateAccuracy(input: AccuracyGateInput): AccuracyGate {
  const byName = new Map(input.records.map((r) => [r.backend, r]));
  const backendStatus = new Map(input.backends.map((b) => [b.backend, b]));
  const ppl = (name: string): number | null => {
    const r = byName.get(name);
    return r?.status === 'ok' && r.nllSum !== undefined && r.scoredTokens
      ? perplexityFromNll(r.nllSum, r.scoredTokens)
      : null;
  };

  let reference: string | null = null;
  let referenceProblem: string | null = null;
  if (input.reference !== undefined) {
    if (ppl(input.reference) !== null) reference = input.reference;
    else {
      const why = byName.get(input.reference)?.reason ?? backendStatus.get(input.reference)?.reason ?? 'it was not run';
      referenceProblem = `reference backend ${input.reference} has no perplexity: ${why}`;
    }
  } else {
    reference = input.specs.find((s) => s.precision === 'fp32' && ppl(s.name) !== null)?.name ?? null;
    if (reference === null) referenceProblem = 'no fp32 backend produced a perplexity to compare with';
  }
  const referencePpl = reference !== null ? ppl(reference) : null;

  const rows = input.specs.map((spec): AccuracyRow => {
    const record = byName.get(spec.name);
    const backend = backendStatus.get(spec.name);
    const value = ppl(spec.name);
    const threshold = input.perplexityDeltaFraction[spec.precision];
    const common = {
      backend: spec.name,
      precision: spec.precision,
      isReference: spec.name === reference,
      thresholdFraction: threshold,
    };
    if (backend?.status === 'unavailable') {
      return {
        ...common,
        status: 'unavailable',
        perplexity: null,
        meanNll: null,
        scoredTokens: null,
        deltaFraction: null,
        pass: null,
        error: backend.reason ?? 'unavailable',
      };
    }
    if (!record) {
      return {
        ...common,
        status: 'not-run',
        perplexity: null,
        meanNll: null,
        scoredTokens: null,
        deltaFraction: null,
        pass: false,
        error: 'perplexity was not measured',
      };
    }
    if (value === null || record.nllSum === undefined || !record.scoredTokens) {
      return {
        ...common,
        status: 'degraded',
        perplexity: null,
        meanNll: null,
        scoredTokens: null,
        deltaFraction: null,
        pass: false,
        error: record.reason ?? 'perplexity could not be computed',
      };
    }
    const deltaFraction = referencePpl !== null ? (value - referencePpl) / referencePpl : null;
    const errors: string[] = [];
    if (deltaFraction !== null && !(Math.abs(deltaFraction) <= threshold)) {
      errors.push(
        `Δ ${formatFraction(deltaFraction)} exceeds the ${spec.precision} threshold ${formatFraction(threshold)} against ${String(reference)}`,
      );
    }
    if (input.maxPerplexity !== undefined && !(value <= input.maxPerplexity)) {
      errors.push(`perplexity ${value.toFixed(3)} exceeds thresholds.max_perplexity ${input.maxPerplexity}`);
    }
    const gated = deltaFraction !== null || input.maxPerplexity !== undefined;
    return {
      ...common,
      status: 'ok',
      perplexity: value,
      meanNll: record.nllSum / record.scoredTokens,
      scoredTokens: record.scoredTokens,
      deltaFraction,
      pass: gated ? errors.length === 0 : null,
      error: errors.length > 0 ? errors.join('; ') : null,
    };
  });
  return { reference, referenceProblem, rows };
}

export function formatFraction(value: number): string {
  return Number(value.toPrecision(3)).toString();
}
