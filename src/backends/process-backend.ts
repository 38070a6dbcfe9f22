/**
 * A Backend whose work runs in a child process speaking the worker protocol (protocol.ts, in the frames of
 * framing.ts) on its stdin and stdout. The child can be killed, so a timeout really interrupts a hung forward pass;
 * the next request starts a fresh child. Every engine family is this class with its own launch recipe.
 */
import type { ChildProcess } from 'node:child_process';
import { formatMiB, logitsBytes } from './memory.js';
import { encodeRequest, type SessionInfo, type WorkerReply, type WorkerRequest, type WorkerSpec } from './protocol.js';
import type {
  Backend,
  LogitsOutcome,
  LogitsRequest,
  OpenOutcome,
  PerplexityOutcome,
  PerplexityRequest,
  RunOutcome,
  RunRequest,
  Side,
} from './types.js';

import type { WorkerPool } from './worker-pool.js';
import { hasEnded, startFailureOf, startWorkerProcess, stderrTailOf, type WorkerLaunch } from './worker-process.js';

export type { WorkerLaunch } from './worker-process.js';

type Exchange =
  | { readonly kind: 'reply'; readonly reply: WorkerReply }
  | { readonly kind: 'timeout' }
  | { readonly kind: 'exit'; readonly description: string };

/** Distributes Omit over the request union, so each variant keeps its own fields. */
type RequestBody = WorkerRequest extends infer R ? (R extends WorkerRequest ? Omit<R, 'id'> : never) : never;

const CLOSE_TIMEOUT_MS = 15_000;

/** How long an `open` (loading a checkpoint, compiling) may take unless the config says otherwise. */
export const DEFAULT_OPEN_TIMEOUT_MS = 600_000;

export interface ProcessBackendOptions {
  /** Same-run A/B: the worker also opens this base model (an ONNX file, an engine or a checkpoint folder). */
  readonly baseModelPath?: string | undefined;
  /** Opening (and reopening) a session may take this long before the worker is killed. */
  readonly openTimeoutMs?: number | undefined;
  /**
   * After a session opened: a reason it cannot give the figure asked for (the family's post-open check, e.g. ONNX
   * Runtime's node placement), which makes the backend degraded.
   */
  readonly checkOpened?: ((info: SessionInfo) => string | undefined) | undefined;
  /** Asked before each open: what the open request carries beyond the spec (a torch.compile cache entry to load). */
  readonly openExtras?: (() => Promise<OpenExtras>) | undefined;
  /** After each open that succeeded: what the family keeps of it (torch.compile's caches), and the info to report. */
  readonly afterOpen?: ((info: SessionInfo) => Promise<SessionInfo>) | undefined;
  /** After the worker answered close: what the family keeps of the whole session (torch.compile's caches). */
  readonly afterClose?: (() => Promise<void>) | undefined;
  /** Worker processes started before the backend existed: its first process is taken from here if one matches. */
  readonly pool?: WorkerPool | undefined;
}

/** The open request's fields beyond the spec and the same-run base that a family may add (protocol.ts). */
export interface OpenExtras {
  readonly compileCache?: { readonly load?: string; readonly save?: string };
}

export class ProcessBackend implements Backend {
  private child: ChildProcess | undefined;
  private nextId = 1;
  /** Same-run A/B: whose session the worker opens first (sent as the open request's baseFirst). */
  private openFirst: Side = 'candidate';
  /** From the opened session: sizes the logits of a pass when a worker dies for memory. */
  private vocabSize: number | undefined;

  private readonly baseModelPath: string | undefined;
  private readonly openTimeoutMs: number;
  private readonly checkOpened: ((info: SessionInfo) => string | undefined) | undefined;
  private readonly openExtras: (() => Promise<OpenExtras>) | undefined;
  private readonly afterOpen: ((info: SessionInfo) => Promise<SessionInfo>) | undefined;
  private readonly afterClose: (() => Promise<void>) | undefined;
  private readonly pool: WorkerPool | undefined;

