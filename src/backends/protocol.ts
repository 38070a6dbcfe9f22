/**
 * The protocol between the runner and a backend worker process. One request at a time; every reply names the
 * request it answers. Validated on arrival (a worker is a boundary: it may crash, hang or be a different version).
 * Every worker (the ONNX Runtime worker in Node, the native/ Python workers) speaks these messages in the frames of
 * framing.ts: a JSON header line, and for logits a binary float32 payload after it. native/README.md documents the
 * same messages for the Python side.
 */
import { z } from 'zod';
import { encodeFrame, float32FromPayload, float32Payload, type Frame } from './framing.js';
import {
  COMPILE_MODES,
  ENGINES,
  GRAPH_OPTIMIZATION_LEVELS,
  ORT_PROVIDERS,
  ORT_WORKERS,
  PRECISIONS,
  TORCH_DEVICES,
} from '../config/schema.js';

export const PROTOCOL_VERSION = 1;

/**
 * One backend as the runner resolved it from the config, and as the worker receives it in `open`: the only
 * definition of a backend's settings (BackendSpec is derived from it).
 */
export const backendSpecSchema = z.object({
  name: z.string(),
  engine: z.enum(ENGINES),
  /** onnxruntime only. */
  provider: z.enum(ORT_PROVIDERS).optional(),
  /** onnxruntime only: the process that runs ONNX Runtime (config/schema.ts ORT_WORKERS). */
  worker: z.enum(ORT_WORKERS).optional(),
  /** Picks the accuracy threshold; for pytorch, the dtype the checkpoint is loaded in. */
  precision: z.enum(PRECISIONS),
  deviceId: z.int().min(0),
  /** 0 = the runtime's default (ONNX Runtime: one per physical core; torch: its own). */
  intraOpThreads: z.int().min(0),
  interOpThreads: z.int().min(0),
  graphOptimization: z.enum(GRAPH_OPTIMIZATION_LEVELS),
  /** The ONNX file this backend measures: model.onnx, or the backend's own `model`. */
  modelPath: z.string(),
  /** The output of that file which holds the logits [batch, seq, vocab] (model.logits_output). */
  logitsOutput: z.string().min(1),
  /** pytorch only: where the checkpoint runs. */
  device: z.enum(TORCH_DEVICES).optional(),
  /** pytorch only: torch.compile's mode, or off. */
  compile: z.enum(COMPILE_MODES).optional(),
  /** pytorch only: the Hugging Face checkpoint folder (model.hf, or the backend's own `model`). */
  checkpointPath: z.string().optional(),
  /** pytorch only: pickled *.bin weights may be loaded (model.trust_pickle). */
  trustPickle: z.boolean().optional(),
});
export type BackendSpec = Readonly<z.infer<typeof backendSpecSchema>>;

const tokenIds = z.array(z.int().min(0));

/** [batch, sequence] of one input. */
const inputShape = z.tuple([z.int().min(1), z.int().min(1)]);
/** A TensorRT optimization profile for one input: every shape the engine is given lies between min and max. */
export const optimizationProfileSchema = z.object({ min: inputShape, opt: inputShape, max: inputShape });
export type OptimizationProfile = z.infer<typeof optimizationProfileSchema>;

