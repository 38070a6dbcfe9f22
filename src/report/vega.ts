/**
 * The charts of report.html as Vega-Lite specifications: plain JSON, built here from a run's results and drawn in
 * the page by Vega-Lite and Vega (bundled into the page; see html.ts). Declarative specs keep this module pure and
 * testable: a test compiles every spec with Vega-Lite, and the browser test draws them. Pure.
 */
import { median } from 'simple-statistics';
import type { HistoryEntry } from '../results/history.js';
import type { CellResult, Results } from '../results/schema.js';
import type { SeedAnswer } from './answer.js';

/** A Vega-Lite top-level specification (JSON). */
export type VegaLiteSpec = Readonly<Record<string, unknown>>;

export interface ChartSpec {
  /** Unique in the page: the element the chart is drawn into. */
  readonly id: string;
  readonly title: string;
  /** What the chart shows, in words: its caption and its accessible description. */
  readonly description: string;
  /** A shorter caption for small multiples (the description stays the accessible text); default the description. */
  readonly caption?: string;
  readonly spec: VegaLiteSpec;
}

/** Passes drawn per cell and side at most; more are thinned evenly (and the page says so). */
export const MAX_PASSES_PER_CELL = 4000;

const SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';

const DECISION_COLOURS = {
  domain: ['fail', 'warn', 'inconclusive', 'incomparable', 'missing', 'improvement', 'pass', 'new'],
  range: ['#d62728', '#ff7f0e', '#7f7f7f', '#8c564b', '#bcbd22', '#1f77b4', '#2ca02c', '#17becf'],
};
const SIDE_COLOURS = { domain: ['base', 'candidate'], range: ['#4e79a7', '#f28e2b'] };

/** What every spec shares; `width: 'container'` makes a chart as wide as its element (facets size their cells). */
const base = (width: 'container' | null = 'container'): Record<string, unknown> => ({
  $schema: SCHEMA,
  // As wide as the element, heights from the data (a step per row): fit the width only.
  ...(width ? { width, autosize: { type: 'fit-x', contains: 'padding' } } : {}),
  config: { view: { stroke: null }, axis: { labelLimit: 320 }, font: 'system-ui, sans-serif' },
});

/**
 * The height of a chart with one band per row. A fixed number rather than Vega-Lite's `{ step }`: a step height
 * beside a container width makes Vega-Lite warn that it drops "fit-y" (a console warning the browser test refuses).
 */
const rowsHeight = (rows: number, step: number): number => Math.max(1, rows) * step;

/**
 * A vertical line at x = `at` across the whole chart: one row of its own data, since a layer without data of its
 * own draws once per row of its parent's (many lines on one spot) or, in a chart whose layers each bring their
 * data, not at all.
 */
function vline(at: number, mark: Record<string, unknown>): Record<string, unknown> {
  return { data: { values: [{}] }, mark: { type: 'rule', ...mark }, encoding: { x: { datum: at } } };
}

/** Every pass of a cell, thinned evenly to at most `max`. */
function passesOf(cell: CellResult, max = MAX_PASSES_PER_CELL): number[] {
  const all = cell.repetitionLatenciesMs.flat();
  if (all.length <= max) return all;
  const step = all.length / max;
  return Array.from({ length: max }, (_, i) => all[Math.floor(i * step)]!);
}

const measured = (c: CellResult | undefined): c is CellResult =>
  c !== undefined && c.repetitionLatenciesMs.some((r) => r.length > 0);

const cellKey = (c: { readonly backend: string; readonly scenario: string }): string => `${c.backend} × ${c.scenario}`;

/** True when some cell had more passes than a chart draws. */
export function thinned(results: Results): boolean {
  return results.cells.some((c) => c.repetitionLatenciesMs.flat().length > MAX_PASSES_PER_CELL);
}