  constructor(
    readonly spec: WorkerSpec,
    private readonly launch: WorkerLaunch,
    options: ProcessBackendOptions = {},
  ) {
    this.baseModelPath = options.baseModelPath;
    this.openTimeoutMs = options.openTimeoutMs ?? DEFAULT_OPEN_TIMEOUT_MS;
    this.checkOpened = options.checkOpened;
    this.openExtras = options.openExtras;
    this.afterOpen = options.afterOpen;
    this.afterClose = options.afterClose;
    this.pool = options.pool;
  }

  async open(): Promise<OpenOutcome> {
    return this.start();
  }

  async run(request: RunRequest, timeoutMs: number): Promise<RunOutcome> {
    const ready = await this.ensureOpen();
    if (ready) return { status: 'degraded', reason: ready };
    const exchange = await this.exchange(
      { type: 'run', ...request, inputIds: [...request.inputIds], attentionMask: [...request.attentionMask] },
      timeoutMs,
    );
    if (exchange.kind === 'reply' && exchange.reply.type === 'ran') {
      const { latenciesMs, baseLatenciesMs, endToEndLatenciesMs, baseEndToEndLatenciesMs, compileMs } = exchange.reply;
      const { compiledInTimedPasses } = exchange.reply;
      return {
        status: 'ok',
        latenciesMs,
        ...(baseLatenciesMs ? { baseLatenciesMs } : {}),
        ...(endToEndLatenciesMs ? { endToEndLatenciesMs } : {}),
        ...(baseEndToEndLatenciesMs ? { baseEndToEndLatenciesMs } : {}),
        ...(compileMs !== undefined ? { compileMs } : {}),
        ...(compiledInTimedPasses ? { compiledInTimedPasses } : {}),
      };
    }
    return { status: 'degraded', reason: this.failureReason(exchange, timeoutMs) };
  }

  async perplexity(request: PerplexityRequest, timeoutMs: number): Promise<PerplexityOutcome> {
    const ready = await this.ensureOpen();
    if (ready) return { status: 'degraded', reason: ready };
    const exchange = await this.exchange({ type: 'perplexity', ...request, tokens: [...request.tokens] }, timeoutMs);
    if (exchange.kind === 'reply' && exchange.reply.type === 'perplexity') {
      const { nllSum, scoredTokens, windows, peakRssMiB } = exchange.reply;
      return { status: 'ok', nllSum, scoredTokens, windows, peakRssMiB };
    }
    return { status: 'degraded', reason: this.failureReason(exchange, timeoutMs) };
  }

  async logits(request: LogitsRequest, timeoutMs: number): Promise<LogitsOutcome> {
    const ready = await this.ensureOpen();
    if (ready) return { status: 'degraded', reason: ready };
    const exchange = await this.exchange({ type: 'logits', ...request, inputIds: [...request.inputIds] }, timeoutMs);
    if (exchange.kind === 'reply' && exchange.reply.type === 'logits') {
      return { status: 'ok', logits: exchange.reply.logits, dims: exchange.reply.dims };
    }
    return { status: 'degraded', reason: this.failureReason(exchange, timeoutMs) };
  }

  /**
   * Same-run A/B: both sessions again, `openFirst`'s first. The running worker is asked to reopen them itself (no new
   * process, no imports, Inductor's compiled kernels kept in memory); a worker that answers anything but `opened` (an
   * older one that does not know `reopen`, an open that failed) or does not answer in time is closed and a new one
   * started, as before there was a `reopen`.
   */
  async reopen(openFirst: Side): Promise<OpenOutcome> {
    this.openFirst = openFirst;
    if (this.child) {
      const extras = (await this.openExtras?.()) ?? {};
      const exchange = await this.exchange(
        { type: 'reopen', baseFirst: openFirst === 'base', ...extras },
        this.openTimeoutMs,
      );
      if (exchange.kind === 'reply' && exchange.reply.type === 'opened') return this.opened(exchange.reply.info);
    }
    await this.close();
    return this.open();
  }

  async close(): Promise<void> {
    const child = this.child;
    if (!child) return;
    // Long enough for a worker to write what it keeps (torch.compile's caches: seconds for a large model).
    const closed = await this.exchange({ type: 'close' }, CLOSE_TIMEOUT_MS);
    child.stdin?.end();
    if (this.child === child) this.kill();
    if (closed.kind === 'reply' && closed.reply.type === 'closed') await this.afterClose?.();
  }

