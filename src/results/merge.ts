/**
 * A matrix split across runners (one job per runner kind) comes back as several results.json files, one per part.
 * `mode: merge` reads them and gives one verdict: the worst part's decision, with every deciding reason labelled by
 * its part, so the PR still gets one comment and one `tr118` status. Pure apart from reading the files.
 */
import path from 'node:path';
import { UsageError } from '../errors.js';
import { worstDecision, type Decision, type GateReason } from '../gate/verdict.js';
import { readResultsFile } from './read.js';
import type { Results } from './schema.js';

export interface Part {
  /** The folder that held its results.json (the job's `out`), e.g. tr118-gpu. */
  readonly name: string;
  readonly file: string;
  readonly results: Results;
}

export interface MergedVerdict {
  readonly decision: Decision;
  readonly basis: string;
  readonly reasons: readonly (GateReason & { readonly part: string })[];
  /** Latency cells that failed, over all parts. */
  readonly regressions: number;
}

/**
 * Reads each part, validated in full like any results.json (a part another version wrote is refused with a usage
 * error naming the file, before anything renders it); names come from the parent folder, made unique.
 */
export function readParts(files: readonly string[]): Part[] {
  if (files.length === 0) throw new UsageError('input results: no results.json matched (mode: merge needs the parts)');
  const seen = new Map<string, number>();
  return files.map((file) => {
    const results = readResultsFile(file, `part ${file}`);
    const base = path.basename(path.dirname(path.resolve(file)));
    const count = (seen.get(base) ?? 0) + 1;
    seen.set(base, count);
    return { name: count === 1 ? base : `${base}-${count}`, file, results };
  });
}

/** Latency cells whose comparison failed (the Action's `regressions` output). */
export function regressionCount(results: Pick<Results, 'comparison'>): number {
  return results.comparison?.cells.filter((c) => c.decision === 'fail').length ?? 0;
}

export function mergeVerdicts(parts: readonly Part[]): MergedVerdict {
  const decision = worstDecision(parts.map((p) => p.results.verdict.decision));
  const counts = new Map<Decision, number>();
  for (const p of parts) counts.set(p.results.verdict.decision, (counts.get(p.results.verdict.decision) ?? 0) + 1);
  const tally = (['fail', 'inconclusive', 'warn', 'pass'] as const)
    .filter((d) => counts.has(d))
    .map((d) => `${counts.get(d)} ${d}`)
    .join(', ');
  return {
    decision,
    basis: `${parts.length} parts of a split matrix (${tally}); the worst part decides`,
    reasons: parts.flatMap((p) => p.results.verdict.reasons.map((r) => ({ ...r, part: p.name }))),
    regressions: parts.reduce((n, p) => n + regressionCount(p.results), 0),
  };
}
