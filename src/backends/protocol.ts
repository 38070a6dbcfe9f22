/**
 * The protocol between the runner and a backend worker process. One request at a time; every reply names the
 * request it answers. Validated on arrival (a worker is a boundary: it may crash, hang or be a different version).
 * Every worker (the ONNX Runtime worker in Node, the native/ Python worker) speaks these messages in the frames of
 * framing.ts: a JSON header line, and for logits a binary float32 payload after it. native/README.md documents the
 * same messages for the Python side.
 *
 * Two kinds of exchange: a session (open, then run / perplexity / logits, in same-run A/B reopen, then close) with a
 * worker that holds one model, the messages below; and one-shot jobs that need no open model (an export, a TensorRT probe or build), whose
 * requests and replies their owners declare (model/onnx-export.ts, engines/tensorrt/jobs.ts) and one-shot.ts sends.
 */
import { z } from 'zod';
import { encodeFrame, float32FromPayload, float32Payload, type Frame } from './framing.js';

export const PROTOCOL_VERSION = 1;

/**
 * A backend's spec as the transport sees it: an engine family's spec (engines/<family>/, the one definition), which
 * the worker that runs it validates with that family's schema.
 */
export const workerSpecSchema = z.looseObject({ name: z.string(), engine: z.string() });
export type WorkerSpec = Readonly<z.infer<typeof workerSpecSchema>>;

const tokenIds = z.array(z.int().min(0));

export const requestSchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('open'),
    id: z.int(),
    backend: workerSpecSchema,
    /** Same-run A/B: a second session on the base model, in this same process. */
    baseModelPath: z.string().optional(),
    /** Same-run A/B: open the base model's session first (the session opened first measures slightly slower). */
    baseFirst: z.boolean().optional(),
    /**
     * torch.compile's caches (engines/pytorch/compile-cache.ts): `load`, a file of
     * torch.compiler.save_cache_artifacts() bytes to load before compiling; `save`, where to write them after the
     * first compile when nothing was loaded. Absent: the worker compiles as it always did.
     */
    compileCache: z.object({ load: z.string().optional(), save: z.string().optional() }).optional(),
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
    /**
     * GPU workers: end-to-end passes (host ids in, logits out to the host) after the timed ones, reported, never
     * gated (config end_to_end_passes); 0: none. Absent: as many as `iterations`.
     */
    endToEndPasses: z.int().min(0).optional(),
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
  /**
   * Same-run A/B: release both sessions and open them again in this process, in the order asked (the side opened
   * first alternates to cancel an allocation-order bias: measure/pairing.ts), without a new process and its imports.
   * The spec and base model are the `open`'s; the reply is `opened`, as for `open`. A worker that answers an error
   * (or an older one that does not know this request) is restarted and sent `open` instead.
   */
  z.object({
    type: z.literal('reopen'),
    id: z.int(),
    baseFirst: z.boolean(),
    /** As in `open`: the torch.compile cache entry to load and where to save (the process's caches carry over). */
    compileCache: z.object({ load: z.string().optional(), save: z.string().optional() }).optional(),
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
  /**
   * Where the open's time went, by step, when the worker says (pytorch: `cacheLoad` torch.compile's cache entry,
   * `load` reading the checkpoints, `toDevice` moving them to the device, `compileSetup` torch.compile() before its
   * first call, `compile` the first calls; both models of a same-run pair summed). For finding time, not gated.
   */
  openStepsMs: z.record(z.string(), z.number().nonnegative()).optional(),
  /**
   * What the worker prepared before its first request, by step, ms (pytorch: `torch`, `modelCode`, `compile`,
   * `cuda`: worker/__main__.py preload): part of its start, not of the open. For finding time, not gated.
   */
  preloadMs: z.record(z.string(), z.number().nonnegative()).optional(),
  /** What one latency sample covers, in words, when the worker says (every report states it per backend). */
  timerCovers: z.string().optional(),
  /** GPU workers: what the end-to-end samples cover (host inputs in, logits out to the host). */
  endToEndTimerCovers: z.string().optional(),
  /** torch.compile: the first compiled call (compilation included), measured at open, apart from any timed pass. */
  compileMs: z.number().nonnegative().optional(),
  /**
   * torch.compile: how its graphs are shaped. `dynamic-sequence`: the probe's graph is dynamic in sequence length
   * (a batch of 1), and the first larger batch compiles one graph dynamic in both (worker/torch_engine.py
   * COMPILE_SHAPES). It changes the figures, so it is part of the comparability fingerprint.
   */
  compileShapes: z.string().optional(),
  /**
   * torch.compile's cache at this open: hit (artifacts loaded before compiling), miss (none: compiled, and saved when
   * asked), corrupt (the entry could not be loaded: compiled anew). What is measured is the same either way.
   */
  compileCache: z.enum(['hit', 'miss', 'corrupt']).optional(),
  /** Why a compile cache entry was not used, in words (a save happens at close, after the session's info is out). */
  compileCacheNote: z.string().optional(),
  /**
   * torch's own lookups while compiling at open (Inductor's FX graph cache, AOTAutograd's cache): whether a loaded
   * entry held the graphs this compile needed. `compileCache: hit` says an entry was loaded; a hit whose graphs all
   * missed compiled everything anew, and the report says so.
   */
  compileCacheLookups: z
    .object({
      inductorHits: z.int().nonnegative(),
      inductorMisses: z.int().nonnegative(),
      aotAutogradHits: z.int().nonnegative(),
      aotAutogradMisses: z.int().nonnegative(),
    })
    .optional(),
  /**
   * ONNX Runtime: where the graph's nodes ran, read from the runtime's profile of one pass made at open (profiling
   * is then turned off, so no timed pass is profiled). Provider names as ONNX Runtime writes them
   * (CPUExecutionProvider, CUDAExecutionProvider, …); gate/placement.ts judges it.
   */
  placement: z
    .object({
      nodes: z.array(z.object({ provider: z.string(), opType: z.string(), count: z.int().min(1) })),
    })
    .optional(),
  /** The worker's interpreter and library versions (Python, torch, transformers, CUDA, GPU), for the report. */
  environment: z.record(z.string(), z.string()).optional(),
});
export type SessionInfo = z.infer<typeof sessionInfoSchema>;