/** The seed's answer: speed-up of the fastest accurate backend per scenario, interval and the line at 1. */
export function answerSpec(answer: SeedAnswer, id: string): ChartSpec | null {
  const rows = answer.rows
    .filter((r) => r.speedup !== null)
    .map((r) => ({
      label: `${r.scenario}: ${r.fastest ?? ''}`,
      speedup: r.speedup,
      lo: r.speedupCi?.[0] ?? null,
      hi: r.speedupCi?.[1] ?? null,
      answer: r.decision,
    }));
  if (rows.length === 0) return null;
  const y = { field: 'label', type: 'nominal', title: null, sort: null };
  return {
    id,
    title: `Speed-up of the fastest accurate backend over ${answer.baselineBackend}`,
    description: `Per scenario: ${answer.baselineBackend}'s median ÷ the fastest accurate backend's median (dot), with its ${Math.round(answer.confidence * 100)}% bootstrap interval (bar); right of the line at 1 is faster than the baseline. An interval that crosses 1 is not decidable.`,
    spec: {
      ...base(),
      height: rowsHeight(rows.length, 28),
      data: { values: rows },
      layer: [
        vline(1, { strokeDash: [4, 3], color: '#555' }),
        {
          // The baseline's own row has no interval (nothing to estimate): a dot alone.
          transform: [{ filter: 'datum.lo !== null' }],
          mark: { type: 'errorbar', ticks: true },
          encoding: {
            y,
            x: {
              field: 'lo',
              type: 'quantitative',
              title: `speed-up over ${answer.baselineBackend} (×)`,
              scale: { zero: false },
            },
            x2: { field: 'hi' },
          },
        },
        {
          mark: { type: 'point', filled: true, size: 80 },
          encoding: {
            y,
            x: { field: 'speedup', type: 'quantitative' },
            color: {
              field: 'answer',
              type: 'nominal',
              title: 'answer',
              scale: {
                domain: ['faster', 'baseline fastest', 'not decidable'],
                range: ['#2ca02c', '#1f77b4', '#7f7f7f'],
              },
            },
            tooltip: [
              { field: 'label', title: 'scenario: backend' },
              { field: 'speedup', format: '.3f' },
              { field: 'lo', format: '.3f', title: 'CI low' },
              { field: 'hi', format: '.3f', title: 'CI high' },
              { field: 'answer' },
            ],
          },
        },
      ],
    },
  };
}

/** The gate's change per cell with its interval, against 1 and the warn and fail thresholds. */
export function changeSpec(results: Results, id: string): ChartSpec | null {
  const comparison = results.comparison;
  const rows = (comparison?.cells ?? [])
    .filter((c) => c.ratio !== null && c.ratioCi !== null)
    .map((c) => ({ cell: cellKey(c), ratio: c.ratio, lo: c.ratioCi![0], hi: c.ratioCi![1], decision: c.decision }));
  if (!comparison || rows.length === 0) return null;
  const { warn_fraction: warn, fail_fraction: fail } = results.config.thresholds.latency;
  const y = { field: 'cell', type: 'nominal', title: null, sort: null };
  const threshold = (at: number, color: string) => vline(at, { strokeDash: [6, 3], color });
  const what = comparison.mode === 'same-run' ? 'paired change (median of per-pass ratios)' : 'ratio of medians';
  return {
    id,
    title: 'Latency change per cell (candidate ÷ base)',
    description: `The ${what} per cell (dot, coloured by the gate's decision) with its interval (bar); grey line: no change; orange: warn threshold ${1 + warn}; red: fail threshold ${1 + fail}. A cell fails when its whole interval lies above 1 and its change beyond the fail threshold (and the ${results.config.thresholds.latency.min_effect_ms} ms floor).`,
    spec: {
      ...base(),
      height: rowsHeight(rows.length, 22),
      data: { values: rows },
      layer: [
        vline(1, { color: '#999' }),
        threshold(1 + warn, '#ff7f0e'),
        threshold(1 + fail, '#d62728'),
        {
          mark: { type: 'errorbar', ticks: true },
          encoding: {
            y,
            x: { field: 'lo', type: 'quantitative', title: 'candidate ÷ base', scale: { zero: false } },
            x2: { field: 'hi' },
          },
        },
        {
          mark: { type: 'point', filled: true, size: 70 },
          encoding: {
            y,
            x: { field: 'ratio', type: 'quantitative' },
            color: { field: 'decision', type: 'nominal', scale: DECISION_COLOURS },
            tooltip: [
              { field: 'cell' },
              { field: 'ratio', format: '.4f' },
              { field: 'lo', format: '.4f', title: 'CI low' },
              { field: 'hi', format: '.4f', title: 'CI high' },
              { field: 'decision' },
            ],
          },
        },
      ],
    },
  };
}

