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
 * What the parts of one split matrix share: the commit measured, the model, the evaluation tokens, the matrix
 * (repetitions and passes, and one shape per scenario name), and no cell (backend × scenario) measured twice. Parts
 * of two models, or another project's stored baseline taken for a part, would otherwise merge into one green
 * verdict about nothing.
 */
export const PART_IDENTITY = ['commit', 'model', 'tokens', 'matrix', 'cells'] as const;
export type PartIdentity = (typeof PART_IDENTITY)[number];

/**
 * Reads each part, validated in full like any results.json (a part another version wrote is refused with a usage
 * error naming the file, before anything renders it); names come from the parent folder, made unique. Parts that do
 * not belong together are refused (partDifferences) unless `allowed` names what may differ.
 */
export function readParts(
  files: readonly string[],
  options: { readonly allowed?: readonly PartIdentity[]; readonly allowedSaidAs?: string } = {},
): Part[] {
  if (files.length === 0) throw new UsageError('input results: no results.json matched (mode: merge needs the parts)');
  const seen = new Map<string, number>();
  const parts = files.map((file) => {
    const results = readResultsFile(file, `part ${file}`);
    const base = path.basename(path.dirname(path.resolve(file)));
    const count = (seen.get(base) ?? 0) + 1;
    seen.set(base, count);
    return { name: count === 1 ? base : `${base}-${count}`, file, results };
  });
  const differences = partDifferences(parts).filter((d) => !(options.allowed ?? []).includes(d.identity));
  if (differences.length > 0) {
    const kinds = [...new Set(differences.map((d) => d.identity))].join(',');
    throw new UsageError(
      `the parts do not belong to one split matrix: ${differences.map((d) => d.message).join('; ')}; ` +
        `expected parts of one run (one commit, model, evaluation and matrix, each cell once); to merge them anyway, ` +
        `${options.allowedSaidAs ?? 'allow'} ${kinds}`,
    );
  }
  return parts;
}

/** A comma-separated list of PART_IDENTITY names (an input's or a flag's value); `where` names it in the error. */
export function partIdentities(value: string | undefined, where: string): PartIdentity[] {
  const names = (value ?? '').split(/[\s,]+/).filter((n) => n !== '');
  const unknown = names.filter((n) => !(PART_IDENTITY as readonly string[]).includes(n));
  if (unknown.length > 0)
    throw new UsageError(`${where}: expected a list of ${PART_IDENTITY.join(', ')}; got ${JSON.stringify(unknown[0])}`);
  return names as PartIdentity[];
}

export interface PartDifference {
  readonly identity: PartIdentity;
  readonly message: string;
}

/** Every way the parts differ where one split matrix's parts cannot, each naming the parts. Pure. */
export function partDifferences(parts: readonly Part[]): PartDifference[] {
  const out: PartDifference[] = [];
  const identities: Record<Exclude<PartIdentity, 'cells'>, (r: Results) => string> = {
    commit: (r) => (r.git?.commit ? r.git.commit.slice(0, 12) : 'unknown (no git)'),
    model: (r) => `${r.model.name} (sha256 ${r.model.sha256.slice(0, 12)}…)`,
    tokens: (r) =>
      r.accuracy
        ? `${r.accuracy.evaluatedTokens} tokens (sha256 ${(r.accuracy.evaluatedTokensSha256 ?? 'unrecorded').slice(0, 12)}…)`
        : 'accuracy off',
    matrix: (r) => `${r.method.repetitions} repetitions × ${r.method.warmup} + ${r.method.iterations} passes`,
  };
  for (const [identity, of] of Object.entries(identities) as [
    Exclude<PartIdentity, 'cells'>,
    (r: Results) => string,
  ][]) {
    const byValue = new Map<string, string[]>();
    for (const p of parts) byValue.set(of(p.results), [...(byValue.get(of(p.results)) ?? []), p.name]);
    if (byValue.size > 1) {
      const said = [...byValue].map(([value, names]) => `${names.join(', ')}: ${value}`).join(' vs ');
      out.push({ identity, message: `${identity} differs (${said})` });
    }
  }
  // One scenario name, one shape: else "the same scenario" compares two different batches.
  const shapes = new Map<string, Map<string, string[]>>();
  for (const p of parts) {
    for (const c of p.results.cells) {
      const byShape = shapes.get(c.scenario) ?? new Map<string, string[]>();
      const shape = `${c.batch}×${c.seqLen}`;
      const names = byShape.get(shape) ?? [];
      if (!names.includes(p.name)) byShape.set(shape, [...names, p.name]);
      shapes.set(c.scenario, byShape);
    }
  }
  for (const [scenario, byShape] of shapes) {
    if (byShape.size > 1) {
      const said = [...byShape].map(([shape, names]) => `${names.join(', ')}: ${shape}`).join(' vs ');
      out.push({ identity: 'matrix', message: `scenario ${scenario} has two shapes (${said})` });
    }
  }
  const measuredBy = new Map<string, string[]>();
  for (const p of parts) {
    for (const cell of new Set(p.results.cells.map((c) => `${c.backend} × ${c.scenario}`)))
      measuredBy.set(cell, [...(measuredBy.get(cell) ?? []), p.name]);
  }
  const twice = [...measuredBy].filter(([, names]) => names.length > 1);
  if (twice.length > 0) {
    const [cell, names] = twice[0]!;
    const more = twice.length > 1 ? ` and ${twice.length - 1} more` : '';
    out.push({
      identity: 'cells',
      message: `cell ${cell} is measured by more than one part (${names.join(', ')})${more}`,
    });
  }
  return out;
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
