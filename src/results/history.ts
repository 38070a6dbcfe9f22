/**
 * A stored baseline's history: each time a branch's baseline is saved, one line with its median per cell is
 * appended to `<name>.history.jsonl` beside `<name>.json` in the store, so report.html can draw the branch over
 * time (as github-action-benchmark's chart page draws a benchmark over commits). The store itself keeps only the
 * newest result; the history keeps medians only (a line is a few hundred bytes per cell). Reading is forgiving: a
 * line that does not parse (a half-written line after a crash, another version's) is skipped and counted.
 */
import { appendFileSync, closeSync, existsSync, fstatSync, openSync, readFileSync, readSync } from 'node:fs';
import { median } from 'simple-statistics';
import { z } from 'zod';
import type { DeepReadonly } from '../deep-readonly.js';
import { intervalSchema } from '../stats/summary.js';
import type { Results } from './schema.js';

export const historyEntrySchema = z.object({
  startedAt: z.string(),
  commit: z.string().nullable(),
  modelSha256: z.string(),
  cells: z.array(
    z.object({
      backend: z.string(),
      scenario: z.string(),
      medianMs: z.number().positive(),
      medianCi95: intervalSchema.nullable(),
    }),
  ),
});
export type HistoryEntry = DeepReadonly<z.infer<typeof historyEntrySchema>>;

/** One history line of a result: the median (and its interval) of every cell that measured something. Pure. */
export function historyEntry(results: Results): HistoryEntry {
  return {
    startedAt: results.startedAt,
    commit: results.git?.commit ?? null,
    modelSha256: results.model.sha256,
    cells: results.cells
      .filter((c) => c.repetitionLatenciesMs.some((r) => r.length > 0))
      .map((c) => ({
        backend: c.backend,
        scenario: c.scenario,
        medianMs: c.stats?.latencyMs.median ?? median(c.repetitionLatenciesMs.flat()),
        medianCi95: c.stats?.latencyMs.medianCi95 ?? null,
      })),
  };
}

/** The history file that belongs to a stored baseline file (`main.json` → `main.history.jsonl`). */
export function historyFileOf(baselineFile: string): string {
  return `${baselineFile.replace(/\.json$/, '')}.history.jsonl`;
}

/**
 * One line, in one write (O_APPEND: two saves at once do not interleave within a line). A line a crash left without
 * its newline is ended first, so that it costs only itself and not the entry appended after it.
 */
export function appendHistory(baselineFile: string, results: Results): void {
  const file = historyFileOf(baselineFile);
  const line = `${JSON.stringify(historyEntry(results))}\n`;
  appendFileSync(file, endsMidLine(file) ? `\n${line}` : line);
}

/** Whether the file's last byte is not a newline (an empty or missing file: no). */
function endsMidLine(file: string): boolean {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch {
    return false;
  }
  try {
    const size = fstatSync(fd).size;
    if (size === 0) return false;
    const last = Buffer.alloc(1);
    readSync(fd, last, 0, 1, size - 1);
    return last[0] !== 0x0a;
  } finally {
    closeSync(fd);
  }
}

export interface History {
  readonly file: string;
  /** Oldest first. */
  readonly entries: readonly HistoryEntry[];
  /** Lines that could not be read (skipped). */
  readonly skipped: number;
}

/** The history beside a stored baseline file; null when there is none (or it cannot be read). */
export function readHistory(baselineFile: string): History | null {
  const file = historyFileOf(baselineFile);
  if (!existsSync(file)) return null;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return null;
  }
  const entries: HistoryEntry[] = [];
  let skipped = 0;
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    try {
      const parsed = historyEntrySchema.safeParse(JSON.parse(line));
      if (parsed.success) entries.push(parsed.data);
      else skipped++;
    } catch {
      skipped++;
    }
  }
  // The same result saved twice (baseline save run again) is one point in time.
  const unique = [...new Map(entries.map((e) => [`${e.startedAt}\u0000${e.modelSha256}`, e])).values()];
  unique.sort((a, b) => a.startedAt.localeCompare(b.startedAt));
  return { file, entries: unique, skipped };
}
