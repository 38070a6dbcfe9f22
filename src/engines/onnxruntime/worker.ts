/**
 * The ONNX Runtime worker process: one backend, one session, driven by ProcessBackend over stdin/stdout frames.
 * It runs in its own process so that a hung forward pass can be killed (session.run is synchronous native code:
 * neither a timer nor a worker thread can interrupt it).
 */
import { describeError } from '../../errors.js';
import { prettifyError } from 'zod';
import { ortSpecSchema, type OrtSpec } from './spec.js';
import type { WorkerReply, WorkerRequest } from '../../backends/protocol.js';
import { serveRequests } from '../../backends/serve.js';
import {
  makeFeeds,
  ModelConfigError,
  NonFiniteLogitsError,
  openSession,
  sessionLogits,
  sessionPerplexity,
  timeForwardPasses,
  timePairedPasses,
  type OpenSession,
} from './session.js';

let session: OpenSession | undefined;
/** Same-run A/B: the base model's session, beside the candidate's in this process. */
let baseSession: OpenSession | undefined;
let spec: OrtSpec | undefined;
/** Same-run A/B: the base model's file, from the open, for a reopen. */
let baseModelPath: string | undefined;

/** GPU providers that cannot take the whole graph fail session creation (CPU fallback disabled): that is degraded. */
function openFailureKind(message: string): 'unavailable' | 'degraded' | 'failed' {
  if (spec?.provider === 'cpu') return 'failed';
  if (/fallback|CPUExecutionProvider|could not be assigned|not supported/i.test(message)) return 'degraded';
  return 'unavailable';
}

async function release(): Promise<void> {
  const held = [session, baseSession];
  session = undefined;
  baseSession = undefined;
  for (const open of held) await open?.session.release();
}

/** The candidate's session and, in same-run A/B, the base model's, in the order asked; `opened` or why not. */
async function openBoth(id: number, opening: OrtSpec, baseFirst: boolean): Promise<WorkerReply> {
  // Which model is being opened, so that a failure names it: the base model's is not the candidate's fault.
  let which: 'candidate' | 'base' = 'candidate';
  try {
    const openBase = async (): Promise<void> => {
      if (baseModelPath === undefined) return;
      which = 'base';
      baseSession = await openSession(baseModelPath, opening, true);
      which = 'candidate';
    };
    if (baseFirst) await openBase();
    session = await openSession(opening.modelPath, opening, baseModelPath !== undefined);
    if (!baseFirst) await openBase();
    return { type: 'opened', id, info: session.info };
  } catch (error) {
    const message = describeError(error);
    if (error instanceof ModelConfigError)
      return { type: 'error', id, kind: 'usage', message, keyPath: [...error.keyPath] };
    return { type: 'error', id, kind: openFailureKind(message), message, model: which };
  }
}

async function handle(request: WorkerRequest): Promise<WorkerReply> {
  const failed = (message: string): WorkerReply => ({ type: 'error', id: request.id, kind: 'failed', message });
  switch (request.type) {
    case 'open': {
      // The transport carries any family's spec: this worker runs onnxruntime's, checked against its schema.
      const parsed = ortSpecSchema.safeParse(request.backend);
      if (!parsed.success)
        return failed(`bad request: the backend is not an onnxruntime spec: ${prettifyError(parsed.error)}`);
      spec = parsed.data;
      baseModelPath = request.baseModelPath;
      return openBoth(request.id, spec, request.baseFirst === true);
    }
    case 'reopen': {
      if (!spec) return failed('no session is open');
      // Both sessions are released before either opens again: the order of their allocations is what is balanced.
      await release();
      return openBoth(request.id, spec, request.baseFirst);
    }
    case 'run': {
      if (!session) return failed('no session is open');
      const feeds = makeFeeds(session.session, request.batch, request.seqLen, request.inputIds, request.attentionMask);
      if (request.paired !== undefined) {
        if (!baseSession) return failed('a paired run needs the base model, which was not opened');
        const first = request.paired === 'candidate-first' ? 'candidate' : 'base';
        const timed = await timePairedPasses(session, baseSession, feeds, request.warmup, request.iterations, first);
        return { type: 'ran', id: request.id, ...timed };
      }
      const timed = await timeForwardPasses(session, feeds, request.warmup, request.iterations);
      return { type: 'ran', id: request.id, ...timed };
    }
    case 'perplexity': {
      if (!session) return failed('no session is open');
      const started = performance.now();
      const scorer = request.model === 'base' ? baseSession : session;
      if (!scorer) return failed('the base model was not opened');
      let result;
      try {
        result = await sessionPerplexity(scorer, request.tokens, request.windowTokens, request.strideTokens);
      } catch (error) {
        if (!(error instanceof NonFiniteLogitsError)) throw error;
        return { type: 'error', id: request.id, kind: 'degraded', message: error.message };
      }
      const peakRssMiB = process.resourceUsage().maxRSS / 1024;
      return { type: 'perplexity', id: request.id, ...result, elapsedMs: performance.now() - started, peakRssMiB };
    }
    case 'logits': {
      if (!session) return failed('no session is open');
      const { logits, dims } = await sessionLogits(session, request.batch, request.seqLen, request.inputIds);
      return { type: 'logits', id: request.id, logits, dims };
    }
    case 'close': {
      await release();
      return { type: 'closed', id: request.id };
    }
  }
}

// Requests arrive one at a time (the runner awaits each reply); serveRequests answers them in order.
serveRequests(handle);