  /** After a timeout killed the child, a fresh one is opened for the next request. Returns a reason if it can't. */
  private async ensureOpen(): Promise<string | undefined> {
    if (this.child) return undefined;
    const outcome = await this.start();
    return outcome.status === 'ok' ? undefined : `could not reopen the backend: ${outcome.reason}`;
  }

  /**
   * Starts the worker process without opening a session, so its imports (torch: seconds) run while other backends
   * open; open() then uses it. The runner calls it for every backend at once, then opens them in device queues.
   */
  prestart(): void {
    if (!this.child) this.spawnChild();
  }

  /**
   * The worker process: one the pool started early for this launch (while the export ran), else a new one. Returns
   * why not, if it cannot be started.
   */
  private spawnChild(): string | undefined {
    const child = this.pool?.take(this.launch) ?? startWorkerProcess(this.launch);
    if ('failed' in child) return child.failed;
    this.child = child;
    return undefined;
  }

  private async start(): Promise<OpenOutcome> {
    // Asked before the open request (a cache lookup: milliseconds; a prestarted worker imports meanwhile).
    const extras = (await this.openExtras?.()) ?? {};
    if (!this.child) {
      const failed = this.spawnChild();
      if (failed !== undefined) return { status: 'degraded', reason: failed };
    }
    const exchange = await this.exchange(
      {
        type: 'open',
        backend: this.spec,
        ...extras,
        ...(this.baseModelPath !== undefined
          ? { baseModelPath: this.baseModelPath, baseFirst: this.openFirst === 'base' }
          : {}),
      },
      this.openTimeoutMs,
    );
    if (exchange.kind === 'reply' && exchange.reply.type === 'opened') return this.opened(exchange.reply.info);
    this.kill();
    const failedModel =
      exchange.kind === 'reply' && exchange.reply.type === 'error' && exchange.reply.model
        ? { failedModel: exchange.reply.model }
        : {};
    if (exchange.kind === 'reply' && exchange.reply.type === 'error' && exchange.reply.kind === 'unavailable') {
      return { status: 'unavailable', reason: exchange.reply.message, ...failedModel };
    }
    if (exchange.kind === 'reply' && exchange.reply.type === 'error' && exchange.reply.kind === 'usage') {
      return { status: 'usage', reason: exchange.reply.message, keyPath: exchange.reply.keyPath ?? [] };
    }
    return { status: 'degraded', reason: this.failureReason(exchange, this.openTimeoutMs), ...failedModel };
  }

  /** An `opened` reply (to open or reopen): what the family keeps of it, then its post-open check. */
  private async opened(opened: SessionInfo): Promise<OpenOutcome> {
    const info = this.afterOpen ? await this.afterOpen(opened) : opened;
    this.vocabSize = info.vocabSize;
    const reason = this.checkOpened?.(info);
    if (reason !== undefined) {
      this.kill();
      return { status: 'degraded', reason, info };
    }
    return { status: 'ok', info };
  }

  private failureReason(exchange: Exchange, timeoutMs: number): string {
    switch (exchange.kind) {
      case 'timeout':
        return `timed out after ${(timeoutMs / 1000).toFixed(1)} s; the worker was killed`;
      case 'exit':
        return exchange.description;
      case 'reply':
        return exchange.reply.type === 'error' ? exchange.reply.message : `unexpected reply ${exchange.reply.type}`;
    }
  }

  /** The estimated logits of the request that was running, in words. */
  private passLogits(body: RequestBody): string {
    const shape =
      body.type === 'run' || body.type === 'logits'
        ? { batch: body.batch, seqLen: body.seqLen }
        : body.type === 'perplexity'
          ? { batch: 1, seqLen: body.windowTokens }
          : undefined;
    if (!shape)
      return body.type === 'open' || body.type === 'reopen'
        ? 'while opening the model'
        : `while handling a ${body.type} request`;
    const what = `a ${shape.batch}×${shape.seqLen} pass`;
    if (this.vocabSize === undefined) return `${what} (vocabulary size unknown: logits not estimated)`;
    const bytes = logitsBytes(shape.batch, shape.seqLen, this.vocabSize);
    return `${what}'s logits alone are ${formatMiB(bytes)} (batch × seq_len × vocabulary ${this.vocabSize} × 4 bytes)`;
  }

