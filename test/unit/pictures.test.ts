/**
 * The pictures: the seed's question answered, the Mermaid text (exact), the PR comment's size limit on large
 * matrices, report.html's Vega-Lite specs (compiled by Vega-Lite, no warning) and the page's escaping, and the
 * stored baseline's history.
 */
import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as vegaLite from 'vega-lite';
import { describe, expect, it } from 'vitest';
import { COMMENT_LIMIT_CHARS, MAX_HEAD_REASONS, renderComment, renderMergedComment } from '../../src/github/comment.js';
import { answerSeedQuestion } from '../../src/report/answer.js';
import { renderHtml, scriptJson } from '../../src/report/html.js';
import { renderMarkdown } from '../../src/report/markdown.js';
import { answerChart, backendChart, changeChart, MAX_CHART_CATEGORIES } from '../../src/report/mermaid.js';
import { runCharts, type ChartSpec } from '../../src/report/vega.js';
import { historyEntry, readHistory } from '../../src/results/history.js';
import { mergeVerdicts, type Part } from '../../src/results/merge.js';
import type { Results } from '../../src/results/schema.js';
import { saveBaseline } from '../../src/results/store.js';
import { matrixResults, TEST_AT } from '../helpers/results.js';

/** Deterministic jitter of ±`spread` around 1 for pass i of repetition rep. */
const jitter = (rep: number, i: number, spread: number): number => 1 + spread * Math.sin(rep * 7.1 + i * 13.7);

const threeBackends = (
  ms: Record<string, number>,
  options: { spread?: number; ppl?: Record<string, number> | null; extraConfig?: string } = {},
): Results =>
  matrixResults({
    backends: Object.keys(ms),
    scenarios: ['single_micro', 'batch_short'],
    latencyMs: (b, s, rep, i) => (ms[b] ?? 1) * (s === 'batch_short' ? 4 : 1) * jitter(rep, i, options.spread ?? 0.01),
    ...(options.ppl === null ? {} : { perplexity: (b: string) => options.ppl?.[b] ?? 50 }),
    repetitions: 4,
    iterations: 10,
    ...(options.extraConfig ? { extraConfig: options.extraConfig } : {}),
  });

