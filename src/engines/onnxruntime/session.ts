/**
 * In-process ONNX Runtime work: open a session, build feeds, time forward passes, score perplexity windows.
 * The worker process calls these; so does the harness-overhead benchmark, which compares them with a bare loop.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import type * as ort from 'onnxruntime-node';
import { planWindows, windowNll } from '../../accuracy/perplexity.js';
import { logitsShapeProblem } from '../../backends/logits.js';
import type { OrtSpec } from './spec.js';
import { PROTOCOL_VERSION, type SessionInfo } from '../../backends/protocol.js';
import { executionProviders, sessionOptions } from './options.js';
import { placementFromProfile } from './profile.js';
import { loadOrt } from './runtime.js';

export interface OpenSession {
  readonly session: ort.InferenceSession;
  readonly info: SessionInfo;
  /** The output read as logits (model.logits_output); the only one fetched. */
  readonly logitsOutput: string;
}

/** The model does not fit the config: the user's mistake (exit 2), naming the config key to change. */
export class ModelConfigError extends Error {
  constructor(
    message: string,
    readonly keyPath: readonly string[],
  ) {
    super(message);
  }
}

const KNOWN_INPUTS = new Set(['input_ids', 'attention_mask', 'position_ids']);

/**
 * Opens with profiling on, runs one small untimed pass, and ends profiling: the profile says where every node ran
 * (placement.ts judges it), and no later pass is profiled. The profile file is read and deleted here.
 */
export async function openSession(modelPath: string, spec: OrtSpec, paired = false): Promise<OpenSession> {
  const profileDir = mkdtempSync(path.join(os.tmpdir(), 'tr118-ort-profile-'));
  try {
    return await openProfiled(modelPath, spec, paired, profileDir);
  } finally {
    rmSync(profileDir, { recursive: true, force: true });
  }
}

async function openProfiled(
  modelPath: string,
  spec: OrtSpec,
  paired: boolean,
  profileDir: string,
): Promise<OpenSession> {
  const started = performance.now();
  const session = await loadOrt().InferenceSession.create(modelPath, {
    ...sessionOptions(spec, paired),
    enableProfiling: true,
    profileFilePrefix: path.join(profileDir, 'placement'),
  });
  const openMs = performance.now() - started;
  if (!session.inputNames.includes('input_ids')) {
    throw new Error(`the model has no input named input_ids (inputs: ${session.inputNames.join(', ')})`);
  }
  const unknown = session.inputNames.filter((n) => !KNOWN_INPUTS.has(n));
  if (unknown.length > 0) {
    throw new Error(
      `the model has inputs this tool cannot fill: ${unknown.join(', ')} (known: ${[...KNOWN_INPUTS].join(', ')})`,
    );
  }
  // By name, never by position: an export with an extra output before the logits (a hidden state, say) would
  // otherwise be scored as if that output were the logits, and give a wrong perplexity that may pass.
  const logitsOutput = spec.logitsOutput;
  if (!session.outputNames.includes(logitsOutput)) {
    const outputs = session.outputNames.map((n) => JSON.stringify(n)).join(', ');
    await session.release();
    throw new ModelConfigError(
      `${modelPath} has no output named ${JSON.stringify(logitsOutput)} (its outputs: ${outputs}); set ` +
        'model.logits_output to the one that holds the logits [batch, seq, vocab]',
      ['model', 'logits_output'],
    );
  }
  const logits = session.outputMetadata.find((m) => m.name === logitsOutput);
  const lastDim = logits?.isTensor ? logits.shape[logits.shape.length - 1] : undefined;
  const placement = await profilePlacement(session, logitsOutput, profileDir);
  const info: SessionInfo = {
    protocolVersion: PROTOCOL_VERSION,
    runtime: 'onnxruntime-node',
    runtimeVersion: loadOrt().env.versions.node ?? 'unknown',
    providers: executionProviders(spec),
    inputNames: [...session.inputNames],
    outputNames: [...session.outputNames],
    ...(typeof lastDim === 'number' && lastDim > 0 ? { vocabSize: lastDim } : {}),
    openMs,
    placement,
  };
  return { session, info, logitsOutput };
}

