/**
 * Reading a results.json back (a baseline, either side of `tr118 compare`, a part of a split matrix): validated in
 * full at the boundary (a file may be truncated, hand-edited, or written by another version), with errors that name
 * the file and what is wrong.
 */
import { readFileSync } from 'node:fs';
import type { z } from 'zod';
import { toolVersion } from '../env/collect.js';
import { formatKeyPath, UsageError } from '../errors.js';
import { RESULTS_SCHEMA_VERSION, resultsSchema, type Results } from './schema.js';

/** Validates parsed JSON as a result; `what` names it in errors ("baseline /path/x.json"). */
export function parseResults(data: unknown, what: string): Results {
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    throw new UsageError(`${what}: not a tr118 results.json: expected a JSON object`);
  }
  const version = (data as { schemaVersion?: unknown }).schemaVersion;
  if (version !== RESULTS_SCHEMA_VERSION) {
    throw new UsageError(
      `${what}: unknown results schema version ${JSON.stringify(version ?? null)}; this tr118 reads version ${RESULTS_SCHEMA_VERSION} (re-measure it with this version)`,
    );
  }
  const parsed = resultsSchema.safeParse(data, { reportInput: true, error: plainMessage });
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const at = issue ? formatKeyPath(issue.path) : '(top level)';
    // A number out of range (or not finite, or not whole) is a figure no measurement produces; a wrong type or a
    // missing key, another kind of file.
    const impossible = issue !== undefined && (issue.code === 'custom' || typeof issue.input === 'number');
    const got = issue && 'input' in issue ? gotValue(issue.input) : '';
    const problem = `${at}: ${issue?.message ?? 'invalid'}${got}`;
    if (impossible) throw new UsageError(`${what}: impossible figure: ${problem}`);
    const other = otherVersion(data);
    // The same schema version may still differ in a field between tool versions: say why a file that version wrote
    // is refused here, rather than call it no results.json at all.
    throw new UsageError(
      other
        ? `${what}: written by tr118 ${other.theirs}, which this tr118 ${other.ours} cannot read: ${problem} (re-measure it with this version)`
        : `${what}: not a tr118 results.json: ${problem}`,
    );
  }
  return parsed.data;
}

/** Zod's own words for a wrong type or value, without what it got (the message adds "; got X" itself). */
function plainMessage(issue: z.core.$ZodRawIssue): string | undefined {
  if (issue.code === 'invalid_type') {
    const what = issue.expected === 'array' ? 'list' : issue.expected;
    return `expected ${/^[aeiou]/.test(what) ? 'an' : 'a'} ${what}`;
  }
  if (issue.code === 'invalid_value') return `expected ${issue.values.map((v) => JSON.stringify(v)).join(' or ')}`;
  return undefined;
}

/** The tool version that wrote `data`, when it names one and it is not this one. */
function otherVersion(data: object): { readonly theirs: string; readonly ours: string } | undefined {
  const tool = (data as { tool?: unknown }).tool;
  const theirs = typeof tool === 'object' && tool !== null ? (tool as { version?: unknown }).version : undefined;
  const ours = toolVersion();
  return typeof theirs === 'string' && theirs !== ours ? { theirs, ours } : undefined;
}

/** "; got X" for a scalar value (a whole object or list would say nothing useful). */
function gotValue(value: unknown): string {
  if (value === undefined) return '; got nothing';
  if (typeof value === 'number') return `; got ${String(value)}`;
  if (typeof value === 'string' || typeof value === 'boolean' || value === null)
    return `; got ${JSON.stringify(value)}`;
  return '';
}

export function readResultsFile(file: string, what = `baseline ${file}`): Results {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new UsageError(`${what}: cannot read: ${code === 'ENOENT' ? 'no such file' : String(code)}`);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`${what}: not valid JSON (truncated or corrupted?): ${(error as Error).message}`);
  }
  return parseResults(data, what);
}
