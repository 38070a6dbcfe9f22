/**
 * Which backends' logits the parity probe compares with the reference's, and for every other backend why not. Pure.
 * A parity check that does not happen is never silent: each backend it skips gets a 'skipped' parity record (in
 * results.jsonl, results.json's accuracy.parityNotCompared and the report) naming the backends and the reason.
 */
import { chooseReference } from '../accuracy/reference.js';
import { isAccuracyTruth, type BackendSpec } from '../engines/registry.js';
import { tokensNeeded } from './batches.js';
import type { AccuracyRecord } from './records.js';

/** A backend's worker after the matrix: open, open but degraded (it runs nothing), or never opened. */
export type BackendState =
  | { readonly kind: 'open' }
  | { readonly kind: 'degraded'; readonly reason: string }
  | { readonly kind: 'unavailable'; readonly reason: string };

export interface ParityPlanInput {
  readonly specs: readonly BackendSpec[];
  /** accuracy.reference, when the config names one. */
  readonly configuredReference: string | undefined;
  /** The candidate side's perplexity records: the reference is chosen among backends that scored ok. */
  readonly accuracy: readonly AccuracyRecord[];
  readonly state: (backend: string) => BackendState;
  /** How many evaluation tokens there are to cut the probe batch from. */
  readonly evaluationTokens: number;
  readonly probe: { readonly batch: number; readonly seqLen: number };
}

export interface ParitySkip {
  readonly backend: string;
  /** null when there is no reference to compare with. */
  readonly reference: string | null;
  readonly reason: string;
}

export interface ParityPlan {
  /** null: nothing is compared (every other backend is in `skipped`). */
  readonly reference: string | null;
  /** The backends whose logits are compared with the reference's, in config order. */
  readonly compare: readonly string[];
  readonly skipped: readonly ParitySkip[];
}

export function planParity(input: ParityPlanInput): ParityPlan {
  const ok = new Map(input.accuracy.filter((a) => a.side === 'candidate').map((a) => [a.backend, a] as const));
  const choice = chooseReference(
    input.specs,
    input.configuredReference,
    (name) => ok.get(name)?.status === 'ok',
    (name) => ok.get(name)?.reason ?? 'it was not scored',
    isAccuracyTruth,
  );
  // The backend the others are held to, also when it cannot be the reference: it is never compared with itself.
  const referenceName = choice.reference ?? input.configuredReference;
  let reference = choice.reference;
  let referenceProblem = choice.problem !== null ? `no reference backend to compare with: ${choice.problem}` : null;
  if (reference !== null && input.state(reference).kind !== 'open') {
    // A reference must answer the probe: one whose worker degraded after scoring cannot.
    referenceProblem = `the reference ${reference}'s worker is not open: ${describe(reference, input.state(reference))}`;
    reference = null;
  }
  const needed = tokensNeeded(input.probe.batch, input.probe.seqLen);
  const tooFew =
    input.evaluationTokens < needed
      ? `the ${input.evaluationTokens} evaluation tokens are fewer than the ${input.probe.batch}×${input.probe.seqLen} ` +
        `probe batch needs (${needed}; accuracy.parity, accuracy.max_tokens)`
      : null;

  const compare: string[] = [];
  const skipped: ParitySkip[] = [];
  // Parity compares backends with each other: a lone backend has no check to skip.
  if (input.specs.length < 2) return { reference, compare, skipped };
  for (const spec of input.specs) {
    if (spec.name === referenceName) continue;
    const state = input.state(spec.name);
    // The backend's own state first: it is the more exact reason, whatever else is missing.
    const reason = state.kind !== 'open' ? describe(spec.name, state) : (referenceProblem ?? tooFew);
    if (reason === null) compare.push(spec.name);
    else skipped.push({ backend: spec.name, reference, reason });
  }
  return { reference, compare, skipped };
}

function describe(backend: string, state: BackendState): string {
  return state.kind === 'open' ? `backend ${backend} is open` : `backend ${backend} is ${state.kind}: ${state.reason}`;
}
