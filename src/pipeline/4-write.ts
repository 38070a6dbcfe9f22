/**
 * The last phase: the judged results into the output folder: verdict.json, results.json, summary.csv, report.md,
 * report.html (with a stored baseline's history beside it) and the manifest that lists them.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { renderSummaryCsv } from '../report/csv.js';
import { renderHtml } from '../report/html.js';
import { buildManifest } from '../report/manifest.js';
import { renderMarkdown } from '../report/markdown.js';
import { readChartLibrary } from '../report/write-html.js';
import { readHistory } from '../results/history.js';
import type { Results } from '../results/schema.js';
import { writeVerdictFile } from '../results/judgement.js';
import type { OutputFiles } from './options.js';
import type { PreparedRun } from './1-prepare.js';

export function writeRun(results: Results, baseline: PreparedRun['baseline'], files: OutputFiles): void {
  writeVerdictFile(files.verdict, results);
  writeFileSync(files.results, `${JSON.stringify(results, null, 2)}\n`);
  writeFileSync(files.summary, renderSummaryCsv(results));
  writeFileSync(files.report, renderMarkdown(results));
  // A stored baseline kept in the store has the branch's history beside it (results/history.ts).
  const history = baseline ? readHistory(baseline.file) : null;
  writeFileSync(
    files.html,
    renderHtml(results, readChartLibrary(), {
      base: baseline?.results ?? null,
      history: history?.entries ?? [],
      historySkipped: history?.skipped ?? 0,
    }),
  );
  const relative = Object.fromEntries(Object.entries(files).map(([k, f]) => [k, path.basename(f)]));
  writeFileSync(files.manifest, `${JSON.stringify(buildManifest(results, relative), null, 2)}\n`);
}
