/**
 * The accuracy gate: each backend's perplexity against the reference backend's, under the threshold of the
 * backend's precision class, plus logits parity where thresholds are set. A backend whose perplexity could not be
 * computed never passes. Pure. It judges figures that src/accuracy/ computes (perplexity, logits parity).
 */
import { perplexityFromNll } from '../accuracy/perplexity.js';
import { chooseReference } from '../accuracy/reference.js';
import { z } from 'zod';
import { isAccuracyTruth, type BackendSpec } from '../engines/registry.js';
import { PRECISIONS, type Precision } from '../config/schema.js';
import type { DeepReadonly } from '../deep-readonly.js';
import type { AccuracyRecord, BackendRecord, ParityRecord } from '../measure/records.js';

const parityColumnsSchema = z.object({
  maxAbsLogitDelta: z.number().nullable(),
  meanAbsLogitDelta: z.number().nullable(),
  top1Agreement: z.number().nullable(),
});
export type ParityColumns = DeepReadonly<z.infer<typeof parityColumnsSchema>>;

export const accuracyRowSchema = z.object({
  backend: z.string(),
  precision: z.enum(PRECISIONS),
  status: z.enum(['ok', 'degraded', 'unavailable', 'not-run']),
  perplexity: z.number().nullable(),
  meanNll: z.number().nullable(),
  scoredTokens: z.number().nullable(),
  /** (PPL − reference PPL) / reference PPL. */
  deltaFraction: z.number().nullable(),
  thresholdFraction: z.number().nullable(),
  isReference: z.boolean(),
  /** Peak memory of the backend's worker process while scoring. */
  peakRssMiB: z.number().nullable(),
  /** null: not gated (unavailable backend, or nothing to compare with). */
  pass: z.boolean().nullable(),
  error: z.string().nullable(),
  ...parityColumnsSchema.shape,
});
export type AccuracyRow = DeepReadonly<z.infer<typeof accuracyRowSchema>>;

export interface AccuracyThresholds {
  readonly perplexityDeltaFraction: Readonly<Record<Precision, number>>;
  readonly maxPerplexity: number | undefined;
  readonly maxAbsLogitDelta: number | undefined;
  readonly minTop1Agreement: number | undefined;
}

export interface AccuracyGateInput {
  readonly specs: readonly BackendSpec[];
  readonly backends: readonly BackendRecord[];
  readonly records: readonly AccuracyRecord[];
  readonly parity: readonly ParityRecord[];
  readonly reference: string | undefined;
  readonly thresholds: AccuracyThresholds;
}

export const accuracyGateSchema = z.object({
  reference: z.string().nullable(),
  /** Why there is no reference, when there is none. */
  referenceProblem: z.string().nullable(),
  rows: z.array(accuracyRowSchema),
  /**
   * What was gated, in words (for the verdict's basis). Empty when nothing was: a lone reference backend compared
   * with itself (Δ 0) checks nothing.
   */
  checks: z.array(z.string()),
  /**
   * Every backend whose logits were not compared with the reference's, and why: skipped (never compared: no
   * reference, the backend unavailable or degraded, too few evaluation tokens for the probe) or degraded (compared,
   * no figure came out). Absent in results made before it was recorded.
   */
  parityNotCompared: z
    .array(
      z.object({
        backend: z.string(),
        reference: z.string().nullable(),
        status: z.enum(['skipped', 'degraded']),
        reason: z.string(),
      }),
    )
    .optional(),
});
export type AccuracyGate = DeepReadonly<z.infer<typeof accuracyGateSchema>>;

const NO_PARITY: ParityColumns = { maxAbsLogitDelta: null, meanAbsLogitDelta: null, top1Agreement: null };

export function formatFraction(value: number): string {
  return Number(value.toPrecision(3)).toString();
}

