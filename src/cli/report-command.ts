/**
 * `tr118 report RESULTS.json… [--html] [--out DIR]`: the reports of an earlier run, rendered again from its
 * results.json without measuring anything, so a person can look at an old run (or one from CI) with this version's
 * pictures. One results.json gives that run's report; several (the parts of a split matrix), or the merged.json of
 * `mode: merge`, give the merged report.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { UsageError } from '../errors.js';
import { OUTPUT_FILES } from '../pipeline/index.js';
import { renderSummaryCsv } from '../report/csv.js';
import { renderHtml, renderMergedHtml } from '../report/html.js';
import { renderMarkdown } from '../report/markdown.js';
import { renderMergedMarkdown } from '../report/merged.js';
import { readChartLibrary, storedBaselineExtras } from '../report/write-html.js';
import { mergeVerdicts, partIdentities, readParts } from '../results/merge.js';
import { claimOutDir, writeAllOrNone } from '../out-dir.js';

export interface ReportFlags {
  readonly html?: boolean;
  /** Default: the folder of the first file given (a merged.json's, not its first part's). */
  readonly out?: string;
  /** Several parts: what they may differ in (results/merge.ts PART_IDENTITY), comma-separated. */
  readonly allowPartDifferences?: string;
}

/**
 * The results files a list of arguments names: a merged.json stands for its parts (their paths as the merge
 * recorded them, else beside the merged.json under their part folder's name).
 */
export function expandResultsFiles(files: readonly string[]): string[] {
  return files.flatMap((file) => {
    let data: unknown;
    try {
      data = JSON.parse(readFileSync(file, 'utf8'));
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') throw new UsageError(`results ${file}: no such file`);
      if (code) throw new UsageError(`results ${file}: cannot read: ${code}`);
      throw new UsageError(`results ${file}: not valid JSON (truncated or corrupted?): ${(error as Error).message}`);
    }
    const parts = (data as { parts?: unknown }).parts;
    if (!Array.isArray(parts)) return [file];
    return parts.map((p: unknown, i) => {
      const part = p as { file?: unknown; name?: unknown };
      if (typeof part.file !== 'string')
        throw new UsageError(`${file}: parts[${i}].file: expected the path of a part's results.json`);
      const candidates = [
        path.resolve(path.dirname(file), part.file),
        ...(typeof part.name === 'string' ? [path.join(path.dirname(file), part.name, OUTPUT_FILES.results)] : []),
      ];
      const found = candidates.find((c) => existsSync(c));
      if (!found)
        throw new UsageError(
          `${file}: part ${JSON.stringify(part.name ?? i)}: its results.json is not at ${candidates.join(' or ')} (give the parts' results.json files instead)`,
        );
      return found;
    });
  });
}

/** Renders and writes the reports; returns the files written. */
export function reportCommand(files: readonly string[], flags: ReportFlags, cwd: string): string[] {
  if (files.length === 0) throw new UsageError('report: expected a results.json (or merged.json) to render');
  const resolved = expandResultsFiles(files.map((f) => path.resolve(cwd, f)));
  if (flags.out !== undefined && flags.out.trim() === '')
    throw new UsageError(
      '--out: expected an output folder; got an empty path (to write into this folder, give --out .)',
    );
  const outDir = flags.out !== undefined ? path.resolve(cwd, flags.out) : path.dirname(path.resolve(cwd, files[0]!));
  const parts = readParts(resolved, {
    allowed: partIdentities(flags.allowPartDifferences, '--allow-part-differences'),
    allowedSaidAs: 'give --allow-part-differences',
  });
  const written: Record<string, string> = {};
  if (parts.length === 1) {
    const results = parts[0]!.results;
    written[OUTPUT_FILES.report] = renderMarkdown(results);
    written[OUTPUT_FILES.summary] = renderSummaryCsv(results);
    if (flags.html) written[OUTPUT_FILES.html] = renderHtml(results, readChartLibrary(), storedBaselineExtras(results));
  } else {
    const merged = mergeVerdicts(parts);
    written[OUTPUT_FILES.report] = renderMergedMarkdown(merged, parts);
    if (flags.html) {
      const htmlParts = parts.map((p) => ({ ...p, extras: storedBaselineExtras(p.results) }));
      written[OUTPUT_FILES.html] = renderMergedHtml(merged, htmlParts, readChartLibrary());
    }
  }
  // Locked while written, like a run's folder; only the files rendered here are replaced (never results.json).
  const claim = claimOutDir(outDir, Object.keys(written));
  try {
    const targets = Object.entries(written).map(([name, text]) => [path.join(outDir, name), text] as const);
    // All whole or none: a report.md beside no report.html it announces is not left after a full disk.
    writeAllOrNone(targets);
    return targets.map(([file]) => file);
  } finally {
    claim.release();
  }
}