/** One 1×8 pass with profiling on, then profiling off; the profile's Node events say where each node ran. */
async function profilePlacement(
  session: ort.InferenceSession,
  logitsOutput: string,
  profileDir: string,
): Promise<NonNullable<SessionInfo['placement']>> {
  const ids = Array.from({ length: 8 }, (_, i) => i);
  await session.run(
    makeFeeds(
      session,
      1,
      ids.length,
      ids,
      ids.map(() => 1),
    ),
    [logitsOutput],
  );
  session.endProfiling();
  const file = readdirSync(profileDir).find((f) => f.endsWith('.json'));
  if (!file) throw new Error(`ONNX Runtime wrote no profile in ${profileDir}`);
  return placementFromProfile(JSON.parse(readFileSync(path.join(profileDir, file), 'utf8')));
}

/** The logits of one pass, checked: float32, [batch, seqLen, vocab]. Throws otherwise (the run is degraded). */
function logitsOf(
  opened: OpenSession,
  out: ort.InferenceSession.ReturnType,
  batch: number,
  seqLen: number,
): ort.Tensor {
  const name = opened.logitsOutput;
  const logits = out[name];
  if (!logits) throw new Error(`the model returned no output ${JSON.stringify(name)}`);
  if (logits.type !== 'float32')
    throw new Error(`expected float32 logits in output ${JSON.stringify(name)}, got ${logits.type}`);
  const problem = logitsShapeProblem(name, logits.dims, batch, seqLen, opened.info.vocabSize);
  if (problem) throw new Error(problem);
  return logits;
}

/** One forward pass that fetches only the logits output. */
function runLogits(opened: OpenSession, feeds: Record<string, ort.Tensor>): Promise<ort.InferenceSession.ReturnType> {
  return opened.session.run(feeds, [opened.logitsOutput]);
}

/** [batch, seqLen] of a feed built by makeFeeds. */
function feedShape(feeds: Record<string, ort.Tensor>): [number, number] {
  const dims = feeds.input_ids?.dims ?? [];
  return [dims[0] ?? 0, dims[1] ?? 0];
}

/** One run's latency and its logits' shape, checked; the timer wraps only the session.run call. */
async function timedPass(
  opened: OpenSession,
  feeds: Record<string, ort.Tensor>,
): Promise<{ latencyMs: number; dims: readonly number[] }> {
  const t0 = process.hrtime.bigint();
  const out = await runLogits(opened, feeds);
  const t1 = process.hrtime.bigint();
  const [batch, seqLen] = feedShape(feeds);
  return { latencyMs: Number(t1 - t0) / 1e6, dims: logitsOf(opened, out, batch, seqLen).dims };
}

/** int64 tensors for one [batch, seqLen] batch; built once, before any timer starts. */
export function makeFeeds(
  session: ort.InferenceSession,
  batch: number,
  seqLen: number,
  inputIds: ArrayLike<number>,
  attentionMask: ArrayLike<number>,
): Record<string, ort.Tensor> {
  const { Tensor } = loadOrt();
  const dims = [batch, seqLen];
  const feeds: Record<string, ort.Tensor> = {
    input_ids: new Tensor('int64', BigInt64Array.from(Array.from(inputIds, BigInt)), dims),
  };
  if (session.inputNames.includes('attention_mask')) {
    feeds.attention_mask = new Tensor('int64', BigInt64Array.from(Array.from(attentionMask, BigInt)), dims);
  }
  if (session.inputNames.includes('position_ids')) {
    const positions = new BigInt64Array(batch * seqLen);
    for (let i = 0; i < positions.length; i++) positions[i] = BigInt(i % seqLen);
    feeds.position_ids = new Tensor('int64', positions, dims);
  }
  return feeds;
}

/**
 * `warmup` untimed passes, then `iterations` timed ones. The timer wraps exactly one `session.run` call: binding the
 * already-built input tensors, the forward pass, and copying the logits into a JS buffer; nothing else.
 * Only the logits output is fetched, so the copy-out is the same work for every model whatever else it outputs (an
 * extra hidden-state output would add its own copy). ONNX Runtime's inference builds still execute the whole graph
 * (onnxruntime#16483): nodes that feed only an unfetched output are still timed, as part of the model.
 */
