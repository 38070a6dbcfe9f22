/**
 * The protocol between the runner and a backend worker process. One request at a time; every reply names the
 * request it answers. Validated on arrival (a worker is a boundary: it may crash, hang or be a different version).
 * The same messages travel as Node IPC (ONNX Runtime worker) or as JSON lines (native/ Python workers, later).
 */
import { z } from 'zod';
import { ENGINES, GRAPH_OPTIMIZATION_LEVELS, ORT_PROVIDERS, PRECISIONS } from '../config/schema.js';

export const PROTOCOL_VERSION = 1;

export const backendSpecSchema = z.object({
  name: z.string(),
  engine: z.enum(ENGINES),
  provider: z.enum(ORT_PROVIDERS).optional(),
  precision: z.enum(PRECISIONS),
  deviceId: z.int().min(0),
  intraOpThreads: z.int().min(0),
  interOpThreads: z.int().min(0),
  graphOptimization: z.enum(GRAPH_OPTIMIZATION_LEVELS),
  modelPath: z.string(),
  logitsOutput: z.string().min(1),
});

const tokenIds = z.array(z.int().min(0));

export const requestSchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('open'),
    id: z.int(),
    backend: backendSpecSchema,
    /** Same-run A/B: a second session on the base model, in this same process. */
    baseModelPath: z.string().optional(),
    /** Same-run A/B: open the base model's session first (the session opened first measures slightly slower). */
    baseFirst: z.boolean().optional(),
  }),
  z.object({
    type: z.literal('run'),
    id: z.int(),
    batch: z.int().min(1),
    seqLen: z.int().min(1),
    /** Row-major [batch, seqLen]. */
    inputIds: tokenIds,
    attentionMask: z.array(z.union([z.literal(0), z.literal(1)])),
    warmup: z.int().min(0),
    iterations: z.int().min(1),
    /** Same-run A/B: time base and candidate passes alternately (A B A B …), this side first. */
    paired: z.enum(['candidate-first', 'base-first']).optional(),
  }),
  z.object({
    type: z.literal('perplexity'),
    id: z.int(),
    tokens: tokenIds,
    windowTokens: z.int().min(2),
    strideTokens: z.int().min(1),
    /** Which session scores: the candidate (default) or, in same-run A/B, the base model. */
    model: z.enum(['candidate', 'base']).optional(),
  }),
  z.object({
    type: z.literal('logits'),
    id: z.int(),
    batch: z.int().min(1),
    seqLen: z.int().min(1),
    inputIds: tokenIds,
  }),
  z.object({ type: z.literal('close'), id: z.int() }),
]);
export type WorkerRequest = z.infer<typeof requestSchema>;

export const sessionInfoSchema = z.object({
  protocolVersion: z.literal(PROTOCOL_VERSION),
  runtime: z.string(),
  runtimeVersion: z.string(),
  /** What was asked of the runtime (providers in order), as recorded for the manifest. */
  providers: z.array(z.string()),
  inputNames: z.array(z.string()),
  outputNames: z.array(z.string()),
  /** From the logits output's (model.logits_output) last dimension when it is static. */
  vocabSize: z.int().positive().optional(),
  openMs: z.number().nonnegative(),
});
export type SessionInfo = z.infer<typeof sessionInfoSchema>;

export const replySchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('opened'), id: z.int(), info: sessionInfoSchema }),
  z.object({
    type: z.literal('ran'),
    id: z.int(),
    latenciesMs: z.array(z.number().nonnegative()),
    /** Same-run A/B: the base model's passes, interleaved with the candidate's. */
    baseLatenciesMs: z.array(z.number().nonnegative()).optional(),
    outputShape: z.array(z.int()),
  }),
  z.object({
    type: z.literal('perplexity'),
    id: z.int(),
    nllSum: z.number(),
    scoredTokens: z.int().min(0),
    windows: z.int().min(0),
    elapsedMs: z.number().nonnegative(),
    /** The worker process's peak resident set size so far. */
    peakRssMiB: z.number().nonnegative(),
  }),
  z.object({
    type: z.literal('logits'),
    id: z.int(),
    /** [batch, seqLen, vocab], row-major; IPC's advanced serialization carries the typed array as is. */
    logits: z.custom<Float32Array>((value) => value instanceof Float32Array, 'a Float32Array'),
    dims: z.array(z.int()),
  }),
  z.object({ type: z.literal('closed'), id: z.int() }),
  z.object({
    type: z.literal('error'),
    id: z.int(),
    /**
     * unavailable: cannot run here (missing provider library); degraded: ran, but not as asked; failed: error;
     * usage: the model does not fit the config (the user's mistake, exit 2), keyPath names the key to change.
     */
    kind: z.enum(['unavailable', 'degraded', 'failed', 'usage']),
    message: z.string(),
    keyPath: z.array(z.string()).optional(),
    /** An `open` that failed: which model's session could not be opened (in same-run A/B, the base is not the PR's). */
    model: z.enum(['candidate', 'base']).optional(),
  }),
]);
export type WorkerReply = z.infer<typeof replySchema>;
