/**
 * Mermaid charts for everything GitHub renders as markdown: report.md, the job summary and the PR comment. GitHub
 * draws ```mermaid blocks with Mermaid 11 (docs/output.md "Charts"), whose `xychart-beta` has bars and lines but no legend,
 * no error bars and no log scale: each chart names its colours in a caption line under it, and a matrix too large
 * to read in one chart gets its worst cells only, said in that caption. Pure.
 */
import type { CellComparison } from '../gate/compare.js';
import type { Results } from '../results/schema.js';
import type { SeedAnswer } from './answer.js';
import { escapeUntrusted } from './escape.js';
import { num } from '../format.js';

/** More categories than this and the x-axis labels overlap: the chart shows the worst ones and says so. */
export const MAX_CHART_CATEGORIES = 24;

/**
 * Colours of the series, in order: CSS colour names (readable on GitHub's light and dark backgrounds alike, and
 * named in each caption). Names rather than hex codes: a "#4e…" in the comment would look like an issue reference.
 */
const PALETTE = [
  ['steelblue', 'blue'],
  ['darkorange', 'orange'],
  ['crimson', 'red'],
  ['seagreen', 'green'],
  ['mediumpurple', 'purple'],
  ['cadetblue', 'teal'],
  ['goldenrod', 'yellow'],
  ['sienna', 'brown'],
  ['hotpink', 'pink'],
  ['gray', 'grey'],
] as const;

/** Mermaid text gets only plain characters: labels are rendered by Mermaid, outside markdown's escaping. */
export function mermaidText(text: string): string {
  return text.replace(/[^\w .,/:()-]/g, '');
}

/** A figure for a Mermaid series: 4 significant digits, never an exponent Mermaid could misread. */
function figure(value: number): string {
  return Number(value.toPrecision(4)).toString();
}

interface Series {
  readonly kind: 'bar' | 'line';
  readonly values: readonly number[];
  /** Palette index: the colour this series is drawn in. */
  readonly colour: number;
}

/** The fenced block of one xychart: the colours it uses come first in the palette, in series order. */
function xychart(
  title: string,
  categories: readonly string[],
  axis: { readonly label: string; readonly min: number; readonly max: number },
  series: readonly Series[],
  /**
   * Categories down the side instead of along the bottom: for long labels (backend/scenario), which overlap
   * along the bottom after a handful. The chart grows with the categories.
   */
  horizontal = false,
): string[] {
  const palette = series.map((s) => PALETTE[s.colour % PALETTE.length]![0]).join(', ');
  return [
    '```mermaid',
    '---',
    'config:',
    ...(horizontal
      ? ['  xyChart:', '    width: 900', `    height: ${Math.max(300, 80 + 32 * categories.length)}`]
      : []),
    '  themeVariables:',
    '    xyChart:',
    `      plotColorPalette: "${palette}"`,
    '---',
    horizontal ? 'xychart-beta horizontal' : 'xychart-beta',
    `  title "${mermaidText(title)}"`,
    `  x-axis [${categories.map((c) => `"${mermaidText(c)}"`).join(', ')}]`,
    `  y-axis "${mermaidText(axis.label)}" ${figure(axis.min)} --> ${figure(axis.max)}`,
    ...series.map((s) => `  ${s.kind} [${s.values.map(figure).join(', ')}]`),
    '```',
  ];
}

/**
 * A y-axis range with round ends a little beyond the data (so no bar or line touches the frame), rounded to a step
 * of the data's own spread: ratios near 1 get 0.95 … 1.15, not 0 … 2. `fromZero` for quantities such as ms.
 */
function axisRange(values: readonly number[], fromZero: boolean): { readonly min: number; readonly max: number } {
  const lo = fromZero ? 0 : Math.min(...values);
  const hi = Math.max(...values);
  const span = Math.max(hi - lo, Math.abs(hi) * 0.01, 1e-9);
  const step = 10 ** Math.floor(Math.log10(span)) / 2;
  const pad = span * 0.05;
  return {
    min: fromZero ? 0 : Math.floor((lo - pad) / step) * step,
    max: Math.ceil((hi + pad) / step) * step,
  };
}

const colourName = (index: number): string => PALETTE[index % PALETTE.length]![1];

export interface Chart {
  /** The lines of the chart: the fenced block, then its caption (markdown). */
  readonly lines: readonly string[];
  /** What the chart left out (cells or backends), in words; null when it shows everything. */
  readonly leftOut: string | null;
}

function chart(block: string[], caption: string, leftOut: string | null): Chart {
  return { lines: [...block, '', leftOut ? `${caption} ${leftOut}` : caption, ''], leftOut };
}

/** The cells a chart of the comparison shows: all of them, or the worst (largest change) when there are too many. */
function worstCells(
  cells: readonly CellComparison[],
  change: (c: CellComparison) => number,
): {
  readonly shown: readonly CellComparison[];
  readonly leftOut: string | null;
} {
  if (cells.length <= MAX_CHART_CATEGORIES) return { shown: cells, leftOut: null };
  const shown = [...cells].sort((a, b) => change(b) - change(a)).slice(0, MAX_CHART_CATEGORIES);
  return {
    shown,
    leftOut: `Only the ${shown.length} cells with the largest change of ${cells.length} are drawn (worst first); the tables and report.html have all of them.`,
  };
}

const cellLabel = (c: { readonly backend: string; readonly scenario: string }): string => `${c.backend}/${c.scenario}`;

