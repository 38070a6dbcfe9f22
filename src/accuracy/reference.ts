/** Which backend the others are compared with: the configured one, else the first fp32 backend with a perplexity. */
import type { BackendSpec } from '../backends/presets.js';

export type ReferenceChoice =
  { readonly reference: string; readonly problem: null } | { readonly reference: null; readonly problem: string };

export function chooseReference(
  specs: readonly BackendSpec[],
  configured: string | undefined,
  hasPerplexity: (backend: string) => boolean,
  whyNot: (backend: string) => string,
): ReferenceChoice {
  if (configured !== undefined) {
    return hasPerplexity(configured)
      ? { reference: configured, problem: null }
      : { reference: null, problem: `reference backend ${configured} has no perplexity: ${whyNot(configured)}` };
  }
  // The checkpoint every export came from, in fp32 on the CPU, is the truth an export is held to (README "The
  // accuracy gate"); without one, the first fp32 backend.
  const first =
    specs.find(
      (s) => s.engine === 'pytorch' && s.device === 'cpu' && s.precision === 'fp32' && hasPerplexity(s.name),
    ) ?? specs.find((s) => s.precision === 'fp32' && hasPerplexity(s.name));
  return first
    ? { reference: first.name, problem: null }
    : { reference: null, problem: 'no fp32 backend produced a perplexity to compare with' };
}