describe("the seed's question: the fastest backend that passed the accuracy gate, against the baseline backend", () => {
  it.each([
    {
      name: 'a backend twice as fast, as accurate: yes, about 2×, interval above 1',
      results: () => threeBackends({ ref: 10, fast: 5, mid: 8 }),
      fastest: 'fast',
      decision: 'faster',
      speedup: [1.9, 2.1],
      text: /^yes: fast is 2× as fast as ref \(95% CI /,
    },
    {
      name: 'the fast backend failed the accuracy gate: the baseline is the fastest accurate one',
      results: () => threeBackends({ ref: 10, fast: 5, mid: 12 }, { ppl: { fast: 60 } }),
      fastest: 'ref',
      decision: 'baseline fastest',
      speedup: [1, 1],
      text: /^no: ref \(the baseline\) is the fastest accurate backend$/,
    },
    {
      name: 'noisy passes whose intervals overlap: not decidable',
      results: () => threeBackends({ ref: 10, close: 9.9, slow: 20 }, { spread: 0.4 }),
      fastest: 'close',
      decision: 'not decidable',
      speedup: [0.9, 1.2],
      text: /^not decidable: close .* includes 1$/,
    },
    {
      name: 'report.baseline_backend names the baseline instead of the accuracy reference',
      results: () =>
        threeBackends({ ref: 10, fast: 5, mid: 8 }, { extraConfig: 'report: { baseline_backend: mid }\n' }),
      fastest: 'fast',
      decision: 'faster',
      speedup: [1.5, 1.7],
      text: /as fast as mid/,
    },
    {
      name: 'accuracy not measured: every backend counts, and the answer says so',
      results: () => threeBackends({ ref: 10, fast: 5 }, { ppl: null }),
      fastest: 'fast',
      decision: 'faster',
      speedup: [1.9, 2.1],
      text: /^yes: fast/,
    },
  ])('$name', ({ results, fastest, decision, speedup, text }) => {
    const r = results();
    const answer = answerSeedQuestion(r)!;
    expect(answer).not.toBeNull();
    const row = answer.rows.find((x) => x.scenario === 'single_micro')!;
    expect(row.fastest).toBe(fastest);
    expect(row.decision).toBe(decision);
    expect(row.speedup!).toBeGreaterThanOrEqual(speedup[0]!);
    expect(row.speedup!).toBeLessThanOrEqual(speedup[1]!);
    if (row.speedupCi) expect(row.speedupCi[0]).toBeLessThanOrEqual(row.speedup!);
    expect(row.text).toMatch(text);
    // report.md opens with it, after the verdict
    const md = renderMarkdown(r);
    expect(md.indexOf('## Fastest accurate backend per scenario')).toBeGreaterThan(md.indexOf('**Verdict:'));
    expect(md.indexOf('## Fastest accurate backend per scenario')).toBeLessThan(
      md.indexOf('## Overall backend summary'),
    );
  });

  it('names where the baseline came from and how accuracy was judged', () => {
    expect(answerSeedQuestion(threeBackends({ ref: 10, fast: 5 }))).toMatchObject({
      baselineBackend: 'ref',
      baselineFrom: 'the accuracy reference',
      accurate: ['ref', 'fast'],
      accuracyBasis: 'passed the accuracy gate (perplexity against the reference backend ref)',
    });
    expect(answerSeedQuestion(threeBackends({ ref: 10, fast: 5 }, { ppl: null }))).toMatchObject({
      baselineFrom: 'the first backend that ran (no accuracy reference, no report.baseline_backend)',
      accuracyBasis: 'accuracy was not measured (accuracy.enabled: false): every backend counts',
    });
  });

  it('a single backend asks no question: no answer, no section', () => {
    const one = threeBackends({ only: 10 });
    expect(answerSeedQuestion(one)).toBeNull();
    expect(renderMarkdown(one)).not.toContain('Fastest accurate backend');
  });
});

/** A candidate 12% slower than its base on every cell (stored), with `backends × scenarios` cells. */
function slowerMatrix(backends: number, scenarios: number, slowdown = 1.12): Results {
  const spec = {
    backends: Array.from({ length: backends }, (_, b) => `backend-with-a-long-name-${b}`),
    scenarios: Array.from({ length: scenarios }, (_, s) => `scenario_number_${s}`),
    repetitions: 3,
    iterations: 4,
  };
  const ms = (b: string, s: string, rep: number, i: number): number =>
    (1 + spec.backends.indexOf(b) * 0.1 + spec.scenarios.indexOf(s)) * jitter(rep, i, 0.002);
  const base = matrixResults({ ...spec, latencyMs: ms });
  return matrixResults({ ...spec, latencyMs: (b, s, rep, i) => ms(b, s, rep, i) * slowdown }, base);
}

describe('Mermaid charts (exact text)', () => {
  it('the change per cell against the warn and fail lines, and the medians of both sides', async () => {
    const r = slowerMatrix(2, 2);
    const text = [changeChart(r)!.lines, backendChart(r)!.lines].flat().join('\n');
    await expect(text).toMatchFileSnapshot('./__snapshots__/mermaid-change-backends.md');
    expect(text).toContain('xychart-beta horizontal');
  });

  it("the seed's answer as a chart", async () => {
    const answer = answerSeedQuestion(threeBackends({ ref: 10, fast: 5, mid: 8 }))!;
    await expect(answerChart(answer)!.lines.join('\n')).toMatchFileSnapshot('./__snapshots__/mermaid-answer.md');
  });

  it(`a matrix too large for one chart draws its ${MAX_CHART_CATEGORIES} worst cells, and says so`, () => {
    const spec = { backends: ['a', 'b', 'c', 'd'], scenarios: Array.from({ length: 10 }, (_, s) => `s${s}`) };
    const ms = (b: string, s: string, rep: number, i: number): number =>
      (1 + Number(s.slice(1))) * jitter(rep, i, 0.002);
    const base = matrixResults({ ...spec, latencyMs: ms });
    // cell a × s7 is the worst (+40%), the rest +0…+19%
    const slower = matrixResults(
      {
        ...spec,
        latencyMs: (b, s, rep, i) =>
          ms(b, s, rep, i) *
          (b === 'a' && s === 's7' ? 1.4 : 1 + (spec.backends.indexOf(b) + Number(s.slice(1))) / 100),
      },
      base,
    );
    const chart = changeChart(slower)!;
    const axis = chart.lines.find((l) => l.startsWith('  x-axis'))!;
    expect(axis.match(/"/g)).toHaveLength(2 * MAX_CHART_CATEGORIES);
    expect(axis).toMatch(/^ {2}x-axis \["a\/s7", /);
    expect(chart.leftOut).toBe(
      `Only the ${MAX_CHART_CATEGORIES} cells with the largest change of 40 are drawn (worst first); the tables and report.html have all of them.`,
    );
    expect(chart.lines.join('\n')).toContain(chart.leftOut!);
  });
});

describe("the PR comment stays within GitHub's 65,536 characters whatever the matrix", () => {
  let big: Results | undefined;
  // 200 cells, built once (each build bootstraps every cell)
  const slower200 = (): Results => (big ??= slowerMatrix(20, 10));

  it('200 failing cells: the report gives way to the worst cells, the reasons are capped, and it says so', () => {
    const r = slower200();
    expect(r.comparison!.cells.filter((c) => c.decision === 'warn' || c.decision === 'fail')).toHaveLength(200);
    // The full report alone is longer than a comment may be.
    expect(renderMarkdown(r, { charts: false }).length).toBeGreaterThan(COMMENT_LIMIT_CHARS);
    const comment = renderComment(r, 'https://github.com/o/r/actions/runs/1', 'tr118-report');
    expect(comment.length).toBeLessThanOrEqual(COMMENT_LIMIT_CHARS);
    expect(comment.match(/^- \*\*backend-with/gm)).toHaveLength(MAX_HEAD_REASONS);
    expect(comment).toMatch(/^- … and 180 more \(listed in the report below or in the job summary\)$/m);
    expect(comment).toMatch(/<details><summary>Worst \d+ of 200 cells<\/summary>/);
    expect(comment).toContain('does not fit in a PR comment (at most 65,536): it is in the job summary and report.md');
    expect(comment).toContain(`Only the ${MAX_CHART_CATEGORIES} cells with the largest change of 200 are drawn`);
    expect(comment).toContain('[Workflow run](https://github.com/o/r/actions/runs/1)');
    expect(comment).toContain(
      '`report.html` in the artifact `tr118-report` of [this run](https://github.com/o/r/actions/runs/1#artifacts)',
    );
  });

  it('a merged comment of three such parts (600 cells) fits too', () => {
    const parts: Part[] = ['cpu', 'gpu', 'arm'].map((name) => ({
      name,
      file: `${name}/results.json`,
      results: slower200(),
    }));
    const comment = renderMergedComment(mergeVerdicts(parts), parts, 'https://github.com/o/r/actions/runs/1');
    expect(comment.length).toBeLessThanOrEqual(COMMENT_LIMIT_CHARS);
    expect(comment).toMatch(/<details><summary>Worst \d+ of 600 cells<\/summary>/);
  });

  it('a small matrix keeps its full report, folded', () => {
    const comment = renderComment(slowerMatrix(2, 2), undefined);
    expect(comment).toContain('<details><summary>Full report</summary>');
    expect(comment).not.toContain('Left out');
    expect(comment).not.toContain('does not fit');
  });
});

/** Compiles a spec as the page does, collecting Vega-Lite's warnings (the browser test refuses console warnings). */
function compile(chart: ChartSpec): string[] {
  const warnings: string[] = [];
  const logger = {
    level: () => logger,
    warn: (...args: unknown[]) => (warnings.push(args.join(' ')), logger),
    info: () => logger,
    debug: () => logger,
    error: (...args: unknown[]) => (warnings.push(`error: ${args.join(' ')}`), logger),
  };
  vegaLite.compile(chart.spec as unknown as vegaLite.TopLevelSpec, {
    logger: logger as unknown as NonNullable<NonNullable<Parameters<typeof vegaLite.compile>[1]>['logger']>,
  });
  return warnings;
}

describe("report.html's charts and page", () => {
  const spec = {
    backends: ['ref', 'fast'],
    scenarios: ['single_micro', 'batch_short'],
    perplexity: (b: string) => (b === 'fast' ? 50.01 : 50),
    repetitions: 3,
    iterations: 8,
  };
  const base = matrixResults({ ...spec, latencyMs: (b, s, rep, i) => (b === 'fast' ? 1 : 2) * jitter(rep, i, 0.05) });
  const cand = (mode: 'stored' | 'same-run') =>
    matrixResults(
      { ...spec, latencyMs: (b, s, rep, i) => (b === 'fast' ? 1.1 : 2) * jitter(rep, i, 0.05) },
      base,
      mode,
    );

  it.each(['same-run', 'stored'] as const)('%s: every chart compiles with Vega-Lite, without a warning', (mode) => {
    const r = cand(mode);
    const history = [historyEntry({ ...base, startedAt: '2026-11-01T00:00:00.000Z' }), historyEntry(base)];
    const charts = runCharts(r, answerSeedQuestion(r), { base: mode === 'stored' ? base : null, history }, '');
    const all = [
      charts.answer,
      charts.change,
      ...charts.pairedRatios,
      charts.medians,
      ...charts.distributions,
      charts.perplexity,
      ...charts.history,
    ].filter((c): c is ChartSpec => c !== null);
    expect(all.map((c) => c.id)).toEqual([
      'answer',
      'change',
      ...(mode === 'same-run' ? ['paired-0', 'paired-1', 'paired-2', 'paired-3'] : []),
      'medians',
      'dist-0',
      'dist-1',
      'ppl',
      'history-0',
      'history-1',
    ]);
    for (const c of all) expect({ id: c.id, warnings: compile(c) }).toEqual({ id: c.id, warnings: [] });
    // The base's passes are drawn beside the candidate's.
    const sides = new Set(
      (charts.distributions[0]!.spec.data as { values: { side: string }[] }).values.map((v) => v.side),
    );
    expect(sides).toEqual(new Set(['base', 'candidate']));
  });

  it('text from outside cannot leave its element: a model named </script><script>… stays text', () => {
    const hostile = '</script><script>alert(1)</script><!--';
    const r = { ...cand('same-run'), model: { ...cand('same-run').model, name: hostile }, notes: [hostile] };
    const html = renderHtml(r, '/* library */ window.vega = {};', {});
    // the page's own three scripts (chart data, library, drawing) and nothing else
    expect(html.match(/<script/g)).toHaveLength(3);
    expect(html).not.toContain('<script>alert');
    expect(html).toContain('&#60;/script&#62;&#60;script&#62;alert(1)');
    const data = html.match(/<script type="application\/json" id="tr118-charts">(.*?)<\/script>/s)![1]!;
    expect(JSON.parse(data)).toHaveLength(runChartsCount(r));
    expect(scriptJson({ x: '</script>' })).toBe('{"x":"\\u003c/script>"}');
  });

  it('without the charting library the page still has every table, and says why there are no charts', () => {
    const html = renderHtml(cand('stored'), null, {});
    expect(html).toContain('The charting library was not found');
    expect(html).toContain('<h2>Latency</h2>');
    expect(html).toContain('<h2>Accuracy</h2>');
  });
});

function runChartsCount(r: Results): number {
  const c = runCharts(r, answerSeedQuestion(r), { base: null, history: [] }, '');
  return (
    [c.answer, c.change, c.medians, c.perplexity, c.parity].filter(Boolean).length +
    c.pairedRatios.length +
    c.distributions.length +
    c.history.length
  );
}

describe('the stored baseline history', () => {
  it('each save appends one line; a repeat counts once; an unreadable line is skipped and counted', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'tr118-history-'));
    const store = path.join(dir, 'store');
    const write = (name: string, startedAt: string): string => {
      const file = path.join(dir, name);
      const r = threeBackends({ ref: 10, fast: 5 });
      writeFileSync(file, JSON.stringify({ ...r, startedAt }));
      return file;
    };
    const first = write('a.json', '2026-11-01T00:00:00.000Z');
    const target = saveBaseline(first, 'main', store);
    saveBaseline(write('b.json', TEST_AT), 'main', store);
    saveBaseline(first, 'main', store); // the first result again
    appendFileSync(path.join(store, 'main.history.jsonl'), '{"startedAt": "half a line\n');
    const history = readHistory(target)!;
    expect(history.file).toBe(path.join(store, 'main.history.jsonl'));
    expect(history.entries.map((e) => e.startedAt)).toEqual(['2026-11-01T00:00:00.000Z', TEST_AT]);
    expect(history.skipped).toBe(1);
    expect(history.entries[0]!.cells.map((c) => `${c.backend} × ${c.scenario}`)).toEqual([
      'ref × single_micro',
      'ref × batch_short',
      'fast × single_micro',
      'fast × batch_short',
    ]);
    expect(history.entries[0]!.cells[0]!.medianMs).toBeCloseTo(10, 0);
    // the store itself holds the newest save only
    expect((JSON.parse(readFileSync(target, 'utf8')) as Results).startedAt).toBe('2026-11-01T00:00:00.000Z');
  });

  it('a line a crash left half-written costs only itself: the next save is read', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'tr118-history-'));
    const store = path.join(dir, 'store');
    const file = path.join(dir, 'a.json');
    writeFileSync(file, JSON.stringify({ ...threeBackends({ ref: 10, fast: 5 }), startedAt: TEST_AT }));
    mkdirSync(store, { recursive: true });
    writeFileSync(path.join(store, 'main.history.jsonl'), '{"startedAt": "cut off by a crash');
    const target = saveBaseline(file, 'main', store);
    const history = readHistory(target)!;
    expect(history.entries.map((e) => e.startedAt)).toEqual([TEST_AT]);
    expect(history.skipped).toBe(1);
  });

  it('no history file: none', () => {
    expect(readHistory(path.join(os.tmpdir(), 'no-such-store', 'main.json'))).toBeNull();
  });
});