/** Median latency per cell, base bar and candidate line (the comparison's two sides). */
export function medianChart(results: Results, title = 'Median latency per cell (ms)'): Chart | null {
  const cells = (results.comparison?.cells ?? []).filter(
    (c) => c.baseMedianMs !== null && c.candidateMedianMs !== null,
  );
  if (cells.length === 0) return null;
  const { shown, leftOut } = worstCells(cells, (c) => c.medianRatio ?? 1);
  const range = axisRange(
    shown.flatMap((c) => [c.baseMedianMs ?? 0, c.candidateMedianMs ?? 0]),
    true,
  );
  const block = xychart(
    title,
    shown.map(cellLabel),
    { label: 'ms', ...range },
    [
      { kind: 'bar', values: shown.map((c) => c.baseMedianMs ?? 0), colour: 0 },
      { kind: 'line', values: shown.map((c) => c.candidateMedianMs ?? 0), colour: 1 },
    ],
    true,
  );
  return chart(block, `Median latency per cell: base ${colourName(0)} bars, candidate ${colourName(1)} line.`, leftOut);
}

/** The gate's change per cell (candidate ÷ base) against the warn and fail thresholds. */
export function changeChart(results: Results, title = 'Latency change per cell (candidate / base)'): Chart | null {
  const cells = (results.comparison?.cells ?? []).filter((c) => c.ratio !== null);
  if (cells.length === 0) return null;
  const { warn_fraction: warn, fail_fraction: fail } = results.config.thresholds.latency;
  const { shown, leftOut } = worstCells(cells, (c) => c.ratio ?? 1);
  const ratios = shown.map((c) => c.ratio ?? 1);
  const range = axisRange([...ratios, 1, 1 + fail], false);
  const n = shown.length;
  const block = xychart(
    title,
    shown.map(cellLabel),
    { label: 'candidate / base', ...range },
    [
      { kind: 'bar', values: ratios, colour: 0 },
      { kind: 'line', values: Array<number>(n).fill(1 + warn), colour: 1 },
      { kind: 'line', values: Array<number>(n).fill(1 + fail), colour: 2 },
    ],
    true,
  );
  const mode = results.comparison?.mode === 'same-run' ? 'the paired change of same-run A/B' : 'the ratio of medians';
  return chart(
    block,
    `Latency change per cell (${mode}; past 1 is slower): ${colourName(0)} bars; warn threshold ${figure(1 + warn)} ${colourName(1)} line, fail threshold ${figure(1 + fail)} ${colourName(2)} line. A bar past a line fails only when its interval also clears 1 (see the table).`,
    leftOut,
  );
}

/** Median latency per backend per scenario (the candidate's), one line per backend: drawn when several ran. */
export function backendChart(results: Results, title = 'Median latency per backend per scenario (ms)'): Chart | null {
  const measured = results.cells.filter((c) => c.stats !== null);
  const backends = [...new Set(measured.map((c) => c.backend))];
  if (backends.length < 2) return null;
  const allScenarios = [...new Set(measured.map((c) => c.scenario))];
  const scenarios = allScenarios.slice(0, MAX_CHART_CATEGORIES);
  const drawn = backends.slice(0, PALETTE.length);
  const median = (backend: string, scenario: string): number | undefined =>
    measured.find((c) => c.backend === backend && c.scenario === scenario)?.stats?.latencyMs.median;
  const values = drawn.map((b) => scenarios.map((s) => median(b, s) ?? 0));
  const block = xychart(
    title,
    scenarios,
    { label: 'ms', ...axisRange(values.flat(), true) },
    values.map((v, i) => ({ kind: 'line', values: v, colour: i })),
  );
  const legend = drawn.map((b, i) => `${escapeUntrusted(b)} ${colourName(i)}`).join(', ');
  const gaps = values.some((v) => v.includes(0)) ? ' A point at 0 was not measured (unavailable or degraded).' : '';
  const left = [
    ...(allScenarios.length > scenarios.length ? [`the last ${allScenarios.length - scenarios.length} scenarios`] : []),
    ...(backends.length > drawn.length
      ? [
          `backends ${backends
            .slice(drawn.length)
            .map((b) => escapeUntrusted(b))
            .join(', ')}`,
        ]
      : []),
  ];
  return chart(
    block,
    `Median latency per backend per scenario, one line per backend: ${legend}.${gaps}`,
    left.length > 0 ? `Left out (too many for one chart): ${left.join('; ')}; the tables have them.` : null,
  );
}

/** The seed's answer: per scenario, the fastest accurate backend's speed-up over the baseline backend. */
export function answerChart(
  answer: SeedAnswer,
  title = 'Speed-up of the fastest accurate backend over the baseline',
): Chart | null {
  const rows = answer.rows.filter((r) => r.speedup !== null).slice(0, MAX_CHART_CATEGORIES);
  if (rows.length === 0) return null;
  const speedups = rows.map((r) => r.speedup ?? 1);
  const block = xychart(
    `${title} (${answer.baselineBackend})`,
    rows.map((r) => `${r.scenario}: ${r.fastest ?? ''}`),
    { label: `speed-up over ${answer.baselineBackend}`, ...axisRange([...speedups, 1], true) },
    [
      { kind: 'bar', values: speedups, colour: 3 },
      { kind: 'line', values: Array<number>(rows.length).fill(1), colour: 2 },
    ],
    true,
  );
  const left = answer.rows.length - rows.length;
  return chart(
    block,
    `Speed-up = ${escapeUntrusted(answer.baselineBackend)}'s median ÷ the fastest accurate backend's median, per scenario (${colourName(3)} bars); the ${colourName(2)} line at 1 is the baseline's own speed. Intervals are in the table.`,
    left > 0 ? `${left} more scenarios are in the table.` : null,
  );
}

/** A figure for captions and tables. */
export function speedupText(x: number | null): string {
  return x === null ? '—' : `${num(x, 3)}×`;
}