/**
 * Same-run A/B, one chart per cell: the distribution of per-pass ratios (candidate pass ÷ the base pass timed next
 * to it), the gate's estimate and interval, 1 and the thresholds.
 */
export function pairedRatioSpecs(results: Results, idPrefix: string): ChartSpec[] {
  const comparison = results.comparison;
  const baseRun = results.sameRunBase;
  if (comparison?.mode !== 'same-run' || !baseRun) return [];
  const { warn_fraction: warn, fail_fraction: fail } = results.config.thresholds.latency;
  const specs: ChartSpec[] = [];
  comparison.cells.forEach((cmp, index) => {
    const cand = results.cells.find((c) => c.backend === cmp.backend && c.scenario === cmp.scenario);
    const b = baseRun.cells.find((c) => c.backend === cmp.backend && c.scenario === cmp.scenario);
    if (!measured(cand) || !measured(b) || cmp.ratio === null || cmp.ratioCi === null) return;
    const ratios: number[] = [];
    cand.repetitionLatenciesMs.forEach((rep, r) => {
      const other = b.repetitionLatenciesMs[r];
      if (!other || other.length !== rep.length) return;
      rep.forEach((ms, i) => ratios.push(ms / other[i]!));
    });
    if (ratios.length === 0) return;
    const [lo, hi] = cmp.ratioCi;
    // The axis spans the middle 95% of the pairs, 1, the thresholds and the interval: a few stray pairs (a pass
    // caught by the scheduler) would otherwise squeeze the histogram into a sliver. Those beyond are counted.
    const sorted = [...ratios].sort((x, y) => x - y);
    const q = (p: number): number => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
    const span = [Math.min(q(0.025), 1, lo), Math.max(q(0.975), 1 + fail, hi)] as const;
    const pad = (span[1] - span[0]) * 0.04;
    const domain = [span[0] - pad, span[1] + pad] as const;
    const inside = ratios.filter((r) => r >= domain[0] && r <= domain[1]);
    const beyond = ratios.length - inside.length;
    const step = Math.max(1, Math.ceil(inside.length / MAX_PASSES_PER_CELL));
    const values = inside.filter((_, i) => i % step === 0).map((ratio) => ({ ratio }));
    const x = { type: 'quantitative', scale: { domain, zero: false, nice: false } };
    const rule = (at: number, color: string, dash: number[] | null) =>
      vline(at, { color, strokeWidth: 2, ...(dash ? { strokeDash: dash } : {}) });
    specs.push({
      id: `${idPrefix}-${index}`,
      title: cellKey(cmp),
      description: `${cellKey(cmp)}: per-pass ratios candidate ÷ base (${ratios.length} pairs, histogram${beyond > 0 ? `; ${beyond} beyond the axis` : ''}), the gate's change ${cmp.ratio.toFixed(4)} (black) with its interval ${lo.toFixed(4)}–${hi.toFixed(4)} (band); grey: 1; orange: warn ${1 + warn}; red: fail ${1 + fail}. Decision: ${cmp.decision}.`,
      caption: `${cmp.decision}: change ${cmp.ratio.toFixed(4)}, interval ${lo.toFixed(4)}–${hi.toFixed(4)}; ${ratios.length} pairs${beyond > 0 ? `, ${beyond} beyond the axis` : ''}.`,
      spec: {
        ...base(),
        height: 140,
        title: { text: cellKey(cmp), fontSize: 12 },
        layer: [
          {
            data: { values: [{ lo, hi }] },
            mark: { type: 'rect', color: '#4e79a7', opacity: 0.2 },
            encoding: { x: { field: 'lo', ...x }, x2: { field: 'hi' } },
          },
          {
            data: { values },
            transform: [
              { bin: { maxbins: 40, extent: domain }, field: 'ratio', as: ['bin0', 'bin1'] },
              { aggregate: [{ op: 'count', as: 'passes' }], groupby: ['bin0', 'bin1'] },
            ],
            mark: { type: 'rect', color: '#9ab' },
            encoding: {
              x: { field: 'bin0', ...x, title: 'candidate ÷ base (per pass)' },
              x2: { field: 'bin1' },
              y: { field: 'passes', type: 'quantitative', title: 'passes' },
              tooltip: [
                { field: 'bin0', format: '.4f', title: 'from' },
                { field: 'bin1', format: '.4f', title: 'to' },
                { field: 'passes' },
              ],
            },
          },
          rule(1, '#999', null),
          rule(1 + warn, '#ff7f0e', [6, 3]),
          rule(1 + fail, '#d62728', [6, 3]),
          rule(cmp.ratio, '#000', null),
        ],
      },
    });
  });
  return specs;
}