/** The precisions a TensorRT engine is built at (tensorrt-fp32, -fp16, -int8). */
export const TENSORRT_PRECISIONS = ['fp32', 'fp16', 'int8'] as const;

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
  /**
   * Export a Hugging Face checkpoint to ONNX (no `open` before it): model.onnx (and model.onnx.data past 2 GiB of
   * weights) written into outPath, checked with onnx.checker, and its ONNX Runtime (CPU) logits compared with
   * PyTorch's on the probe batch.
   */
  z.object({
    type: z.literal('export'),
    id: z.int(),
    checkpointPath: z.string(),
    /** A folder the caller owns (the artifact store's temporary folder); created if missing. */
    outPath: z.string(),
    opset: z.int().min(7),
    /** Dynamic batch and sequence axes; false fixes them at the probe's shape. */
    dynamic: z.boolean(),
    /** int32 input_ids and attention_mask (cast to int64 inside the graph) instead of int64. */
    int32Inputs: z.boolean(),
    trustPickle: z.boolean(),
    /** Largest |ONNX Runtime − PyTorch| logit allowed on the probe; the worker's default is 1e-4 (fp32, CPU). */
    toleranceAbs: z.number().nonnegative().optional(),
    probe: z.object({ batch: z.int().min(1), seqLen: z.int().min(1), inputIds: tokenIds }),
  }),
  /**
   * What a TensorRT engine key needs before anything is built (no `open` before it): the worker Python's TensorRT
   * version and the compute capability of GPU deviceId. An `unavailable` error when either is missing.
   */
  z.object({ type: z.literal('probe'), id: z.int(), engine: z.literal('tensorrt'), deviceId: z.int().min(0) }),
  /** Build a serialized TensorRT engine from an ONNX file with one optimization profile (no `open` before it). */
  z.object({
    type: z.literal('build'),
    id: z.int(),
    onnxPath: z.string(),
    /** The engine file to write (in the artifact store's temporary folder); an int8 calibration cache beside it. */
    outPath: z.string(),
    precision: z.enum(TENSORRT_PRECISIONS),
    /**
     * How the precision is reached (artifacts/tensorrt-engine.ts precisionPath): decided by the runner, as part of
     * the engine key; the worker refuses a path its TensorRT cannot take.
     */
    precisionPath: z.string().min(1),
    /** Per input name (input_ids, attention_mask). */
    profiles: z.record(z.string(), optimizationProfileSchema),
    /** The GPU the engine is built on (and tuned for): the backend's device_id. */
    deviceId: z.int().min(0),
    /** Builder settings, part of the engine key. */
    builder: z.object({
      workspaceBytes: z.int().positive(),
      /** int8 on TensorRT 10: how many opt-shaped batches of calibrationTokens the calibrator reads. */
      calibrationBatches: z.int().min(1).optional(),
    }),
    /** int8 on TensorRT 10: the evaluation tokens the entropy calibrator reads. */
    calibrationTokens: tokenIds.optional(),
  }),
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
  /** What one latency sample covers, in words, when the worker says (every report states it per backend). */
  timerCovers: z.string().optional(),
  /** GPU workers: what the end-to-end samples cover (host inputs in, logits out to the host). */
  endToEndTimerCovers: z.string().optional(),
  /** torch.compile: the first compiled call (compilation included), measured at open, apart from any timed pass. */
  compileMs: z.number().nonnegative().optional(),
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
  z.object({
    type: z.literal('exported'),
    id: z.int(),
    /** In outPath: model.onnx, then model.onnx.data when the weights went to external data. */
    files: z.array(z.object({ name: z.string().min(1), bytes: z.int().min(0) })).min(1),
    externalData: z.boolean(),
    /** Loading the checkpoint, the exporter call, onnx.checker, the probe (ONNX Runtime session + both passes). */
    loadMs: z.number().nonnegative(),
    exportMs: z.number().nonnegative(),
    checkMs: z.number().nonnegative(),
    probeMs: z.number().nonnegative(),
    opset: z.int(),
    /** The one exporter used, on purpose: torch.onnx.export(dynamo=False). */
    exporter: z.literal('torchscript'),
    versions: z.object({
      torch: z.string(),
      transformers: z.string(),
      onnx: z.string(),
      onnxruntime: z.string(),
      python: z.string(),
    }),
    probeMaxAbsDiff: z.number().nonnegative(),
    /** probeMaxAbsDiff over the largest |PyTorch logit| of the probe. */
    probeMaxRelDiff: z.number().nonnegative(),
  }),
  z.object({
    type: z.literal('probed'),
    id: z.int(),
    tensorrtVersion: z.string().min(1),
    /** "9.0" for an H100/H200, from nvidia-smi: an engine runs only on the compute capability it was built on. */
    computeCapability: z.string().regex(/^\d+\.\d+$/),
    gpu: z.string(),
  }),
  z.object({
    type: z.literal('built'),
    id: z.int(),
    file: z.string(),
    bytes: z.int().positive(),
    buildMs: z.number().nonnegative(),
    tensorrtVersion: z.string(),
    /** "9.0" for an H100/H200: an engine runs only on the compute capability it was built on. */
    computeCapability: z.string().regex(/^\d+\.\d+$/),
    /** e.g. tensorrt10-builder-flag-fp16, tensorrt10-builder-flag-int8-entropy-calibrated, tensorrt11-strongly-typed-fp16. */
    precisionPath: z.string().min(1),
  }),
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
