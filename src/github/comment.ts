/**
 * The sticky PR comment: found again by a hidden marker, led by the verdict and the reasons that decided it, then
 * the fastest accurate backend per scenario (several backends), the latency change chart, more charts folded, and
 * the same report as report.md folded. It always fits GitHub's limit on a comment body: what does not fit is left
 * out in a fixed order (the folded report first, replaced by the worst cells; then charts) and the comment says
 * what was left out and where to find it. Pure.
 */
import type { CellComparison } from '../gate/compare.js';
import type { Decision, GateReason } from '../gate/verdict.js';
import { answerSeedQuestion } from '../report/answer.js';
import { escapeUntrusted } from '../report/escape.js';
import { num } from '../format.js';
import { renderAnswer, renderMarkdown } from '../report/markdown.js';
import { renderMergedMarkdown } from '../report/merged.js';
import { backendChart, changeChart, medianChart, mermaidText, type Chart } from '../report/mermaid.js';
import type { Results } from '../results/schema.js';
import type { MergedVerdict, Part } from '../results/merge.js';

export const COMMENT_MARKER = '<!-- tr118-action:sticky-comment -->';

/**
 * GitHub refuses a comment body longer than 65,536 characters. A JavaScript string's length counts UTF-16 code
 * units, never fewer than characters, so a body whose length is within the limit is within GitHub's.
 */
export const COMMENT_LIMIT_CHARS = 65_536;

/** Deciding reasons listed at the top; the rest are counted (the folded report, or the job summary, has them). */
export const MAX_HEAD_REASONS = 20;

const HEADLINE: Record<Decision, string> = {
  pass: '✅ **tr118: pass**',
  warn: '⚠️ **tr118: warn**',
  fail: '❌ **tr118: fail**',
  inconclusive: '❔ **tr118: inconclusive**',
};

/** Where the reader finds what the comment leaves out. */
export interface CommentLinks {
  readonly runUrl: string | undefined;
  /** The artifact name a later actions/upload-artifact step gives the output folder (input report-artifact). */
  readonly reportArtifact?: string | undefined;
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
    for (const r of deciding.slice(0, MAX_HEAD_REASONS)) {
      const subject = r.part ? `${escapeUntrusted(r.part)}: ${escapeUntrusted(r.subject)}` : escapeUntrusted(r.subject);
      lines.push(`- **${subject}** (${escapeUntrusted(r.rule)}): ${escapeUntrusted(r.message)}`);
    }
    if (deciding.length > MAX_HEAD_REASONS)
      lines.push(
        `- … and ${deciding.length - MAX_HEAD_REASONS} more (listed in the report below or in the job summary)`,
      );
    lines.push('');
  }
  return lines;
}

function linkLines(links: CommentLinks): string[] {
  const lines: string[] = [];
  if (links.runUrl && links.reportArtifact) {
    lines.push(
      `📊 Every cell's latency distribution, the paired ratios and the accuracy band: \`report.html\` in the artifact ` +
        `\`${escapeUntrusted(links.reportArtifact)}\` of [this run](${links.runUrl}#artifacts).`,
      '',
    );
  }
  if (links.runUrl) lines.push(`[Workflow run](${links.runUrl})`, '');
  return lines;
}

const folded = (summary: string, body: readonly string[]): string[] => [
  `<details><summary>${summary}</summary>`,
  '',
  ...body,
  '</details>',
  '',
];

/** Worst first: the decisions that fail a run, then those that warn, then the rest; within each, the larger change. */
const SEVERITY: Record<CellComparison['decision'], number> = {
  fail: 0,
  warn: 1,
  inconclusive: 2,
  incomparable: 3,
  missing: 4,
  improvement: 5,
  pass: 6,
  new: 7,
};

const signed = (ratio: number | null): string =>
  ratio === null ? '—' : `${ratio >= 1 ? '+' : ''}${((ratio - 1) * 100).toFixed(1)}%`;

/** At most this many characters of a cell's reason in the worst-cells table. */
const REASON_CHARS = 160;

/** The worst cells as a table, as many rows as `room` characters hold; null when none fits. */
function worstCellsTable(
  cells: readonly (CellComparison & { readonly part?: string })[],
  room: number,
): { readonly lines: string[]; readonly shown: number } | null {
  const sorted = [...cells].sort(
    (a, b) => SEVERITY[a.decision] - SEVERITY[b.decision] || (b.ratio ?? 0) - (a.ratio ?? 0),
  );
  const parts = cells.some((c) => c.part !== undefined);
  const header = [
    `| ${parts ? 'Part | ' : ''}Backend | Scenario | Decision | change | change_ci | base ms | cand. ms | Reason |`,
    `|${parts ? ' --- |' : ''} --- | --- | --- | --- | --- | --- | --- | --- |`,
  ];
  const row = (c: (typeof sorted)[number]): string => {
    const reason = c.reason.length > REASON_CHARS ? `${c.reason.slice(0, REASON_CHARS)}…` : c.reason;
    const ci = c.ratioCi ? `[${signed(c.ratioCi[0])}, ${signed(c.ratioCi[1])}]` : '—';
    return `| ${parts ? `${escapeUntrusted(c.part ?? '')} | ` : ''}${escapeUntrusted(c.backend)} | ${escapeUntrusted(c.scenario)} | ${c.decision} | ${signed(c.ratio)} | ${ci} | ${num(c.baseMedianMs)} | ${num(c.candidateMedianMs)} | ${escapeUntrusted(reason)} |`;
  };
  let used = header.join('\n').length + 1;
  const lines = [...header];
  for (const c of sorted) {
    const line = row(c);
    if (used + line.length + 1 > room) break;
    lines.push(line);
    used += line.length + 1;
  }
  const shown = lines.length - header.length;
  return shown > 0 ? { lines, shown } : null;
}

