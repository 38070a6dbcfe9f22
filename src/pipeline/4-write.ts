/**
 * The last phase: the judged results into the output folder: verdict.json, results.json, summary.csv, report.md,
 * report.html (with a stored baseline's history beside it) and the manifest that lists them. All are written whole,
 * or none (writeAllOrNone): after a full disk the raw records (results.jsonl) alone say what was measured.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { UsageError } from '../errors.js';
import { writeAllOrNone, type WriteWhole } from '../out-dir.js';
import { renderSummaryCsv } from '../report/csv.js';
import { renderHtml } from '../report/html.js';
import { buildManifest } from '../report/manifest.js';
import { renderMarkdown } from '../report/markdown.js';
import { readChartLibrary } from '../report/write-html.js';
import { readHistory } from '../results/history.js';
import type { Results } from '../results/schema.js';
import { verdictFileText } from '../results/judgement.js';
import type { OutputFiles } from './options.js';
import type { PreparedRun } from './1-prepare.js';

/** `write` is writeFileSync unless a test stands in a full disk. */
export function writeRun(
  results: Results,
  baseline: PreparedRun['baseline'],
  files: OutputFiles,
  write?: WriteWhole,
): void {
  // A stored baseline kept in the store has the branch's history beside it (results/history.ts).
  const history = baseline ? readHistory(baseline.file) : null;
  const html = renderHtml(results, readChartLibrary(), {
    base: baseline?.results ?? null,
    history: history?.entries ?? [],
    historySkipped: history?.skipped ?? 0,
  });
  const relative = Object.fromEntries(Object.entries(files).map(([k, f]) => [k, path.basename(f)]));
  try {
    writeAllOrNone(
      [
        [files.verdict, verdictFileText(results)],
        [files.results, `${JSON.stringify(results, null, 2)}\n`],
        [files.summary, renderSummaryCsv(results)],
        [files.report, renderMarkdown(results)],
        [files.html, html],
        [files.manifest, `${JSON.stringify(buildManifest(results, relative), null, 2)}\n`],
      ],
      write,
    );
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    throw new UsageError(
      `${error.message}; ${rawRecordsKept(files.raw)} (no report, no verdict: they were not written)`,
    );
  }
}

/** What the raw file keeps of a run that did not end with its reports: its path and count of records. */
export function rawRecordsKept(rawFile: string): string {
  let records = 0;
  try {
    records = readFileSync(rawFile, 'utf8')
      .split('\n')
      .filter((l) => l !== '').length;
  } catch {
    // Not started yet: nothing measured.
  }
  return `${rawFile} keeps the ${records} raw records measured`;
}