/**
 * Per scenario: the distribution of pass latencies of every backend as box plots, the base's beside the
 * candidate's (same-run A/B, or a stored baseline when its results are at hand).
 */
export function distributionSpecs(results: Results, baseResults: Results | null, idPrefix: string): ChartSpec[] {
  const baseCells = baseResults?.cells ?? results.sameRunBase?.cells ?? [];
  const baseLabel = results.comparison?.mode === 'stored' ? 'base (stored)' : 'base';
  const scenarios = [...new Set(results.cells.map((c) => c.scenario))];
  const specs: ChartSpec[] = [];
  scenarios.forEach((scenario, index) => {
    const values: { backend: string; side: string; row: string; ms: number }[] = [];
    for (const cell of results.cells.filter((c) => c.scenario === scenario && measured(c))) {
      const b = baseCells.find((c) => c.backend === cell.backend && c.scenario === scenario);
      if (measured(b)) {
        for (const ms of passesOf(b))
          values.push({ backend: cell.backend, side: 'base', row: `${cell.backend} · ${baseLabel}`, ms });
      }
      for (const ms of passesOf(cell))
        values.push({ backend: cell.backend, side: 'candidate', row: `${cell.backend} · candidate`, ms });
    }
    if (values.length === 0) return;
    const order = [...new Set(values.map((v) => v.row))];
    const shape = results.cells.find((c) => c.scenario === scenario);
    specs.push({
      id: `${idPrefix}-${index}`,
      title: `${scenario} (${shape?.batch ?? '?'}×${shape?.seqLen ?? '?'})`,
      description: `${scenario}: every timed pass of every backend (box: quartiles; whiskers: 1.5 × IQR; dots: passes beyond), ${baseCells.length > 0 ? 'the base (blue) beside the candidate (orange)' : 'this run'}.`,
      spec: {
        ...base(),
        height: rowsHeight(order.length, 26),
        data: { values },
        mark: { type: 'boxplot', extent: 1.5, size: 16 },
        encoding: {
          y: { field: 'row', type: 'nominal', title: null, sort: order },
          x: { field: 'ms', type: 'quantitative', title: 'latency per pass (ms)', scale: { zero: false } },
          color: { field: 'side', type: 'nominal', scale: SIDE_COLOURS, title: null },
        },
      },
    });
  });
  return specs;
}

/** Median latency per backend per scenario (log scale: shapes differ by orders of magnitude), with intervals. */
export function mediansSpec(results: Results, id: string): ChartSpec | null {
  const rows = results.cells
    .filter((c) => c.stats !== null)
    .map((c) => ({
      scenario: `${c.scenario} (${c.batch}×${c.seqLen})`,
      backend: c.backend,
      median: c.stats!.latencyMs.median,
      lo: c.stats!.latencyMs.medianCi95?.[0] ?? c.stats!.latencyMs.median,
      hi: c.stats!.latencyMs.medianCi95?.[1] ?? c.stats!.latencyMs.median,
    }));
  if (rows.length === 0) return null;
  const y = { field: 'scenario', type: 'nominal', title: null, sort: null };
  const x = { type: 'quantitative', scale: { type: 'log' }, title: 'median latency (ms, log scale)' };
  return {
    id,
    title: 'Median latency per backend per scenario',
    description:
      "Each cell's median pass latency (dot) with its 95% bootstrap interval (bar), one colour per backend, on a log scale so that small and large shapes share the chart.",
    spec: {
      ...base(),
      height: rowsHeight(new Set(rows.map((r) => r.scenario)).size, 18 * new Set(rows.map((r) => r.backend)).size + 12),
      data: { values: rows },
      encoding: {
        y,
        yOffset: { field: 'backend', type: 'nominal' },
        color: { field: 'backend', type: 'nominal' },
      },
      layer: [
        { mark: { type: 'errorbar', ticks: true }, encoding: { x: { field: 'lo', ...x }, x2: { field: 'hi' } } },
        {
          mark: { type: 'point', filled: true, size: 60 },
          encoding: {
            x: { field: 'median', ...x },
            tooltip: [
              { field: 'backend' },
              { field: 'scenario' },
              { field: 'median', format: '.4g', title: 'median ms' },
              { field: 'lo', format: '.4g', title: 'CI low' },
              { field: 'hi', format: '.4g', title: 'CI high' },
            ],
          },
        },
      ],
    },
  };
}

