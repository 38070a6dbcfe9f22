import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderSummaryCsv, SUMMARY_COLUMNS } from '../../src/report/csv.js';
import { renderMarkdown } from '../../src/report/markdown.js';
import { readResultsFile } from '../../src/results/read.js';
import { tempDir } from '../helpers/fixture.js';
import { validResults } from '../helpers/results.js';

describe('the end-to-end figure of GPU workers, beside the gated one', () => {
  const gpu = validResults(
    [
      [1, 1.1, 1.2],
      [1.05, 1.15, 1.25],
    ],
    [
      [10, 11, 12],
      [13, 14, 30],
    ],
  );

  it('is summarized per cell from every ok run (median, p95, passes) and never replaces the gated figure', () => {
    const cell = gpu.cells[0]!;
    expect(cell.endToEnd).toEqual({ medianMs: 12.5, p95Ms: expect.closeTo(26, 6) as number, passes: 6 });
    expect(cell.stats?.latencyMs.median).toBeCloseTo(1.125, 9);
    expect(cell.repetitionLatenciesMs.flat()).not.toContain(30);
  });

  it('appears as e2e columns in report.md and summary.csv only where a worker reported it', () => {
    const report = renderMarkdown(gpu);
    expect(report).toContain('| e2e_median_ms | e2e_p95_ms |');
    expect(report).toMatch(/\| 12\.5 +\| 2\d\.?\d* +\|/);
    expect(renderMarkdown(validResults())).not.toContain('e2e_median_ms');
    const [header, row] = renderSummaryCsv(gpu).trim().split('\n');
    const at = (name: (typeof SUMMARY_COLUMNS)[number]): string => row!.split(',')[header!.split(',').indexOf(name)]!;
    expect(at('e2e_median_ms')).toBe('12.5');
    expect(at('lat_median_ms')).toBe('1.125');
    const cpu = renderSummaryCsv(validResults()).trim().split('\n')[1]!.split(',');
    expect(cpu[header!.split(',').indexOf('e2e_median_ms')]).toBe('');
  });

  it('round-trips through results.json, and a results.json written before it existed reads as null', () => {
    const dir = tempDir();
    const file = path.join(dir, 'results.json');
    writeFileSync(file, JSON.stringify(gpu));
    expect(readResultsFile(file, 'baseline').cells[0]!.endToEnd?.passes).toBe(6);
    const older = structuredClone(validResults()) as unknown as { cells: Record<string, unknown>[] };
    delete older.cells[0]!.endToEnd;
    writeFileSync(file, JSON.stringify(older));
    expect(readResultsFile(file, 'baseline').cells[0]!.endToEnd).toBeNull();
  });
});
