/**
 * report.html: one self-contained page (no network: scripts, styles and data inline) with the pictures of a run —
 * the seed's answer, the change per cell and the paired ratios, every cell's latency distribution, perplexity with
 * its threshold band, logits parity, the stored baseline's history — and the verdict, its reasons and the
 * environment as in report.md. The charts are Vega-Lite specs (vega.ts) drawn in the page by Vega-Lite and Vega,
 * whose source the caller passes in (report/write-html.ts reads it): this module stays pure.
 */
import { sessionNotesOf, settingsOf } from '../engines/registry.js';
import type { HistoryEntry } from '../results/history.js';
import type { MergedVerdict } from '../results/merge.js';
import type { Results } from '../results/schema.js';
import { answerSeedQuestion, type SeedAnswer } from './answer.js';
import { artifactTables } from './artifact-tables.js';
import { gitText, gpuClockLines, phasesLine } from './environment.js';
import { dropBidiControls } from './escape.js';
import { parityNotComparedLines } from './parity-lines.js';
import { interval, num } from '../format.js';
import { speedupText } from './mermaid.js';
import { runCharts, thinned, type ChartSpec } from './vega.js';

/** What a run's page draws besides its results: a stored baseline's own results, and the branch's history. */
export interface HtmlExtras {
  /** The stored baseline's results (its passes), when at hand; same-run A/B carries its base in the results. */
  readonly base?: Results | null;
  readonly history?: readonly HistoryEntry[];
  /** History lines that could not be read. */
  readonly historySkipped?: number;
}

/** The charting library's source (Vega + Vega-Lite, browser builds); null when it could not be found. */
export type ChartLibrary = string | null;