export function decideAccuracy(input: AccuracyGateInput): AccuracyGate {
  const { thresholds } = input;
  const byName = new Map(input.records.map((r) => [r.backend, r]));
  const parityByName = new Map(input.parity.map((p) => [p.backend, p]));
  const backendStatus = new Map(input.backends.map((b) => [b.backend, b]));
  const ppl = (name: string): number | null => {
    const r = byName.get(name);
    return r?.status === 'ok' && r.nllSum !== undefined && r.scoredTokens
      ? perplexityFromNll(r.nllSum, r.scoredTokens)
      : null;
  };
  const choice = chooseReference(
    input.specs,
    input.reference,
    (name) => ppl(name) !== null,
    (name) => byName.get(name)?.reason ?? backendStatus.get(name)?.reason ?? 'it was not run',
    isAccuracyTruth,
  );
  const reference = choice.reference;
  const referencePpl = reference !== null ? ppl(reference) : null;

  const rows = input.specs.map((spec): AccuracyRow => {
    const record = byName.get(spec.name);
    const backend = backendStatus.get(spec.name);
    const value = ppl(spec.name);
    const common = {
      backend: spec.name,
      precision: spec.precision,
      isReference: spec.name === reference,
      thresholdFraction: thresholds.perplexityDeltaFraction[spec.precision],
      peakRssMiB: record?.peakRssMiB ?? null,
    };
    const missing = { perplexity: null, meanNll: null, scoredTokens: null, deltaFraction: null, ...NO_PARITY };
    if (backend?.status === 'unavailable') {
      return { ...common, ...missing, status: 'unavailable', pass: null, error: backend.reason ?? 'unavailable' };
    }
    if (!record) return { ...common, ...missing, status: 'not-run', pass: false, error: 'perplexity was not measured' };
    if (value === null || record.nllSum === undefined || !record.scoredTokens) {
      return {
        ...common,
        ...missing,
        status: 'degraded',
        pass: false,
        error: record.reason ?? 'perplexity could not be computed',
      };
    }

    const errors: string[] = [];
    const deltaFraction = referencePpl !== null ? (value - referencePpl) / referencePpl : null;
    if (deltaFraction !== null && !(Math.abs(deltaFraction) <= common.thresholdFraction)) {
      errors.push(
        `perplexity Δ ${formatFraction(deltaFraction)} exceeds the ${spec.precision} threshold ${formatFraction(common.thresholdFraction)} against ${String(reference)}`,
      );
    }
    if (thresholds.maxPerplexity !== undefined && !(value <= thresholds.maxPerplexity)) {
      errors.push(`perplexity ${value.toFixed(3)} exceeds thresholds.max_perplexity ${thresholds.maxPerplexity}`);
    }
    const parity = parityByName.get(spec.name);
    const parityGated = thresholds.maxAbsLogitDelta !== undefined || thresholds.minTop1Agreement !== undefined;
    let parityColumns = NO_PARITY;
    if (parity?.status === 'ok' && parity.maxAbsDelta !== undefined) {
      parityColumns = {
        maxAbsLogitDelta: parity.maxAbsDelta,
        meanAbsLogitDelta: parity.meanAbsDelta ?? null,
        top1Agreement: parity.top1Agreement ?? null,
      };
      if (thresholds.maxAbsLogitDelta !== undefined && !(parity.maxAbsDelta <= thresholds.maxAbsLogitDelta)) {
        errors.push(
          `max |Δ logit| ${parity.maxAbsDelta.toPrecision(3)} exceeds thresholds.parity.max_abs_logit_delta ${thresholds.maxAbsLogitDelta}`,
        );
      }
      const top1 = parity.top1Agreement ?? 0;
      if (thresholds.minTop1Agreement !== undefined && !(top1 >= thresholds.minTop1Agreement)) {
        errors.push(
          `top-1 agreement ${top1.toFixed(4)} is below thresholds.parity.min_top1_agreement ${thresholds.minTop1Agreement}`,
        );
      }
    } else if (parity?.status === 'degraded' && parityGated) {
      errors.push(`logits parity could not be measured: ${parity.reason ?? 'unknown reason'}`);
    } else if (parity?.status === 'skipped' && parity.reference !== null && parityGated) {
      // Gated parity that never ran cannot pass (without a reference, referenceProblem already fails the gate).
      errors.push(`logits parity was skipped: ${parity.reason ?? 'unknown reason'}`);
    }
    // Parity skipped for want of a reference judged nothing here: the missing reference is the gate's reason.
    const parityJudged = parity !== undefined && !(parity.status === 'skipped' && parity.reference === null);
    const gated = deltaFraction !== null || thresholds.maxPerplexity !== undefined || (parityGated && parityJudged);
    return {
      ...common,
      ...parityColumns,
      status: 'ok',
      perplexity: value,
      meanNll: record.nllSum / record.scoredTokens,
      scoredTokens: record.scoredTokens,
      deltaFraction,
      pass: gated ? errors.length === 0 : null,
      error: errors.length > 0 ? errors.join('; ') : null,
    };
  });
  const others = rows.filter((r) => !r.isReference && r.status !== 'unavailable');
  const checks: string[] = [];
  if (reference !== null && others.length > 0) checks.push(`perplexity against the reference backend ${reference}`);
  const parityGated = thresholds.maxAbsLogitDelta !== undefined || thresholds.minTop1Agreement !== undefined;
  if (reference !== null && others.length > 0 && parityGated) checks.push('logits parity (thresholds.parity)');
  if (thresholds.maxPerplexity !== undefined && rows.some((r) => r.status !== 'unavailable'))
    checks.push(`perplexity ceiling thresholds.max_perplexity ${thresholds.maxPerplexity}`);
  const parityNotCompared = input.parity.flatMap((p) =>
    p.status === 'ok'
      ? []
      : [{ backend: p.backend, reference: p.reference, status: p.status, reason: p.reason ?? 'unknown reason' }],
  );
  return { reference, referenceProblem: choice.problem, rows, checks, parityNotCompared };
}