/** Perplexity per backend with the band its precision's threshold allows around the reference's. */
export function perplexitySpec(results: Results, id: string): ChartSpec | null {
  const a = results.accuracy;
  const reference = a?.rows.find((r) => r.isReference && r.perplexity !== null);
  const rows = (a?.rows ?? [])
    .filter((r) => r.perplexity !== null)
    .map((r) => ({
      backend: r.backend + (r.isReference ? ' (reference)' : ''),
      perplexity: r.perplexity,
      lo:
        reference?.perplexity && r.thresholdFraction !== null ? reference.perplexity * (1 - r.thresholdFraction) : null,
      hi:
        reference?.perplexity && r.thresholdFraction !== null ? reference.perplexity * (1 + r.thresholdFraction) : null,
      gate: r.pass === null ? 'not gated' : r.pass ? 'pass' : 'fail',
      precision: r.precision,
    }));
  if (rows.length === 0) return null;
  const y = { field: 'backend', type: 'nominal', title: null, sort: null };
  const layer: Record<string, unknown>[] = [];
  if (reference?.perplexity) {
    layer.push({
      transform: [{ filter: 'datum.lo !== null' }],
      mark: { type: 'bar', color: '#4e79a7', opacity: 0.18, size: 18 },
      encoding: {
        y,
        x: { field: 'lo', type: 'quantitative', scale: { zero: false } },
        x2: { field: 'hi' },
      },
    });
    layer.push(vline(reference.perplexity, { color: '#4e79a7' }));
  }
  layer.push({
    mark: { type: 'point', filled: true, size: 80 },
    encoding: {
      y,
      x: { field: 'perplexity', type: 'quantitative', title: 'perplexity', scale: { zero: false } },
      color: {
        field: 'gate',
        type: 'nominal',
        title: 'accuracy gate',
        scale: { domain: ['pass', 'fail', 'not gated'], range: ['#2ca02c', '#d62728', '#7f7f7f'] },
      },
      tooltip: [
        { field: 'backend' },
        { field: 'perplexity', format: '.6g' },
        { field: 'precision' },
        { field: 'lo', format: '.6g', title: 'band low' },
        { field: 'hi', format: '.6g', title: 'band high' },
        { field: 'gate' },
      ],
    },
  });
  return {
    id,
    title: 'Perplexity per backend',
    description: reference
      ? `Each backend's perplexity (dot; green: passed the gate, red: failed). Band: the reference's perplexity ${reference.perplexity?.toPrecision(6)} (line) ± the threshold of the backend's precision.`
      : "Each backend's perplexity (no reference backend: no band).",
    spec: { ...base(), height: rowsHeight(rows.length, 28), data: { values: rows }, layer },
  };
}

/** Logits parity against the reference: largest |Δ logit| and top-1 agreement per backend. */
export function paritySpec(results: Results, id: string): ChartSpec | null {
  const rows = (results.accuracy?.rows ?? [])
    .filter((r) => r.maxAbsLogitDelta !== null && !r.isReference)
    .flatMap((r) => [
      { backend: r.backend, figure: 'max |Δ logit|', value: r.maxAbsLogitDelta },
      ...(r.meanAbsLogitDelta !== null
        ? [{ backend: r.backend, figure: 'mean |Δ logit|', value: r.meanAbsLogitDelta }]
        : []),
      ...(r.top1Agreement !== null ? [{ backend: r.backend, figure: 'top-1 agreement', value: r.top1Agreement }] : []),
    ]);
  if (rows.length === 0) return null;
  return {
    id,
    title: 'Logits parity against the reference',
    description: `Per backend, on the parity probe batch: the largest and mean |logit − reference logit|, and the share of positions with the same arg-max token as the reference.`,
    spec: {
      ...base(null),
      data: { values: rows },
      facet: { column: { field: 'figure', type: 'nominal', title: null } },
      resolve: { scale: { x: 'independent' } },
      spec: {
        width: 240,
        height: { step: 24 },
        mark: { type: 'bar', color: '#4e79a7' },
        encoding: {
          y: { field: 'backend', type: 'nominal', title: null },
          x: { field: 'value', type: 'quantitative', title: null, axis: { format: '~g', labelOverlap: true } },
          tooltip: [{ field: 'backend' }, { field: 'figure' }, { field: 'value', format: '.6g' }],
        },
      },
    },
  };
}

