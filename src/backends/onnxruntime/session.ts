/**
 * In-process ONNX Runtime work: open a session, build feeds, time forward passes, score perplexity windows.
 * The worker process calls these; so does the harness-overhead benchmark, which compares them with a bare loop.
 */
import { performance } from 'node:perf_hooks';
import type * as ort from 'onnxruntime-node';
import { planWindows, windowNll } from '../../accuracy/perplexity.js';
import type { BackendSpec } from '../presets.js';
import { PROTOCOL_VERSION, type SessionInfo } from '../protocol.js';
import { executionProviders, sessionOptions } from './options.js';
import { loadOrt } from './runtime.js';

export interface OpenSession {
  readonly session: ort.InferenceSession;
  readonly info: SessionInfo;
}

const KNOWN_INPUTS = new Set(['input_ids', 'attention_mask', 'position_ids']);

export async function openSession(modelPath: string, spec: BackendSpec, paired = false): Promise<OpenSession> {
  const started = performance.now();
  const session = await loadOrt().InferenceSession.create(modelPath, sessionOptions(spec, paired));
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
  const logits = session.outputMetadata[0];
  const lastDim = logits?.isTensor ? logits.shape[logits.shape.length - 1] : undefined;
  const info: SessionInfo = {
    protocolVersion: PROTOCOL_VERSION,
    runtime: 'onnxruntime-node',
    runtimeVersion: loadOrt().env.versions.node ?? 'unknown',
    providers: executionProviders(spec),
    inputNames: [...session.inputNames],
    outputNames: [...session.outputNames],
    ...(typeof lastDim === 'number' && lastDim > 0 ? { vocabSize: lastDim } : {}),
    openMs,
  };
  return { session, info };
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
 */
export async function timeForwardPasses(
  session: ort.InferenceSession,
  feeds: Record<string, ort.Tensor>,
  warmup: number,
  iterations: number,
): Promise<{ latenciesMs: number[]; outputShape: number[] }> {
  let outputShape: readonly number[] = [];
  for (let i = 0; i < warmup; i++) await session.run(feeds);
  const latenciesMs = new Array<number>(iterations);
  for (let i = 0; i < iterations; i++) {
    const t0 = process.hrtime.bigint();
    const out = await session.run(feeds);
    const t1 = process.hrtime.bigint();
    latenciesMs[i] = Number(t1 - t0) / 1e6;
    if (i === 0) outputShape = Object.values(out)[0]?.dims ?? [];
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
  candidate: ort.InferenceSession,
  base: ort.InferenceSession,
  feeds: Record<string, ort.Tensor>,
  warmup: number,
  iterations: number,
  first: 'candidate' | 'base',
): Promise<{ latenciesMs: number[]; baseLatenciesMs: number[]; outputShape: number[] }> {
  const [a, b] = first === 'candidate' ? [candidate, base] : [base, candidate];
  for (let i = 0; i < warmup; i++) {
    await a.run(feeds);
    await b.run(feeds);
  }
  const aMs = new Array<number>(iterations);
  const bMs = new Array<number>(iterations);
  let outputShape: readonly number[] = [];
  const timeOne = async (session: ort.InferenceSession): Promise<number> => {
    const t0 = process.hrtime.bigint();
    const out = await session.run(feeds);
    const t1 = process.hrtime.bigint();
    if (outputShape.length === 0) outputShape = Object.values(out)[0]?.dims ?? [];
    return Number(t1 - t0) / 1e6;
  };
  for (let i = 0; i < iterations; i++) {
    aMs[i] = await timeOne(a);
    bMs[i] = await timeOne(b);
  }
  const [latenciesMs, baseLatenciesMs] = first === 'candidate' ? [aMs, bMs] : [bMs, aMs];
  return { latenciesMs, baseLatenciesMs, outputShape: [...outputShape] };
}

/** Scores every window in turn; only one window's logits are alive at a time. */
export async function sessionPerplexity(
  session: ort.InferenceSession,
  tokens: readonly number[],
  windowTokens: number,
  strideTokens: number,
): Promise<{ nllSum: number; scoredTokens: number; windows: number }> {
  const windows = planWindows(tokens.length, windowTokens, strideTokens);
  let nllSum = 0;
  let scoredTokens = 0;
  for (const w of windows) {
    const length = w.end - w.start;
    const ids = tokens.slice(w.start, w.end);
    const feeds = makeFeeds(session, 1, length, ids, new Array<number>(length).fill(1));
    const out = await session.run(feeds);
    const logits = out[session.outputNames[0] ?? 'logits'];
    if (!logits || logits.type !== 'float32')
      throw new Error(`expected float32 logits, got ${logits?.type ?? 'nothing'}`);
    const vocabSize = logits.dims[logits.dims.length - 1] ?? 0;
    const window = windowNll(logits.data as Float32Array, vocabSize, tokens, w);
    nllSum += window.nllSum;
    scoredTokens += window.scored;
  }
  return { nllSum, scoredTokens, windows: windows.length };
}
