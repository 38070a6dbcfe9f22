/**
 * results.json: one schema, from which the types of a run's results are derived, and which every reader of a
 * results.json (a baseline, `tr118 compare`, a part of a split matrix, `baseline save`) validates in full. The parts
 * another module owns (statistics, the accuracy gate, the comparison, the verdict, the machine) are that module's
 * schemas. Figures a measurement cannot produce are refused here, before a comparison turns them into Infinity% or
 * NaN: a latency is a finite time > 0 ms, a perplexity is exp(mean NLL) ≥ 1, counts are whole numbers. (JSON has no
 * NaN or Infinity, but 1e999 parses as Infinity: z.number() refuses non-finite numbers.)
 */
import { z } from 'zod';
import { sessionInfoSchema } from '../backends/protocol.js';
import { configSchema } from '../config/schema.js';
import type { DeepReadonly } from '../deep-readonly.js';
import { artifactResultsShape, backendSpecSchema } from '../engines/registry.js';
import { environmentSchema, gitStateSchema } from '../env/collect.js';
import { accuracyGateSchema, accuracyRowSchema } from '../gate/accuracy-gate.js';
import { comparisonSchema } from '../gate/compare.js';
import { cellFingerprintSchema } from '../gate/fingerprint.js';
import { verdictSchema } from '../gate/verdict.js';
import { PHASES, type Phase } from '../measure/phases.js';
import { STOP_REASONS } from '../measure/records.js';
import { cellStatsSchema, geomeanSummarySchema } from '../stats/summary.js';

export const RESULTS_SCHEMA_VERSION = 1;

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

const backendStatus = z.enum(['ok', 'unavailable', 'degraded']);

const fileSchema = z.object({ path: z.string(), sha256: z.string(), bytes: count });

export const modelInfoSchema = z.object({ name: z.string(), ...fileSchema.shape });
export type ModelInfo = DeepReadonly<z.infer<typeof modelInfoSchema>>;

/**
 * Sequential stopping (same-run A/B): when and why the cell stopped repeating, with the confidence sequence's figures
 * at the stop (measure/records.ts StopRecord). Absent in fixed runs and in results made before it existed.
 */
export const sequentialStopSchema = z.object({
  method: z.string(),
  repetitions: count,
  why: z.enum(STOP_REASONS),
  decision: z.enum(['pass', 'improvement', 'warn', 'fail']).nullable(),
  ratio: z.number().nullable(),
  ratioCi: z.tuple([z.number(), z.number()]).nullable(),
  achievableFraction: z.number().nullable(),
  budgetSeconds: z.number().nullable(),
  reason: z.string(),
});
export type SequentialStop = DeepReadonly<z.infer<typeof sequentialStopSchema>>;

export const cellResultSchema = z
  .object({
    backend: z.string(),
    scenario: z.string(),
    batch: positiveCount,
    seqLen: positiveCount,
    realTokens: positiveCount,
    status: backendStatus,
    runs: count,
    degradedRuns: count,
    degradedRate: rate,
    firstReason: z.string().nullable(),
    stats: cellStatsSchema.nullable(),
    /** Every timed pass of every ok run, per repetition: what a later comparison resamples. */
    repetitionLatenciesMs: z.array(z.array(latencyMs)),
    /**
     * GPU workers' end-to-end passes (host inputs in, host logits out), all ok runs pooled: reported beside the
     * gated device-side figure, never gated. null where the backend's timer is already end to end.
     */
    endToEnd: z.object({ medianMs: latencyMs, p95Ms: latencyMs, passes: positiveCount }).nullable().default(null),
    fingerprint: cellFingerprintSchema,
    sequential: sequentialStopSchema.nullable().default(null),
  })
  .refine((c) => c.degradedRuns <= c.runs, { error: 'expected degradedRuns ≤ runs', path: ['degradedRuns'] });
export type CellResult = DeepReadonly<z.infer<typeof cellResultSchema>>;

export const backendResultSchema = z.object({
  spec: backendSpecSchema,
  status: backendStatus,
  reason: z.string().nullable(),
  session: sessionInfoSchema.nullable(),
  runs: count,
  okRuns: count,
  degradedRate: rate.nullable(),
  /** Geometric mean across scenarios of per-cell medians. */
  geomean: geomeanSummarySchema.nullable(),
});
export type BackendResult = DeepReadonly<z.infer<typeof backendResultSchema>>;

export const TOKENIZERS = ['ids', 'bytes', 'tokenizer.json'] as const;

export const accuracyResultSchema = accuracyGateSchema.extend({
  rows: z.array(accuracyRowSchema.extend({ perplexity: perplexity.nullable() })),
  windowTokens: positiveCount,
  strideTokens: positiveCount,
  evaluatedTokens: count,
  /**
   * hash.ts tokensSha256 of the ids scored, and the vocabulary of the model that scored them: with the window, the
   * stride and the count, what makes two perplexities comparable. Absent in results made before they were recorded.
   */
  evaluatedTokensSha256: z.string().optional(),
  vocabSize: positiveCount.nullable().optional(),
  /** Where the evaluation tokens came from, and how they were made. */
  tokensFrom: z.string(),
  tokenizer: z.enum(TOKENIZERS),
  parityProbe: z.object({ batch: positiveCount, seqLen: positiveCount }).nullable(),
});
export type AccuracyResult = DeepReadonly<z.infer<typeof accuracyResultSchema>>;

