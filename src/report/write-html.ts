/**
 * The thin I/O edge of report.html: finds the charting library and writes the page that html.ts renders. The
 * library is Vega + Vega-Lite's browser builds, copied into dist/report-charts.js by `npm run build` (the Action and
 * the CLI run from dist/ with no node_modules); a source checkout without a build reads them from node_modules.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { packageRoot } from '../paths.js';
import { readHistory } from '../results/history.js';
import { readResultsFile } from '../results/read.js';
import type { Results } from '../results/schema.js';
import type { ChartLibrary, HtmlExtras } from './html.js';

/** The bundle `npm run build` writes into dist/ (scripts/build.mjs). */
export const CHART_LIBRARY_FILE = 'report-charts.js';

/** The browser builds the bundle is made of, in load order (Vega-Lite's needs Vega's global). */
export const CHART_LIBRARY_PARTS = ['vega/build/vega.min.js', 'vega-lite/build/vega-lite.min.js'] as const;

/** The files that make up the library here: the built bundle, else the node_modules builds; null when neither. */
export function chartLibraryFiles(root: string = packageRoot()): string[] | null {
  const bundle = path.join(root, 'dist', CHART_LIBRARY_FILE);
  if (existsSync(bundle)) return [bundle];
  const parts = CHART_LIBRARY_PARTS.map((p) => path.join(root, 'node_modules', p));
  return parts.every((p) => existsSync(p)) ? parts : null;
}

/** The library's source, or null (the page then says its charts are not drawn; the tables are complete). */
export function readChartLibrary(root: string = packageRoot()): ChartLibrary {
  const files = chartLibraryFiles(root);
  return files ? files.map((f) => readFileSync(f, 'utf8')).join('\n;\n') : null;
}

/**
 * What a re-rendered page can draw of a stored baseline: its results (the label of a stored comparison is the
 * baseline file's path) and the branch's history beside it, when those files are still there. Best effort: a
 * baseline that moved or no longer parses only leaves those charts out.
 */
export function storedBaselineExtras(results: Results): HtmlExtras {
  const comparison = results.comparison;
  if (comparison?.mode !== 'stored' || !existsSync(comparison.base.label)) return {};
  let base: Results | null = null;
  try {
    base = readResultsFile(comparison.base.label);
  } catch {
    // Another version's file, or edited since: the page shows this run's side alone.
  }
  const history = readHistory(comparison.base.label);
  return { base, history: history?.entries ?? [], historySkipped: history?.skipped ?? 0 };
}