/** Text as HTML: markup characters as references, and no bidirectional control (the page shows what report.md does). */
export function escapeHtml(text: string): string {
  return dropBidiControls(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * JSON inside a <script> element: `<` written as \u003c, so no text can close the element or open a comment; no
 * bidirectional control, since the charts draw these strings as labels (they can only sit inside JSON strings).
 */
export function scriptJson(value: unknown): string {
  return dropBidiControls(JSON.stringify(value))
    .replace(/</g, '\\u003c')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

/** Library source inside a <script> element: a `</script` or `<!--` in it would end or confuse the element. */
export function scriptSource(source: string): string {
  return source.replace(/<\/(script)/gi, '<\\/$1').replace(/<!--/g, '<\\!--');
}

const e = escapeHtml;

function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const head = header.map((h) => `<th scope="col">${e(h)}</th>`).join('');
  const body = rows.map((r) => `<tr>${r.map((c) => `<td>${e(c)}</td>`).join('')}</tr>`).join('\n');
  return `<div class="scroll"><table><thead><tr>${head}</tr></thead><tbody>\n${body}\n</tbody></table></div>`;
}

function figure(chart: ChartSpec, charts: ChartSpec[], small = false): string {
  charts.push(chart);
  return (
    `<figure class="chart${small ? ' small' : ''}"><div class="vega" id="${e(chart.id)}" role="img" aria-label="${e(chart.title)}: ${e(chart.description)}"></div>` +
    `<figcaption><strong>${e(chart.title)}.</strong> ${e(chart.caption ?? chart.description)}</figcaption></figure>`
  );
}

const signed = (ratio: number | null): string =>
  ratio === null ? '—' : `${ratio >= 1 ? '+' : ''}${((ratio - 1) * 100).toFixed(1)}%`;

const VERDICT_CLASS = { pass: 'pass', warn: 'warn', fail: 'fail', inconclusive: 'inconclusive' } as const;

function answerSection(answer: SeedAnswer, chart: ChartSpec | null, charts: ChartSpec[], heading: number): string {
  const level = `${Math.round(answer.confidence * 100)}%`;
  return [
    `<section><h${heading}>Fastest accurate backend per scenario</h${heading}>`,
    `<p>Can another backend match or exceed the baseline backend <strong>${e(answer.baselineBackend)}</strong> (${e(answer.baselineFrom)}) while preserving accuracy? Per scenario, the fastest backend that ${e(answer.accuracyBasis)}, and its speed-up: the baseline's median ÷ its median, with a ${level} bootstrap interval; "not decidable" where the interval includes 1. Figure compared: ${e(answer.figureBasis)}.</p>`,
    table(
      ['Scenario', 'Fastest accurate backend', 'Speed-up', `${level} CI`, 'Answer'],
      answer.rows.map((r) => [
        r.scenario,
        r.fastest ? r.fastest + (r.tiedWith ? ` (tied with ${r.tiedWith})` : '') : '—',
        speedupText(r.speedup),
        r.speedupCi ? `[${speedupText(r.speedupCi[0])}, ${speedupText(r.speedupCi[1])}]` : '—',
        r.text,
      ]),
    ),
    chart ? figure(chart, charts) : '',
    '</section>',
  ].join('\n');
}

/** One run's sections (headings from `level` down), its charts appended to `charts`. */
/** What every section of a run's HTML needs. */
interface SectionContext {
  readonly results: Results;
  readonly extras: HtmlExtras;
  readonly prefix: string;
  readonly level: number;
  readonly charts: ChartSpec[];
  readonly c: ReturnType<typeof runCharts>;
  readonly answer: ReturnType<typeof answerSeedQuestion>;
  readonly h: (n: number, text: string) => string;
}

function runSections(results: Results, extras: HtmlExtras, prefix: string, level: number, charts: ChartSpec[]): string {
  const h = (n: number, text: string): string => `<h${level + n}>${e(text)}</h${level + n}>`;
  const answer = answerSeedQuestion(results);
  const c = runCharts(results, answer, { base: extras.base ?? null, history: extras.history ?? [] }, prefix);
  const x: SectionContext = { results, extras, prefix, level, charts, c, answer, h };
  return [
    ...verdictHtml(x),
    ...comparisonHtml(x),
    ...latencyHtml(x),
    ...accuracyHtml(x),
    ...historyHtml(x),
    ...artifactsHtml(x),
    ...setupHtml(x),
  ].join('\n');
}

/** The verdict and its reasons, notes, and the seed's question answered. */
function verdictHtml({ results, level, charts, c, answer }: SectionContext): string[] {
  const out: string[] = [];
  const v = results.verdict;
  out.push(
    `<p class="verdict ${VERDICT_CLASS[v.decision]}">Verdict: <strong>${e(v.decision)}</strong> — ${e(v.basis)}.</p>`,
  );
  if (v.reasons.length > 0) {
    out.push(
      '<ul class="reasons">' +
        v.reasons
          .map(
            (r) =>
              `<li class="${VERDICT_CLASS[r.decision]}"><strong>${e(r.subject)}</strong> (${e(r.rule)}, ${e(r.decision)}): ${e(r.message)}</li>`,
          )
          .join('\n') +
        '</ul>',
    );
  }
  for (const note of results.notes) out.push(`<p class="note">⚠️ ${e(note)}</p>`);
  if (answer) out.push(answerSection(answer, c.answer, charts, level + 1));
  return out;
}

/** The comparison with the same-run base or the stored baseline. */
function comparisonHtml({ results, charts, c, h }: SectionContext): string[] {
  const out: string[] = [];
  const comparison = results.comparison;
  if (comparison) {
    out.push(
      '<section>',
      h(
        1,
        comparison.mode === 'same-run' ? 'Same-run A/B against the base model' : 'Comparison with the stored baseline',
      ),
      `<p>Base: ${e(comparison.base.label)} (model sha256 ${e(comparison.base.modelSha256.slice(0, 12))}…, measured ${e(comparison.base.startedAt)}).</p>`,
    );
    if (c.change) out.push(figure(c.change, charts));
    out.push(
      table(
        [
          'Backend',
          'Scenario',
          'Decision',
          'base median ms',
          'cand. median ms',
          'change',
          'change CI',
          'Δ ms',
          'min. detectable',
          'Reason',
        ],
        comparison.cells.map((x) => [
          x.backend,
          x.scenario,
          x.decision,
          num(x.baseMedianMs),
          num(x.candidateMedianMs),
          signed(x.ratio),
          x.ratioCi ? `[${signed(x.ratioCi[0])}, ${signed(x.ratioCi[1])}]` : '—',
          num(x.deltaMs, 3),
          x.minDetectableFraction === null ? '—' : `${(x.minDetectableFraction * 100).toFixed(1)}%`,
          x.reason,
        ]),
      ),
    );
    if (c.pairedRatios.length > 0) {
      out.push(
        h(2, 'Paired ratios per cell'),
        "<p>Same-run A/B times each candidate pass next to a base pass: each histogram is one cell's per-pass ratios; the black line is the gate's change (their median), the band its interval.</p>",
        `<div class="grid">${c.pairedRatios.map((s) => figure(s, charts, true)).join('\n')}</div>`,
      );
    }
    out.push('</section>');
  }
  return out;
}

/** Latency: medians, distributions and the per-cell table. */
function latencyHtml({ results, charts, c, h }: SectionContext): string[] {
  const out: string[] = [];
  out.push('<section>', h(1, 'Latency'));
  if (c.medians) out.push(figure(c.medians, charts));
  if (c.distributions.length > 0) {
    out.push(h(2, 'Distribution of pass latencies per scenario'));
    if (thinned(results)) out.push('<p class="note">Cells with many passes are drawn with an even sample of them.</p>');
    for (const s of c.distributions) out.push(figure(s, charts));
  }
  out.push(
    table(
      ['Backend', 'Scenario', 'batch×seq', 'n ok/n', 'median ms', 'median CI', 'mean ms', 'p95 ms', 'p99 ms', 'tok/s'],
      results.cells
        .filter((x) => x.status !== 'unavailable')
        .map((x) => [
          x.backend,
          x.scenario,
          `${x.batch}×${x.seqLen}`,
          `${x.runs - x.degradedRuns}/${x.runs}`,
          num(x.stats?.latencyMs.median),
          interval(x.stats?.latencyMs.medianCi95),
          num(x.stats?.latencyMs.mean),
          num(x.stats?.latencyMs.p95),
          num(x.stats?.latencyMs.p99),
          num(x.stats?.tokensPerSecond.atMedian),
        ]),
    ),
    '</section>',
  );
  return out;
}

/** The accuracy gate. */
function accuracyHtml({ results, charts, c, h }: SectionContext): string[] {
  const out: string[] = [];
  if (results.accuracy) {
    const a = results.accuracy;
    out.push('<section>', h(1, 'Accuracy'));
    out.push(
      `<p>Evaluation tokens: ${a.evaluatedTokens}, window ${a.windowTokens}, stride ${a.strideTokens}; reference: ${a.reference ? e(a.reference) : `none (${e(a.referenceProblem ?? '')})`}.</p>`,
    );
    if (c.perplexity) out.push(figure(c.perplexity, charts));
    if (c.parity) out.push(figure(c.parity, charts));
    out.push(
      table(
        ['Backend', 'PPL', 'Δ frac', 'Threshold', 'Pass', 'max |Δ logit|', 'mean |Δ logit|', 'top-1 agree', 'Error'],
        a.rows.map((r) => [
          r.backend + (r.isReference ? ' (reference)' : ''),
          num(r.perplexity, 6),
          num(r.deltaFraction, 3),
          num(r.thresholdFraction, 3),
          r.pass === null ? '—' : r.pass ? 'yes' : 'no',
          num(r.maxAbsLogitDelta, 3),
          num(r.meanAbsLogitDelta, 3),
          num(r.top1Agreement, 4),
          r.error ?? '—',
        ]),
      ),
    );
    const skipped = parityNotComparedLines(a);
    if (skipped.length > 0) out.push(`<ul>${skipped.map((line) => `<li>${e(line)}</li>`).join('')}</ul>`);
    out.push('</section>');
  }
  return out;
}

/** The stored baseline's history. */
function historyHtml({ extras, charts, c, h }: SectionContext): string[] {
  const out: string[] = [];
  if (c.history.length > 0) {
    const entries = extras.history ?? [];
    out.push(
      '<section>',
      h(1, 'History of the stored baseline'),
      `<p>${entries.length} stored baseline${entries.length === 1 ? '' : 's'} of this branch, ${e(entries[0]?.startedAt ?? '')} to ${e(entries.at(-1)?.startedAt ?? '')}${extras.historySkipped ? ` (${extras.historySkipped} unreadable line${extras.historySkipped === 1 ? '' : 's'} skipped)` : ''}; this run's medians as diamonds.</p>`,
      `<div class="grid wide">${c.history.map((s) => figure(s, charts)).join('\n')}</div>`,
      '</section>',
    );
  }
  return out;
}

/** What was built before the matrix, and what the cache gave. */
function artifactsHtml({ results, h }: SectionContext): string[] {
  const out: string[] = [];
  const artifacts = artifactTables(results);
  if (artifacts) {
    out.push(
      '<section>',
      h(1, 'Artifacts (export and engines)'),
      `<p>${e(artifacts.line)}</p>`,
      ...artifacts.tables.flatMap((t) => [
        `<p><strong>${e(t.title)}</strong>${t.note ? ` (${e(t.note)})` : ''}</p>`,
        table(t.header, t.rows),
      ]),
      '</section>',
    );
  }
  return out;
}

/** Backends, environment and method. */
function setupHtml({ results, h }: SectionContext): string[] {
  const out: string[] = [];
  const env = results.environment;
  out.push(
    '<section>',
    h(1, 'Backends and environment'),
    table(
      ['Backend', 'Engine', 'Providers', 'Precision', 'Status', 'What the timer covers', 'Reason'],
      results.backends.map((b) => [
        b.spec.name,
        b.spec.engine,
        b.session ? b.session.providers.join(' → ') : settingsOf(b.spec),
        b.spec.precision,
        b.status,
        b.session ? (b.session.timerCovers ?? results.method.timerCovers) : '—',
        b.reason ?? '—',
      ]),
    ),
  );
  for (const group of sessionNotesOf(results.backends)) {
    out.push(
      `<p>${e(group.heading)}:</p><ul>` +
        group.lines.map((line) => `<li><strong>${e(line.backend)}</strong>: ${e(line.note)}</li>`).join('') +
        '</ul>',
    );
  }
  const m = results.method;
  out.push(
    table(
      ['Field', 'Value'],
      [
        [
          'model',
          `${results.model.path} (sha256 ${results.model.sha256.slice(0, 16)}…, ${num(results.model.bytes / 1e6)} MB)`,
        ],
        ['machine', `${env.cpuModel} × ${env.cpuCount}, ${env.os}, ${env.totalMemoryMiB} MiB`],
        ['GPU', env.gpus.length > 0 ? env.gpus.map((g) => g.name).join(', ') : (env.gpuNote ?? 'none')],
        ...gpuClockLines(env).map((line) => ['GPU clocks (nvidia-smi)', line]),
        ['versions', `Node ${env.nodeVersion}, onnxruntime-node ${env.onnxruntimeVersion}, tr118 ${env.toolVersion}`],
        ['commit', gitText(results.git)],
        [
          'method',
          `${m.repetitions} repetitions × ${m.iterations} timed passes per cell, ${m.warmup} warm-up passes; ${m.order} (seed ${m.seed}); timeout ${m.timeoutSeconds} s per run`,
        ],
        ['measured', `${results.startedAt} to ${results.finishedAt} (${num(results.durationSeconds)} s)`],
        ...(results.phases
          ? [['where the seconds went', `${phasesLine(results.phases)} (the reports are written after)`]]
          : []),
      ],
    ),
    '</section>',
  );
  return out;
}

const STYLE = `
:root { color-scheme: light; font-family: system-ui, sans-serif; color: #1f2328; background: #fff; }
body { margin: 0; }
main { max-width: 1100px; margin: 0 auto; padding: 1rem 1.5rem 3rem; }
h1 { font-size: 1.6rem; } h2 { margin-top: 2.2rem; border-bottom: 1px solid #d0d7de; padding-bottom: .3rem; }
.verdict { font-size: 1.15rem; padding: .6rem .9rem; border-radius: 6px; border-left: 6px solid; }
.verdict.pass { background: #dafbe1; border-color: #1a7f37; } .verdict.warn { background: #fff8c5; border-color: #9a6700; }
.verdict.fail { background: #ffebe9; border-color: #cf222e; } .verdict.inconclusive { background: #eaeef2; border-color: #57606a; }
ul.reasons li.fail { color: #a40e26; } .note { color: #6e4b00; }
.scroll { overflow-x: auto; margin: .8rem 0; }
table { border-collapse: collapse; font-size: .85rem; }
th, td { border: 1px solid #d0d7de; padding: .25rem .5rem; text-align: left; vertical-align: top; }
th { background: #f6f8fa; }
figure.chart { margin: 1rem 0; } figure.chart .vega { width: 100%; min-height: 60px; }
figcaption { font-size: .8rem; color: #57606a; max-width: 60rem; }
.grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(320px, 1fr)); gap: .5rem 1rem; }
.grid.wide { grid-template-columns: repeat(auto-fill, minmax(480px, 1fr)); }
.grid figure.chart { margin: .3rem 0; }
.missing-library { background: #ffebe9; padding: .6rem; }
`;

/**
 * Draws every chart: compiles each Vega-Lite spec and runs a Vega view into its element, marking the element
 * data-rendered="ok" (or "error", with the error shown and logged: the browser test fails on a console error).
 */
const RENDER_SCRIPT = `
(function () {
  var specs = JSON.parse(document.getElementById('tr118-charts').textContent);
  if (typeof vega === 'undefined' || typeof vegaLite === 'undefined') return;
  specs.forEach(function (chart) {
    var el = document.getElementById(chart.id);
    function fail(error) {
      el.setAttribute('data-rendered', 'error');
      el.textContent = 'This chart could not be drawn: ' + error;
      console.error('tr118 chart ' + chart.id + ': ' + error);
    }
    try {
      var compiled = vegaLite.compile(chart.spec).spec;
      var view = new vega.View(vega.parse(compiled), { renderer: 'svg', container: el, hover: true });
      view.runAsync().then(function () { el.setAttribute('data-rendered', 'ok'); }, fail);
    } catch (error) { fail(error); }
  });
})();
`;

function page(title: string, body: string, charts: readonly ChartSpec[], library: ChartLibrary): string {
  const missing =
    library === null && charts.length > 0
      ? '<p class="missing-library">The charting library was not found when this page was written (a tr118 install without dist/report-charts.js): the tables are complete, the charts are not drawn.</p>'
      : '';
  return [
    '<!doctype html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    // No favicon request: the page must not ask the network (or the file system) for anything.
    '<link rel="icon" href="data:,">',
    `<title>${e(title)}</title>`,
    `<style>${STYLE}</style>`,
    '</head>',
    '<body>',
    '<main>',
    missing,
    body,
    '</main>',
    `<script type="application/json" id="tr118-charts">${scriptJson(charts.map((c) => ({ id: c.id, spec: c.spec })))}</script>`,
    library !== null ? `<script>${scriptSource(library)}</script>` : '',
    `<script>${RENDER_SCRIPT}</script>`,
    '</body>',
    '</html>',
    '',
  ].join('\n');
}

export function renderHtml(results: Results, library: ChartLibrary, extras: HtmlExtras = {}): string {
  const charts: ChartSpec[] = [];
  const body = `<h1>tr118 prefill benchmark: ${e(results.model.name)}</h1>\n${runSections(results, extras, '', 1, charts)}`;
  return page(`tr118 ${results.verdict.decision}: ${results.model.name}`, body, charts, library);
}

export interface HtmlPart {
  readonly name: string;
  readonly results: Results;
  readonly extras?: HtmlExtras;
}

export function renderMergedHtml(merged: MergedVerdict, parts: readonly HtmlPart[], library: ChartLibrary): string {
  const charts: ChartSpec[] = [];
  const out: string[] = [`<h1>tr118 prefill benchmark: ${parts.length} parts</h1>`];
  out.push(
    `<p class="verdict ${VERDICT_CLASS[merged.decision]}">Verdict: <strong>${e(merged.decision)}</strong> — ${e(merged.basis)}.</p>`,
    table(
      ['Part', 'Verdict', 'Model', 'Backends'],
      parts.map((p) => [
        p.name,
        p.results.verdict.decision,
        p.results.model.name,
        p.results.backends.map((b) => b.spec.name).join(', '),
      ]),
    ),
  );
  parts.forEach((p, i) => {
    out.push(`<h2>Part ${e(p.name)}</h2>`, runSections(p.results, p.extras ?? {}, `p${i}-`, 2, charts));
  });
  return page(`tr118 ${merged.decision}: ${parts.length} parts`, out.join('\n'), charts, library);
}
