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
          batch: z.number(),
          seqLen: z.number(),
          realTokens: z.number(),
          status: z.enum(['ok', 'unavailable', 'degraded']),
          runs: z.number(),
          degradedRuns: z.number(),
          degradedRate: z.number(),
          repetitionLatenciesMs: z.array(z.array(z.number().nonnegative())),
          fingerprint: fingerprintSchema,
        })
        .loose(),
    ),
    accuracy: z
      .object({
        rows: z.array(
          z
            .object({
              backend: z.string(),
              precision: z.enum(['fp32', 'fp16', 'int8']),
              perplexity: z.number().nullable(),
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
  const parsed = comparableResultsSchema.safeParse(data);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const at = issue ? formatKeyPath(issue.path) : '(top level)';
    throw new UsageError(`${what}: not a tr118 results.json: ${at}: ${issue?.message ?? 'invalid'}`);
  }
  return parsed.data;
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