const seconds = z.number({ error: 'expected a finite number of seconds' }).min(0, { error: 'expected seconds ≥ 0' });

/**
 * Where the run's seconds went (measure/phases.ts), summing to durationSeconds: one monotonic clock, each moment
 * charged to the one phase the run was in. inputs: model files hashed, tokens, the stored baseline; export: model.hf to
 * ONNX (or its cache hit); engineBuild: what engine families make before the matrix (TensorRT engines); workerStart:
 * starting the worker processes and what their open did beyond the session (imports, the placement profile pass);
 * sessionOpen and compile: the workers' own figures for their open (compile: torch.compile's first call, apart, and
 * a compiled model's warm-up passes that compiled a new shape's graph); warmUp: the rest of every run request, untimed
 * warm-up passes and the request's round trip; timedPasses: the sum of
 * every gated pass by the worker's timer; endToEndPasses: likewise the end-to-end passes (end_to_end_passes);
 * perplexity, parity: scoring and the parity probe; environment: git, nvidia-smi and the machine's description;
 * judging: statistics, bootstrap and verdict; writing: the writes before results.json is made (the output folder
 * claimed, every raw record appended) — the reports themselves are rendered and written after durationSeconds ends,
 * and after results.json is made, so no phase here can hold them; other: the rest (provisioning is not part of a run:
 * `tr118 provision` is its own command). Absent in results made before phases were recorded, and in a same-run base.
 */
export const phasesSchema = z.object(
  Object.fromEntries(PHASES.map((p) => [p, seconds])) as Record<Phase, typeof seconds>,
);

/** One run's results on one model: what results.json holds, and (without a base of its own) its same-run base. */
const runResultsShape = {
  schemaVersion: z.literal(RESULTS_SCHEMA_VERSION),
  tool: z.object({ name: z.literal('tr118'), version: z.string() }),
  startedAt: z.string(),
  finishedAt: z.string(),
  durationSeconds: z.number(),
  phases: phasesSchema.optional(),
  configSource: z.string(),
  config: configSchema,
  model: modelInfoSchema,
  /** Other ONNX files that some backends measure instead of model.onnx (their own `model`). */
  backendModels: z.array(fileSchema),
  method: z.object({
    timerCovers: z.string(),
    repetitions: positiveCount,
    warmup: count,
    iterations: positiveCount,
    timeoutSeconds: z.number(),
    seed: count,
    order: z.string(),
    /** How the repetitions were stopped: 'fixed', or the sequential method (absent in older results: fixed). */
    stopping: z.string().optional(),
  }),
  backends: z.array(backendResultSchema),
  cells: z.array(cellResultSchema),
  accuracy: accuracyResultSchema.nullable(),
  verdict: verdictSchema,
  /** The comparison with the baseline or the same-run base model; null without one. */
  comparison: comparisonSchema.nullable(),
  /** What the user should know about how this run was set up (warnings printed during the run). */
  notes: z.array(z.string()),
  /**
   * model.hf exported to ONNX for this run (model.export): the seed's "Export Overhead" table, and whether the
   * artifact cache had it. Absent when the config gave model.onnx (and in results made before exports existed).
   */
  export: z
    .object({
      checkpoint: z.string(),
      onnxPath: z.string(),
      /** Absent in results made before it was recorded. */
      onnxSha256: z.string().optional(),
      cache: z.enum(['hit', 'restored', 'built']),
      key: z.string(),
      exportMs: z.number().nonnegative(),
      bytes: z.int().nonnegative(),
      opset: z.int(),
      dynamic: z.boolean(),
      int32Inputs: z.boolean(),
      exporter: z.string(),
      versions: z.record(z.string(), z.string()),
      probeMaxAbsDiff: z.number().nonnegative().nullable(),
      corrupt: z.string().nullable(),
    })
    .optional(),
  /**
   * What the engine families built or found in the artifact cache before the matrix, under each family's key
   * (engines/registry.ts; tensorrt's engines: the seed's "TensorRT Build Overhead" table). Absent when nothing was
   * prepared (or nothing could be: those backends are unavailable or degraded with their reason).
   */
  ...artifactResultsShape,
  environment: environmentSchema,
  git: gitStateSchema.nullable(),
};

export const resultsSchema = z.object({
  ...runResultsShape,
  /** In same-run A/B, the base model's own results from this run (which has no base of its own). */
  sameRunBase: z.object({ ...runResultsShape, sameRunBase: z.null() }).nullable(),
});
export type Results = DeepReadonly<z.infer<typeof resultsSchema>>;

/** A run's results before they are judged: everything but the verdict and what it was compared with. */
export type MeasuredResults = Omit<Results, 'verdict' | 'comparison' | 'sameRunBase'>;
