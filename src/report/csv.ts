/** results → summary.csv: one row per cell, the seed's latency_summary columns. Pure. */
import type { Results } from '../results/schema.js';

export const SUMMARY_COLUMNS = [
  'backend',
  'scenario',
  'batch',
  'seq_len',
  'real_tokens',
  'status',
  'n_ok',
  'n_total',
  'degraded_rate',
  'lat_mean_ms',
  'lat_median_ms',
  'lat_std_ms',
  'lat_min_ms',
  'lat_max_ms',
  'lat_p5_ms',
  'lat_p95_ms',
  'lat_p99_ms',
  'lat_mean_ci95_low',
  'lat_mean_ci95_high',
  'lat_median_ci95_low',
  'lat_median_ci95_high',
  'thr_median_tok_s',
  'thr_mean_tok_s',
  'thr_mean_ci95_low',
  'thr_mean_ci95_high',
  // GPU workers: the end-to-end figure beside the gated device-side one (empty elsewhere)
  'e2e_median_ms',
  'e2e_p95_ms',
  'reason',
] as const;

function field(value: string | number | null | undefined): string {
  if (value === null || value === undefined) return '';
  const text = typeof value === 'number' ? (Number.isFinite(value) ? String(value) : '') : value;
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function renderSummaryCsv(results: Results): string {
  const rows = results.cells.map((c) => {
    const l = c.stats?.latencyMs;
    const t = c.stats?.tokensPerSecond;
    return [
      c.backend,
      c.scenario,
      c.batch,
      c.seqLen,
      c.realTokens,
      c.status,
      c.runs - c.degradedRuns,
      c.runs,
      c.degradedRate,
      l?.mean,
      l?.median,
      l?.std,
      l?.min,
      l?.max,
      l?.p5,
      l?.p95,
      l?.p99,
      l?.meanCi95?.[0],
      l?.meanCi95?.[1],
      l?.medianCi95?.[0],
      l?.medianCi95?.[1],
      t?.atMedian,
      t?.mean,
      t?.meanCi95?.[0],
      t?.meanCi95?.[1],
      c.endToEnd?.medianMs,
      c.endToEnd?.p95Ms,
      c.firstReason,
    ]
      .map(field)
      .join(',');
  });
  return [SUMMARY_COLUMNS.join(','), ...rows].join('\n') + '\n';
}
