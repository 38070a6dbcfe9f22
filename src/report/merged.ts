/** The report of a split matrix: one verdict over the parts, a table of parts, then each part's own report. Pure. */
import { markdownTable } from 'markdown-table';
import type { MergedVerdict, Part } from '../results/merge.js';
import { escapeUntrusted } from './escape.js';
import { renderMarkdown, VERDICT_ICON, type MarkdownOptions } from './markdown.js';

export function renderMergedMarkdown(
  merged: MergedVerdict,
  parts: readonly Part[],
  options: MarkdownOptions = {},
): string {
  const out: string[] = [];
  out.push(`# tr118 prefill benchmark: ${parts.length} parts`, '');
  out.push(`**Verdict: ${VERDICT_ICON[merged.decision]} ${merged.decision}** — ${escapeUntrusted(merged.basis)}.`, '');
  out.push(
    markdownTable([
      ['Part', 'Verdict', 'Model', 'Backends', 'Basis'],
      ...parts.map((p) => [
        escapeUntrusted(p.name),
        `${VERDICT_ICON[p.results.verdict.decision]} ${p.results.verdict.decision}`,
        escapeUntrusted(p.results.model.name),
        escapeUntrusted(p.results.backends.map((b) => b.spec.name).join(', ')),
        escapeUntrusted(p.results.verdict.basis),
      ]),
    ]),
    '',
  );
  for (const r of merged.reasons)
    out.push(
      `- ${VERDICT_ICON[r.decision]} **${escapeUntrusted(r.part)}: ${escapeUntrusted(r.subject)}** (${escapeUntrusted(r.rule)}): ${escapeUntrusted(r.message)}`,
    );
  if (merged.reasons.length > 0) out.push('');
  for (const p of parts) {
    out.push(`## Part ${escapeUntrusted(p.name)}`, '');
    // each part's report one heading level down, under its part
    out.push(renderMarkdown(p.results, options).replace(/^(#+) /gm, '$1# '), '');
  }
  return out.join('\n');
}
