/**
 * Reading a results.json back as a baseline: validated at the boundary (a baseline may be truncated, hand-edited,
 * or written by another version), with errors that name the file and what is wrong.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { formatKeyPath } from '../config/load.js';
import type { Precision } from '../config/schema.js';
import { UsageError } from '../errors.js';
import type { CellFingerprint } from '../gate/fingerprint.js';
import { RESULTS_SCHEMA_VERSION } from './build.js';

/*
 * Figures a measurement cannot produce are refused here, before a comparison turns them into Infinity% or NaN:
 * a latency is a finite time > 0 ms, a perplexity is exp(mean NLL) ≥ 1, counts are whole numbers.
 * (JSON has no NaN or Infinity, but 1e999 parses as Infinity: z.number() refuses non-finite numbers.)
 */
const latencyMs = z.number({ error: 'expected a finite latency in ms' }).gt(0, { error: 'expected a latency > 0 ms' });
const count = z
  .number({ error: 'expected a whole number' })
  .int({ error: 'expected a whole number' })
  .min(0, { error: 'expected a count ≥ 0' });
const positiveCount = count.min(1, { error: 'expected a whole number ≥ 1' });
const rate = z
  .number({ error: 'expected a finite fraction' })
  .min(0, { error: 'expected a fraction from 0 to 1' })
  .max(1, { error: 'expected a fraction from 0 to 1' });
const perplexity = z
  .number({ error: 'expected a finite perplexity' })
  .min(1, { error: 'expected a perplexity ≥ 1 (the exponential of a mean negative log-likelihood)' });

const fingerprintSchema = z
  .object({
    hash: z.string(),
    cpuModel: z.string(),
    cpuCount: z.number(),
    gpus: z.string(),
    gpuDriver: z.string(),
    nodeVersion: z.string(),
    onnxruntimeVersion: z.string(),
    engine: z.string(),
    provider: z.string(),
    precision: z.string(),
    intraOpThreads: z.number(),
    interOpThreads: z.number(),
    graphOptimization: z.string(),
    batch: z.number(),
    seqLen: z.number(),
    warmup: z.number(),
    iterations: z.number(),
    timing: z.enum(['plain', 'paired']),
  })
  .loose();

/** The parts of a result that a comparison reads; results.json holds more, which is kept but not checked. */
export const comparableResultsSchema = z
  .object({
    schemaVersion: z.literal(RESULTS_SCHEMA_VERSION),
    startedAt: z.string(),
    model: z.object({ name: z.string(), sha256: z.string() }).loose(),
    cells: z.array(
      z
        .object({
          backend: z.string(),
          scenario: z.string(),
          batch: positiveCount,
          seqLen: positiveCount,
          realTokens: positiveCount,
          status: z.enum(['ok', 'unavailable', 'degraded']),
          runs: count,
          degradedRuns: count,
          degradedRate: rate,
          repetitionLatenciesMs: z.array(z.array(latencyMs)),
          fingerprint: fingerprintSchema,
        })
        .loose()
        .refine((c) => c.degradedRuns <= c.runs, {
          error: 'expected degradedRuns ≤ runs',
          path: ['degradedRuns'],
        }),
    ),
    accuracy: z
      .object({
        rows: z.array(
          z
            .object({
              backend: z.string(),
              precision: z.enum(['fp32', 'fp16', 'int8']),
              perplexity: perplexity.nullable(),
            })
            .loose(),
        ),
      })
      .loose()
      .nullable(),
  })
  .loose();

/** What a comparison needs of a result: a fresh Results satisfies it, and so does a validated results.json. */
export interface ComparableResults {
  readonly schemaVersion: number;
  readonly startedAt: string;
  readonly model: { readonly name: string; readonly sha256: string };
  readonly cells: readonly {
    readonly backend: string;
    readonly scenario: string;
    readonly batch: number;
    readonly seqLen: number;
    readonly realTokens: number;
    readonly status: 'ok' | 'unavailable' | 'degraded';
    readonly runs: number;
    readonly degradedRuns: number;
    readonly degradedRate: number;
    readonly repetitionLatenciesMs: readonly (readonly number[])[];
    readonly fingerprint: CellFingerprint;
  }[];
  readonly accuracy: {
    readonly rows: readonly {
      readonly backend: string;
      readonly precision: Precision;
      readonly perplexity: number | null;
    }[];
  } | null;
}

/** Validates parsed JSON as a comparable result; `what` names it in errors ("baseline /path/x.json"). */
export function parseComparableResults(data: unknown, what: string): ComparableResults {
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    throw new UsageError(`${what}: not a tr118 results.json: expected a JSON object`);
  }
  const version = (data as { schemaVersion?: unknown }).schemaVersion;
  if (version !== RESULTS_SCHEMA_VERSION) {
    throw new UsageError(
      `${what}: unknown results schema version ${JSON.stringify(version ?? null)}; this tr118 reads version ${RESULTS_SCHEMA_VERSION} (re-measure the baseline with this version)`,
    );
  }
  const parsed = comparableResultsSchema.safeParse(data, { reportInput: true });
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const at = issue ? formatKeyPath(issue.path) : '(top level)';
    // A number out of range (or not finite, or not whole) is a figure no measurement produces; a wrong type or a
    // missing key, another kind of file.
    const impossible = issue !== undefined && (issue.code === 'custom' || typeof issue.input === 'number');
    const got = issue && 'input' in issue ? gotValue(issue.input) : '';
    throw new UsageError(
      `${what}: ${impossible ? 'impossible figure' : 'not a tr118 results.json'}: ${at}: ${issue?.message ?? 'invalid'}${got}`,
    );
  }
  return parsed.data;
}

/** "; got X" for a scalar value (a whole object or list would say nothing useful). */
function gotValue(value: unknown): string {
  if (value === undefined) return '; got nothing';
  if (typeof value === 'number') return `; got ${String(value)}`;
  if (typeof value === 'string' || typeof value === 'boolean' || value === null)
    return `; got ${JSON.stringify(value)}`;
  return '';
}

export function readResultsFile(file: string, what = `baseline ${file}`): ComparableResults {
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
  return parseComparableResults(data, what);
}
