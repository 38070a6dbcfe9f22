/**
 * The ONNX Runtime worker process: one backend, one session, driven over Node IPC by ProcessBackend.
 * It runs in its own process so that a hung forward pass can be killed (session.run is synchronous native code:
 * neither a timer nor a worker thread can interrupt it).
 */
import { describeError } from '../../errors.js';
import type { BackendSpec } from '../presets.js';
import { requestSchema, type WorkerReply } from '../protocol.js';
import {
  makeFeeds,
  ModelConfigError,
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
let spec: BackendSpec | undefined;

function send(reply: WorkerReply): void {
  process.send?.(reply);
}

/** GPU providers that cannot take the whole graph fail session creation (CPU fallback disabled): that is degraded. */
function openFailureKind(message: string): 'unavailable' | 'degraded' | 'failed' {
  if (spec?.provider === 'cpu') return 'failed';
  if (/fallback|CPUExecutionProvider|could not be assigned|not supported/i.test(message)) return 'degraded';
  return 'unavailable';
}

async function handle(raw: unknown): Promise<void> {
  const parsed = requestSchema.safeParse(raw);
  if (!parsed.success) {
    const id = typeof raw === 'object' && raw !== null && 'id' in raw && typeof raw.id === 'number' ? raw.id : -1;
    send({ type: 'error', id, kind: 'failed', message: `bad request: ${parsed.error.message}` });
    return;
  }
  const request = parsed.data;
  switch (request.type) {
    case 'open': {
      spec = { ...request.backend, provider: request.backend.provider };
      // Which model is being opened, so that a failure names it: the base model's is not the candidate's fault.
      let opening: 'candidate' | 'base' = 'candidate';
      try {
        const paired = request.baseModelPath !== undefined;
        const openBase = async (): Promise<void> => {
          if (request.baseModelPath === undefined) return;
          opening = 'base';
          baseSession = await openSession(request.baseModelPath, spec!, true);
          opening = 'candidate';
        };
        if (request.baseFirst) await openBase();
        session = await openSession(spec.modelPath, spec, paired);
        if (!request.baseFirst) await openBase();
        send({ type: 'opened', id: request.id, info: session.info });
      } catch (error) {
        const message = describeError(error);
        if (error instanceof ModelConfigError)
          send({ type: 'error', id: request.id, kind: 'usage', message, keyPath: [...error.keyPath] });
        else send({ type: 'error', id: request.id, kind: openFailureKind(message), message, model: opening });
      }
      return;
    }
    case 'run': {
      if (!session) return send({ type: 'error', id: request.id, kind: 'failed', message: 'no session is open' });
      try {
        const feeds = makeFeeds(
          session.session,
          request.batch,
          request.seqLen,
          request.inputIds,
          request.attentionMask,
        );
        if (request.paired !== undefined) {
          if (!baseSession) throw new Error('a paired run needs the base model, which was not opened');
          const first = request.paired === 'candidate-first' ? 'candidate' : 'base';
          const timed = await timePairedPasses(session, baseSession, feeds, request.warmup, request.iterations, first);
          send({ type: 'ran', id: request.id, ...timed });
        } else {
          const timed = await timeForwardPasses(session, feeds, request.warmup, request.iterations);
          send({ type: 'ran', id: request.id, ...timed });
        }
      } catch (error) {
        send({ type: 'error', id: request.id, kind: 'failed', message: describeError(error) });
      }
      return;
    }
    case 'perplexity': {
      if (!session) return send({ type: 'error', id: request.id, kind: 'failed', message: 'no session is open' });
      try {
        const started = performance.now();
        const scorer = request.model === 'base' ? baseSession : session;
        if (!scorer) throw new Error('the base model was not opened');
        const result = await sessionPerplexity(scorer, request.tokens, request.windowTokens, request.strideTokens);
        const peakRssMiB = process.resourceUsage().maxRSS / 1024;
        send({ type: 'perplexity', id: request.id, ...result, elapsedMs: performance.now() - started, peakRssMiB });
      } catch (error) {
        send({ type: 'error', id: request.id, kind: 'failed', message: describeError(error) });
      }
      return;
    }
    case 'logits': {
      if (!session) return send({ type: 'error', id: request.id, kind: 'failed', message: 'no session is open' });
      try {
        const { logits, dims } = await sessionLogits(session, request.batch, request.seqLen, request.inputIds);
        send({ type: 'logits', id: request.id, logits, dims });
      } catch (error) {
        send({ type: 'error', id: request.id, kind: 'failed', message: describeError(error) });
      }
      return;
    }
    case 'close': {
      await session?.session.release();
      await baseSession?.session.release();
      session = undefined;
      baseSession = undefined;
      send({ type: 'closed', id: request.id });
      process.disconnect?.();
      return;
    }
  }
}

// Requests arrive one at a time (the parent awaits each reply), so handling them in order needs no queue.
process.on('message', (message: unknown) => {
  void handle(message);
});
process.on('disconnect', () => process.exit(0));
