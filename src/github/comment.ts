/**
 * The sticky PR comment: found again by a hidden marker, led by the verdict and the cells that decided it, then a
 * small Mermaid chart of latency per scenario (base vs candidate), then the same report as report.md. Pure.
 */
import type { Decision, GateReason } from '../gate/verdict.js';
import { escapeUntrusted } from '../report/escape.js';
import { renderMarkdown } from '../report/markdown.js';
import { renderMergedMarkdown } from '../report/merged.js';
import type { Results } from '../results/schema.js';
import type { MergedVerdict, Part } from '../results/merge.js';

export const COMMENT_MARKER = '<!-- tr118-action:sticky-comment -->';

const HEADLINE: Record<Decision, string> = {
  pass: '✅ **tr118: pass**',
  warn: '⚠️ **tr118: warn**',
  fail: '❌ **tr118: fail**',
  inconclusive: '❔ **tr118: inconclusive**',
};

/** Mermaid text gets only plain characters: labels are rendered by Mermaid, outside markdown's escaping. */
function mermaidText(text: string): string {
  return text.replace(/[^\w .,/:()-]/g, '');
}

function chart(results: Results, title = 'Median latency per scenario (ms): base bar, candidate line'): string[] {
  const cells = (results.comparison?.cells ?? []).filter(
    (c) => c.baseMedianMs !== null && c.candidateMedianMs !== null,
  );
  if (cells.length === 0) return [];
  const label = (c: (typeof cells)[number]): string => `"${mermaidText(`${c.backend}/${c.scenario}`)}"`;
  const max = Math.max(...cells.flatMap((c) => [c.baseMedianMs ?? 0, c.candidateMedianMs ?? 0]));
  return [
    '```mermaid',
    'xychart-beta',
    `  title "${mermaidText(title)}"`,
    `  x-axis [${cells.map(label).join(', ')}]`,
    `  y-axis "ms" 0 --> ${Number((max * 1.1).toPrecision(3))}`,
    `  bar [${cells.map((c) => Number((c.baseMedianMs ?? 0).toPrecision(4))).join(', ')}]`,
    `  line [${cells.map((c) => Number((c.candidateMedianMs ?? 0).toPrecision(4))).join(', ')}]`,
    '```',
    '',
  ];
}

/** The headline and the reasons that carry the verdict's own decision (a part's name before the subject). */
function verdictHead(
  decision: Decision,
  basis: string,
  reasons: readonly (GateReason & { readonly part?: string })[],
): string[] {
  const lines = [COMMENT_MARKER, `${HEADLINE[decision]} — ${escapeUntrusted(basis)}`, ''];
  const deciding = reasons.filter((r) => r.decision === decision && decision !== 'pass');
  if (deciding.length > 0) {
    lines.push('Decided by:', '');
    for (const r of deciding) {
      const subject = r.part ? `${escapeUntrusted(r.part)}: ${escapeUntrusted(r.subject)}` : escapeUntrusted(r.subject);
      lines.push(`- **${subject}** (${escapeUntrusted(r.rule)}): ${escapeUntrusted(r.message)}`);
    }
    lines.push('');
  }
  return lines;
}

export function renderComment(results: Results, runUrl: string | undefined): string {
  const v = results.verdict;
  const lines = verdictHead(v.decision, v.basis, v.reasons);
  lines.push(...chart(results));
  lines.push('<details><summary>Full report</summary>', '', renderMarkdown(results), '</details>', '');
  if (runUrl) lines.push(`[Workflow run](${runUrl})`, '');
  return lines.join('\n');
}

/** One comment for a split matrix: the worst part's verdict, its deciding reasons by part, a chart per part. */
export function renderMergedComment(merged: MergedVerdict, parts: readonly Part[], runUrl: string | undefined): string {
  const lines = verdictHead(merged.decision, merged.basis, merged.reasons);
  for (const p of parts) {
    lines.push(`- ${escapeUntrusted(p.name)}: ${HEADLINE[p.results.verdict.decision].replace('tr118: ', '')}`);
  }
  lines.push('');
  for (const p of parts)
    lines.push(...chart(p.results, `${p.name}: median latency per scenario (ms), base bar, candidate line`));
  lines.push('<details><summary>Full report</summary>', '', renderMergedMarkdown(merged, parts), '</details>', '');
  if (runUrl) lines.push(`[Workflow run](${runUrl})`, '');
  return lines.join('\n');
}