/** Any request's failure: session requests and one-shot jobs alike. */
export const errorReplySchema = z.object({
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
});
export type ErrorReply = z.infer<typeof errorReplySchema>;

export const replySchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('opened'), id: z.int(), info: sessionInfoSchema }),
  z.object({
    type: z.literal('ran'),
    id: z.int(),
    latenciesMs: z.array(z.number().nonnegative()),
    /** Same-run A/B: the base model's passes, interleaved with the candidate's. */
    baseLatenciesMs: z.array(z.number().nonnegative()).optional(),
    /** GPU workers: as many end-to-end passes (host in, host out), reported beside the device-side ones. */
    endToEndLatenciesMs: z.array(z.number().nonnegative()).optional(),
    baseEndToEndLatenciesMs: z.array(z.number().nonnegative()).optional(),
    /**
     * A compiled model: host ms of the untimed warm-up passes that compiled a graph (its first pass of a new shape;
     * both models' in same-run A/B). Absent when none did. Charged to the run's `compile` phase, not to warm-up.
     */
    compileMs: z.number().nonnegative().optional(),
    /**
     * A compiled model's graph count grew during the request's timed passes (`warmup: 0`, or a recompile): those
     * passes hold a compile. Dynamo's count is the process's, so in same-run A/B it stands for both models.
     */
    compiledInTimedPasses: z.literal(true).optional(),
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
    /** GPU workers: the peak device memory allocated so far. */
    peakDeviceMiB: z.number().nonnegative().optional(),
  }),
  z.object({
    type: z.literal('logits'),
    id: z.int(),
    /** [batch, seqLen, vocab]; the values follow the header as a payload of little-endian float32, row-major. */
    dims: z.array(z.int().min(0)),
    dtype: z.literal('float32'),
    payloadBytes: z.int().min(0),
  }),
  z.object({ type: z.literal('closed'), id: z.int() }),
  errorReplySchema,
]);
type ReplyHeader = z.infer<typeof replySchema>;
type LogitsHeader = Extract<ReplyHeader, { type: 'logits' }>;
/** A reply as the runner sees it: the logits header with its payload decoded. */
export type WorkerReply =
  | Exclude<ReplyHeader, LogitsHeader>
  | (Omit<LogitsHeader, 'dtype' | 'payloadBytes'> & { readonly logits: Float32Array });

export function encodeRequest(request: WorkerRequest): Buffer {
  return encodeFrame(request);
}

export function decodeRequest(frame: Frame): z.ZodSafeParseResult<WorkerRequest> {
  return requestSchema.safeParse(frame.header);
}

export function encodeReply(reply: WorkerReply): Buffer {
  if (reply.type !== 'logits') return encodeFrame(reply);
  const { logits, ...header } = reply;
  return encodeFrame({ ...header, dtype: 'float32' }, float32Payload(logits));
}

/** Validates a reply frame; a logits header must come with exactly the payload its dims announce. */
export function decodeReply(frame: Frame): { ok: true; reply: WorkerReply } | { ok: false; error: string } {
  const parsed = replySchema.safeParse(frame.header);
  if (!parsed.success) return { ok: false, error: z.prettifyError(parsed.error) };
  const header = parsed.data;
  if (header.type !== 'logits') return { ok: true, reply: header };
  const values = header.dims.reduce((n, d) => n * d, 1);
  if (!frame.payload || frame.payload.length !== values * 4) {
    return {
      ok: false,
      error: `logits ${header.dims.join('×')} need ${values * 4} payload bytes; got ${frame.payload?.length ?? 0}`,
    };
  }
  return {
    ok: true,
    reply: { type: 'logits', id: header.id, dims: header.dims, logits: float32FromPayload(frame.payload) },
  };
}
