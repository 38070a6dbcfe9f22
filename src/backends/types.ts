/** The one interface every engine family implements; the runner knows nothing else about engines. */
import type { BackendSpec } from './presets.js';
import type { SessionInfo } from './protocol.js';

export type OpenOutcome =
  | { readonly status: 'ok'; readonly info: SessionInfo }
  /** Cannot run on this machine at all (no GPU, provider library missing, engine not built in): not a failure. */
  | { readonly status: 'unavailable'; readonly reason: string; readonly failedModel?: 'candidate' | 'base' }
  /** Asked to run, but could not run as asked (e.g. the GPU provider would fall back to CPU): counts as degraded. */
  | { readonly status: 'degraded'; readonly reason: string; readonly failedModel?: 'candidate' | 'base' }
  /** The model does not fit the config (e.g. no output named model.logits_output): a usage error, the run stops. */
  | { readonly status: 'usage'; readonly reason: string; readonly keyPath: readonly string[] };

export interface RunRequest {
  readonly batch: number;
  readonly seqLen: number;
  readonly inputIds: readonly number[];
  readonly attentionMask: readonly (0 | 1)[];
  readonly warmup: number;
  readonly iterations: number;
  /** Same-run A/B: alternate base and candidate passes, this side first. */
  readonly paired?: 'candidate-first' | 'base-first';
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
    }
  | { readonly status: 'degraded'; readonly reason: string };

export interface PerplexityRequest {
  readonly tokens: readonly number[];
  readonly windowTokens: number;
  readonly strideTokens: number;
  readonly model?: 'candidate' | 'base';
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
  readonly spec: BackendSpec;
  open(): Promise<OpenOutcome>;
  /** Never hangs past timeoutMs: a backend that does not answer is killed and the run is degraded. */
  run(request: RunRequest, timeoutMs: number): Promise<RunOutcome>;
  perplexity(request: PerplexityRequest, timeoutMs: number): Promise<PerplexityOutcome>;
  /** The logits of one batch, for parity with the reference backend. */
  logits(request: LogitsRequest, timeoutMs: number): Promise<LogitsOutcome>;
  /**
   * Same-run A/B: restart with the other session opened first. The session opened first measures about 1% slower
   * (seen on the development VM), so the runner swaps the order halfway through the repetitions.
   */
  reopen(baseFirst: boolean): Promise<OpenOutcome>;
  close(): Promise<void>;
}