  private kill(): void {
    const child = this.child;
    this.child = undefined;
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }

  /** Sends one request and waits for its reply, the child's exit, or the timeout (which kills the child). */
  private exchange(body: RequestBody, timeoutMs: number): Promise<Exchange> {
    const child = this.child;
    if (!child) return Promise.resolve({ kind: 'exit', description: 'the worker process is not running' });
    const failedStart = startFailureOf(child);
    if (failedStart !== undefined) {
      // A worker started early whose executable is missing: spawn said so before anyone listened.
      this.child = undefined;
      return Promise.resolve({ kind: 'exit', description: failedStart });
    }
    if (hasEnded(child)) {
      // A prestarted worker that died before its first request (a Python that cannot start, an import that
      // crashed while the export ran): no 'exit' to wait for, and its stderr says why.
      this.child = undefined;
      const how = child.signalCode ? `was killed by ${child.signalCode}` : `exited with code ${String(child.exitCode)}`;
      return new Promise((resolve) =>
        afterStderr(child, () => {
          const stderr = stderrTailOf(child).trim();
          resolve({ kind: 'exit', description: `the worker process ${how}${stderr ? `: ${lastLines(stderr)}` : ''}` });
        }),
      );
    }
    const id = this.nextId++;
    return new Promise<Exchange>((resolve) => {
      let settled = false;
      const finish = (result: Exchange): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        child.off('reply', onReply);
        child.off('garbled', onGarbled);
        child.off('exit', onExit);
        resolve(result);
      };
      const onReply = (reply: WorkerReply): void => {
        if (reply.id === id) finish({ kind: 'reply', reply });
      };
      const onGarbled = (description: string): void => {
        child.off('exit', onExit); // our own kill below is not news
        this.kill();
        afterStderr(child, () => {
          const stderr = stderrTailOf(child).trim();
          finish({ kind: 'exit', description: `${description}${stderr ? `; its stderr: ${lastLines(stderr)}` : ''}` });
        });
      };
      const onExit = (code: number | null, signal: NodeJS.Signals | null): void => {
        if (this.child === child) this.child = undefined;
        // Our own kills (timeout, malformed reply) finish the exchange first: a SIGKILL seen here came from outside.
        const how =
          signal === 'SIGKILL'
            ? `was killed by SIGKILL, not by tr118's timeout: probably out of memory (the kernel's OOM killer); ${this.passLogits(body)}`
            : signal
              ? `was killed by ${signal}`
              : `exited with code ${String(code)}`;
        afterStderr(child, () => {
          const stderr = stderrTailOf(child).trim();
          finish({ kind: 'exit', description: `the worker process ${how}${stderr ? `: ${lastLines(stderr)}` : ''}` });
        });
      };
      const timer = setTimeout(() => {
        this.kill();
        finish({ kind: 'timeout' });
      }, timeoutMs);
      child.on('reply', onReply);
      child.on('garbled', onGarbled);
      child.on('exit', onExit);
      child.stdin?.write(encodeRequest({ ...body, id }), (error) => {
        // A worker that could not start or already died says why through 'error' or 'exit' (with its stderr);
        // this is only the fallback if neither comes.
        if (error)
          setTimeout(
            () => finish({ kind: 'exit', description: `could not send to the worker: ${error.message}` }),
            1000,
          );
      });
    });
  }
}

/**
 * Runs `then` once the child's stderr has been read to its end (its last words explain a crash), or after half a
 * second if a grandchild that inherited stderr keeps it open.
 */
function afterStderr(child: ChildProcess, then: () => void): void {
  const stderr = child.stderr;
  if (!stderr || stderr.readableEnded || stderr.destroyed) return then();
  let done = false;
  const once = (): void => {
    if (done) return;
    done = true;
    clearTimeout(timer);
    then();
  };
  const timer = setTimeout(once, 500);
  stderr.once('end', once);
  stderr.once('close', once);
}

function lastLines(text: string): string {
  return text.split('\n').slice(-3).join(' | ');
}
