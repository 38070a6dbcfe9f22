/** The one interface every engine family implements; the runner knows nothing else about engines. */
import type { SessionInfo, WorkerSpec } from './protocol.js';

/**
 * Same-run A/B: a worker holds two models, the candidate (the change under test) and the base (what it is compared
 * with). Every engine's worker speaks of them by these names (measure/pairing.ts decides how they alternate).
 */
export type Side = 'candidate' | 'base';

/** Same-run A/B: which side's pass opens a run's alternating A B A B … pattern. */
export type PairedOrder = 'candidate-first' | 'base-first';

/**
 * An outcome is what a backend call returned: ok with its figures, or a status and a reason (never thrown). A cell's
 * outcome in the verdict (gate/verdict.ts CellOutcome) is the same word summed over runs.
 */
export type OpenOutcome =
  | { readonly status: 'ok'; readonly info: SessionInfo }
  /** Cannot run on this machine at all (no GPU, provider library missing, engine not built in): not a failure. */
  | { readonly status: 'unavailable'; readonly reason: string; readonly failedModel?: Side }
  /** Asked to run, but could not run as asked (e.g. the GPU provider would fall back to CPU): counts as degraded. */
  | {
      readonly status: 'degraded';
      readonly reason: string;
      readonly failedModel?: Side;
      /** The session did open (e.g. degraded for where its nodes ran): what it reported, kept in the results. */
      readonly info?: SessionInfo;
    }
  /** The model does not fit the config (e.g. no output named model.logits_output): a usage error, the run stops. */
  | { readonly status: 'usage'; readonly reason: string; readonly keyPath: readonly string[] };

export interface RunRequest {
  readonly batch: number;
  readonly seqLen: number;
  readonly inputIds: readonly number[];
  readonly attentionMask: readonly (0 | 1)[];
  readonly warmup: number;
  readonly iterations: number;
  /**
   * GPU workers: how many end-to-end passes (host in, host out) follow the timed ones; 0: none. Absent: as many as
   * `iterations` (what a worker did before the count was asked for).
   */
  readonly endToEndPasses?: number;
  /** Same-run A/B: alternate base and candidate passes, this side first. */
  readonly paired?: PairedOrder;
}

export type RunOutcome =
  | {
      readonly status: 'ok';
      /** The gated figure: device-side on a GPU worker, the whole call elsewhere (SessionInfo.timerCovers). */
      readonly latenciesMs: readonly number[];
      readonly baseLatenciesMs?: readonly number[];
      /** GPU workers: end-to-end passes (host inputs to host logits), reported beside the gated figure. */
      readonly endToEndLatenciesMs?: readonly number[];
      readonly baseEndToEndLatenciesMs?: readonly number[];
      /** A compiled model's untimed warm-up passes that compiled a graph (a new shape), host ms: compile time. */
      readonly compileMs?: number;
      /** The timed passes held a compile (the worker saw a graph compiled during them). */
      readonly compiledInTimedPasses?: true;
    }
  | { readonly status: 'degraded'; readonly reason: string };

export interface PerplexityRequest {
  readonly tokens: readonly number[];
  readonly windowTokens: number;
  readonly strideTokens: number;
  /** Which model scores (default: the candidate). */
  readonly model?: Side;
}

export type PerplexityOutcome =
  | {
      readonly status: 'ok';
      readonly nllSum: number;
      readonly scoredTokens: number;
      readonly windows: number;
      readonly peakRssMiB: number;
    }
  | { readonly status: 'degraded'; readonly reason: string };

export interface LogitsRequest {
  readonly batch: number;
  readonly seqLen: number;
  readonly inputIds: readonly number[];
}

export type LogitsOutcome =
  | { readonly status: 'ok'; readonly logits: Float32Array; readonly dims: readonly number[] }
  | { readonly status: 'degraded'; readonly reason: string };

export interface Backend {
  readonly spec: WorkerSpec;
  open(): Promise<OpenOutcome>;
  /**
   * Starts what open() will use (a worker process and its imports) without opening a session: the runner starts
   * every backend this way at once, then opens them one device queue at a time. Optional: open() starts it too.
   */
  prestart?(): void;
  /** Never hangs past timeoutMs: a backend that does not answer is killed and the run is degraded. */
  run(request: RunRequest, timeoutMs: number): Promise<RunOutcome>;
  perplexity(request: PerplexityRequest, timeoutMs: number): Promise<PerplexityOutcome>;
  /** The logits of one batch, for parity with the reference backend. */
  logits(request: LogitsRequest, timeoutMs: number): Promise<LogitsOutcome>;
  /**
   * Same-run A/B: restart the worker with this side's session opened first (the runner swaps the order halfway
   * through the repetitions: measure/pairing.ts).
   */
  reopen(openFirst: Side): Promise<OpenOutcome>;
  close(): Promise<void>;
}
