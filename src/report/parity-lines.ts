/**
 * One sentence per parity check that produced no figure (results.json accuracy.parityNotCompared), with the backends
 * that share a reference, a status and a reason in one: the report says every check it skipped, never leaves a blank.
 * Plain text: each renderer escapes it for its own sink.
 */
import type { AccuracyResult } from '../results/schema.js';

export function parityNotComparedLines(accuracy: AccuracyResult): string[] {
  const groups = new Map<string, { backends: string[]; line: (backends: string) => string }>();
  for (const p of accuracy.parityNotCompared ?? []) {
    const key = JSON.stringify([p.status, p.reference, p.reason]);
    const against = p.reference !== null ? ` against ${p.reference}` : ' (no reference)';
    const what = p.status === 'skipped' ? 'skipped' : 'not measured';
    const group = groups.get(key) ?? {
      backends: [],
      line: (backends: string) => `Logits parity ${what} for ${backends}${against}: ${p.reason}.`,
    };
    group.backends.push(p.backend);
    groups.set(key, group);
  }
  return [...groups.values()].map((g) => g.line(g.backends.join(', ')));
}