/** The stored baseline's history per scenario: each backend's median over time, this run's medians beside. */
export function historySpecs(results: Results, history: readonly HistoryEntry[], idPrefix: string): ChartSpec[] {
  if (history.length === 0) return [];
  const thisRun = results.cells.filter(measured).map((c) => ({
    backend: c.backend,
    scenario: c.scenario,
    medianMs: c.stats?.latencyMs.median ?? median(c.repetitionLatenciesMs.flat()),
  }));
  const scenarios = [
    ...new Set([...history.flatMap((h) => h.cells.map((c) => c.scenario)), ...thisRun.map((c) => c.scenario)]),
  ];
  const specs: ChartSpec[] = [];
  scenarios.forEach((scenario, index) => {
    const stored = history.flatMap((h) =>
      h.cells
        .filter((c) => c.scenario === scenario)
        .map((c) => ({
          at: h.startedAt,
          backend: c.backend,
          median: c.medianMs,
          commit: h.commit?.slice(0, 12) ?? '—',
          source: 'stored baseline',
        })),
    );
    if (stored.length === 0) return;
    const current = thisRun
      .filter((c) => c.scenario === scenario)
      .map((c) => ({
        at: results.startedAt,
        backend: c.backend,
        median: c.medianMs,
        commit: results.git?.commit?.slice(0, 12) ?? '—',
        source: 'this run',
      }));
    const x = { field: 'at', type: 'temporal', title: 'measured at' };
    const yEnc = { field: 'median', type: 'quantitative', title: 'median latency (ms)', scale: { zero: false } };
    specs.push({
      id: `${idPrefix}-${index}`,
      title: scenario,
      description: `${scenario}: the median latency of each backend in every stored baseline of the branch (line), and this run's (large dot).`,
      spec: {
        ...base(),
        height: 180,
        layer: [
          {
            data: { values: stored },
            mark: { type: 'line', point: true },
            encoding: {
              x,
              y: yEnc,
              color: { field: 'backend', type: 'nominal' },
              tooltip: [
                { field: 'at', type: 'temporal', timeUnit: 'yearmonthdatehoursminutes' },
                { field: 'backend' },
                { field: 'median', format: '.4g' },
                { field: 'commit' },
              ],
            },
          },
          {
            data: { values: current },
            mark: { type: 'point', shape: 'diamond', size: 140, filled: true },
            encoding: {
              x,
              y: yEnc,
              color: { field: 'backend', type: 'nominal' },
              tooltip: [
                { field: 'source' },
                { field: 'backend' },
                { field: 'median', format: '.4g' },
                { field: 'commit' },
              ],
            },
          },
        ],
      },
    });
  });
  return specs;
}

/** Every chart of one run's page, in page order, keyed by section. */
export interface RunCharts {
  readonly answer: ChartSpec | null;
  readonly change: ChartSpec | null;
  readonly pairedRatios: readonly ChartSpec[];
  readonly medians: ChartSpec | null;
  readonly distributions: readonly ChartSpec[];
  readonly perplexity: ChartSpec | null;
  readonly parity: ChartSpec | null;
  readonly history: readonly ChartSpec[];
}

export function runCharts(
  results: Results,
  answer: SeedAnswer | null,
  extras: { readonly base: Results | null; readonly history: readonly HistoryEntry[] },
  prefix: string,
): RunCharts {
  return {
    answer: answer ? answerSpec(answer, `${prefix}answer`) : null,
    change: changeSpec(results, `${prefix}change`),
    pairedRatios: pairedRatioSpecs(results, `${prefix}paired`),
    medians: mediansSpec(results, `${prefix}medians`),
    distributions: distributionSpecs(results, extras.base, `${prefix}dist`),
    perplexity: perplexitySpec(results, `${prefix}ppl`),
    parity: paritySpec(results, `${prefix}parity`),
    history: historySpecs(results, extras.history, `${prefix}history`),
  };
}
