/** Which backend the others are compared with: the configured one, else the first fp32 backend with a perplexity. */
import type { Precision } from '../engines/spec.js';

/** What the choice reads of a backend. */
interface ReferenceCandidate {
  readonly name: string;
  readonly precision: Precision;
}

export type ReferenceChoice =
  { readonly reference: string; readonly problem: null } | { readonly reference: null; readonly problem: string };

export function chooseReference<S extends ReferenceCandidate>(
  specs: readonly S[],
  configured: string | undefined,
  hasPerplexity: (backend: string) => boolean,
  whyNot: (backend: string) => string,
  /** The model every export is held to (its family says: engines/registry.ts isAccuracyTruth). */
  isTruth: (spec: S) => boolean,
): ReferenceChoice {
  if (configured !== undefined) {
    return hasPerplexity(configured)
      ? { reference: configured, problem: null }
      : { reference: null, problem: `reference backend ${configured} has no perplexity: ${whyNot(configured)}` };
  }
  // The checkpoint every export came from, in fp32 on the CPU, is the truth an export is held to (docs/verdict.md
  // "Perplexity", the accuracy gate); without one, the first fp32 backend.
  const first =
    specs.find((s) => isTruth(s) && hasPerplexity(s.name)) ??
    specs.find((s) => s.precision === 'fp32' && hasPerplexity(s.name));
  return first
    ? { reference: first.name, problem: null }
    : { reference: null, problem: 'no fp32 backend produced a perplexity to compare with' };
}