interface Content {
  readonly head: readonly string[];
  /** Shown in the open, in this order, each only if it fits: the answer, the first chart. */
  readonly open: readonly (readonly string[])[];
  /** Folded charts (each kept only if it fits). */
  readonly charts: readonly Chart[];
  /** The full report, folded, if it fits. */
  readonly report: string;
  /** Every compared cell (labelled by part in a merge): the worst of them stand in for a report too long to fit. */
  readonly cells: readonly (CellComparison & { readonly part?: string })[];
  readonly links: CommentLinks;
}

/**
 * The comment from its pieces, within `limit` characters: the head and the links always; then the open sections,
 * the folded charts and the folded report as long as each fits; a report that does not fit is replaced by the worst
 * cells that do, and every piece left out is named.
 */
function assemble(content: Content, limit = COMMENT_LIMIT_CHARS): string {
  const tail = linkLines(content.links);
  // Room for the note on what was left out (one line per kind of thing, each short).
  const reserve = 1_200;
  const size = (lines: readonly string[]): number => lines.join('\n').length + 1;
  let room = limit - reserve - size(content.head) - size(tail);
  const body: string[] = [];
  const leftOut: string[] = [];
  const take = (lines: readonly string[]): boolean => {
    const n = size(lines);
    if (n > room) return false;
    body.push(...lines);
    room -= n;
    return true;
  };
  for (const section of content.open) if (!take(section)) leftOut.push('a chart or the table of the fastest backends');
  const chartsShown: string[] = [];
  let chartsLeft = 0;
  for (const c of content.charts) {
    if (size(chartsShown) + size(c.lines) + 80 <= room) chartsShown.push(...c.lines);
    else chartsLeft++;
  }
  if (chartsShown.length > 0) take(folded('More charts', chartsShown));
  if (chartsLeft > 0) leftOut.push(`${chartsLeft} more chart${chartsLeft === 1 ? '' : 's'}`);
  const report = folded('Full report', [content.report]);
  if (!take(report)) {
    const table = worstCellsTable(content.cells, room - 400);
    const what =
      `The full report (${content.report.length.toLocaleString('en-US')} characters) does not fit in a PR comment ` +
      `(at most ${COMMENT_LIMIT_CHARS.toLocaleString('en-US')}): it is in the job summary and report.md`;
    if (table) {
      take(
        folded(`Worst ${table.shown} of ${content.cells.length} cells`, [
          `${what}; here the ${table.shown} worst cells of ${content.cells.length}.`,
          '',
          ...table.lines,
          '',
        ]),
      );
    } else leftOut.push(what);
  }
  const note =
    leftOut.length > 0 ? [`> Left out to stay within GitHub's comment size: ${leftOut.join('; ')}.`, ''] : [];
  const text = [...content.head, ...body, ...note, ...tail].join('\n');
  // Only an absurd head (thousands of characters per reason) could still be too long: cut it, and say so.
  if (text.length <= limit) return text;
  const cut = '\n\n> (cut here: too long for a PR comment; see the job summary)\n';
  return text.slice(0, limit - cut.length - tail.join('\n').length - 1) + cut + tail.join('\n');
}

export function renderComment(results: Results, runUrl: string | undefined, reportArtifact?: string): string {
  const v = results.verdict;
  const answer = answerSeedQuestion(results);
  const change = changeChart(results);
  const median = medianChart(results);
  // The change chart leads; without a comparison there is no chart of the two sides either.
  const first = change ?? median;
  const others = [change ? median : null, backendChart(results)].filter((c): c is Chart => c !== null);
  return assemble({
    head: verdictHead(v.decision, v.basis, v.reasons),
    open: [
      ...(answer
        ? [renderAnswer(answer, { charts: false, heading: '**Fastest accurate backend per scenario**' })]
        : []),
      ...(first ? [first.lines] : []),
    ],
    charts: others,
    report: renderMarkdown(results, { charts: false }),
    cells: results.comparison?.cells ?? [],
    links: { runUrl, reportArtifact },
  });
}

/** One comment for a split matrix: the worst part's verdict, its deciding reasons by part, a chart per part. */
export function renderMergedComment(
  merged: MergedVerdict,
  parts: readonly Part[],
  runUrl: string | undefined,
  reportArtifact?: string,
): string {
  const head = verdictHead(merged.decision, merged.basis, merged.reasons);
  for (const p of parts) {
    head.push(`- ${escapeUntrusted(p.name)}: ${HEADLINE[p.results.verdict.decision].replace('tr118: ', '')}`);
  }
  head.push('');
  const title = (p: Part, what: string): string => `${mermaidText(p.name)}: ${what}`;
  const firsts = parts
    .map((p) => changeChart(p.results, title(p, 'latency change per cell (candidate / base)')))
    .filter((c): c is Chart => c !== null);
  const others = parts.flatMap((p) =>
    [
      medianChart(p.results, title(p, 'median latency per cell (ms)')),
      backendChart(p.results, title(p, 'median latency per backend (ms)')),
    ].filter((c): c is Chart => c !== null),
  );
  return assemble({
    head,
    open: firsts.map((c) => c.lines),
    charts: others,
    report: renderMergedMarkdown(merged, parts, { charts: false }),
    cells: parts.flatMap((p) => (p.results.comparison?.cells ?? []).map((c) => ({ ...c, part: p.name }))),
    links: { runUrl, reportArtifact },
  });
}
