/**
 * `mode: merge` of the Action and `tr118 merge`: the parts of a split matrix (results.json files other jobs wrote)
 * become one verdict and one report, decided by one function so the CLI exits as the Action's step does.
 */
import path from 'node:path';
import { claimOutDir, writeAllOrNone } from '../out-dir.js';
import { renderMergedHtml } from '../report/html.js';
import { renderMergedMarkdown } from '../report/merged.js';
import { readChartLibrary, storedBaselineExtras } from '../report/write-html.js';
import { mergeVerdicts, readParts, type MergedVerdict, type Part, type PartIdentity } from '../results/merge.js';
import { MERGED_FILE, OUTPUT_FILES, RUN_FILES } from './options.js';

export interface MergeOptions {
  /** What the parts may differ in (results/merge.ts PART_IDENTITY); default nothing. */
  readonly allowed?: readonly PartIdentity[];
  /** How the caller's user allows a difference, for the refusal's last words (an input, a flag). */
  readonly allowedSaidAs: string;
}

export interface MergedOutput {
  readonly merged: MergedVerdict;
  readonly parts: readonly Part[];
  readonly summaryMarkdown: string;
  readonly reportPath: string;
  readonly htmlPath: string;
  /** merged.json: the merged verdict with the parts it came from (each part's results.json stays a baseline). */
  readonly resultsPath: string;
}

export function mergeParts(files: readonly string[], outDir: string, options: MergeOptions): MergedOutput {
  const parts = readParts(files, options);
  const merged = mergeVerdicts(parts);
  // Like a measuring run: the folder is locked while written, and holds this merge's files only.
  const claim = claimOutDir(outDir, RUN_FILES);
  const reportPath = path.join(outDir, OUTPUT_FILES.report);
  const htmlPath = path.join(outDir, OUTPUT_FILES.html);
  const resultsPath = path.join(outDir, MERGED_FILE);
  const summaryMarkdown = renderMergedMarkdown(merged, parts);
  try {
    // All three whole or none (a UsageError naming the file that could not be written); the lock goes either way.
    const htmlParts = parts.map((p) => ({ ...p, extras: storedBaselineExtras(p.results) }));
    const partsList = parts.map((p) => ({ name: p.name, file: p.file, decision: p.results.verdict.decision }));
    writeAllOrNone([
      [reportPath, summaryMarkdown],
      [htmlPath, renderMergedHtml(merged, htmlParts, readChartLibrary())],
      [resultsPath, `${JSON.stringify({ ...merged, parts: partsList }, null, 2)}\n`],
    ]);
  } finally {
    claim.release();
  }
  return { merged, parts, summaryMarkdown, reportPath, htmlPath, resultsPath };
}