export async function timeForwardPasses(
  opened: OpenSession,
  feeds: Record<string, ort.Tensor>,
  warmup: number,
  iterations: number,
): Promise<{ latenciesMs: number[]; outputShape: number[] }> {
  let outputShape: readonly number[] = [];
  for (let i = 0; i < warmup; i++) await runLogits(opened, feeds);
  const latenciesMs = new Array<number>(iterations);
  for (let i = 0; i < iterations; i++) {
    const pass = await timedPass(opened, feeds);
    latenciesMs[i] = pass.latencyMs;
    outputShape = pass.dims;
  }
  return { latenciesMs, outputShape: [...outputShape] };
}

/**
 * Same-run A/B: base and candidate passes alternate A B A B …, each timed exactly like timeForwardPasses times
 * one. Every pass follows a pass of the other model (warm-up ends with the other one too), so neither side ever
 * gets a pass with the cache still hot from itself; `first` alternates between repetitions, so the half-pass lag
 * of the second model cancels over a run. Pass i of both sides forms a pair measured a millisecond apart.
 */
export async function timePairedPasses(
  candidate: OpenSession,
  base: OpenSession,
  feeds: Record<string, ort.Tensor>,
  warmup: number,
  iterations: number,
  first: 'candidate' | 'base',
): Promise<{ latenciesMs: number[]; baseLatenciesMs: number[]; outputShape: number[] }> {
  const [a, b] = first === 'candidate' ? [candidate, base] : [base, candidate];
  for (let i = 0; i < warmup; i++) {
    await runLogits(a, feeds);
    await runLogits(b, feeds);
  }
  const aMs = new Array<number>(iterations);
  const bMs = new Array<number>(iterations);
  let outputShape: readonly number[] = [];
  for (let i = 0; i < iterations; i++) {
    const passA = await timedPass(a, feeds);
    const passB = await timedPass(b, feeds);
    aMs[i] = passA.latencyMs;
    bMs[i] = passB.latencyMs;
    outputShape = passA.dims;
  }
  const [latenciesMs, baseLatenciesMs] = first === 'candidate' ? [aMs, bMs] : [bMs, aMs];
  return { latenciesMs, baseLatenciesMs, outputShape: [...outputShape] };
}

/** The logits of one [batch, seqLen] batch (all positions attended), checked. */
export async function sessionLogits(
  opened: OpenSession,
  batch: number,
  seqLen: number,
  inputIds: ArrayLike<number>,
): Promise<{ logits: Float32Array; dims: number[] }> {
  const mask = new Array<number>(inputIds.length).fill(1);
  const out = await runLogits(opened, makeFeeds(opened.session, batch, seqLen, inputIds, mask));
  const logits = logitsOf(opened, out, batch, seqLen);
  return { logits: logits.data as Float32Array, dims: [...logits.dims] };
}

/**
 * A model whose logits hold NaN or infinity has no perplexity: the worker answers `degraded` naming the window, and
 * the accuracy gate fails that backend (the same words as native/tr118_native/worker/windows.py).
 */
export class NonFiniteLogitsError extends Error {
  constructor(k: number, count: number, w: { readonly start: number; readonly end: number }) {
    super(
      `non-finite logits (NaN or infinity) in perplexity window ${k + 1} of ${count} (tokens ${w.start}..${w.end}): ` +
        "the model's output is broken",
    );
  }
}

/** Scores every window in turn; only one window's logits are alive at a time. */
export async function sessionPerplexity(
  opened: OpenSession,
  tokens: readonly number[],
  windowTokens: number,
  strideTokens: number,
): Promise<{ nllSum: number; scoredTokens: number; windows: number }> {
  const windows = planWindows(tokens.length, windowTokens, strideTokens);
  let nllSum = 0;
  let scoredTokens = 0;
  for (const [k, w] of windows.entries()) {
    const length = w.end - w.start;
    const { logits, dims } = await sessionLogits(opened, 1, length, tokens.slice(w.start, w.end));
    const window = windowNll(logits, dims[2] ?? 0, tokens, w);
    if (!Number.isFinite(window.nllSum)) throw new NonFiniteLogitsError(k, windows.length, w);
    nllSum += window.nllSum;
    scoredTokens += window.scored;
  }
  return { nllSum, scoredTokens, windows: windows.length };
}
