/**
 * The matrix config: one schema, from which the TypeScript types are derived. Keys are snake_case (as in the seed's
 * matrix YAML, which users already have); every key is documented in docs/configuration.md.
 */
import { z } from 'zod';
import { backendObjectShape } from '../engines/registry.js';
import { BACKEND_LIMITS, backendName } from '../engines/spec.js';

export { PRECISIONS, type Precision } from '../engines/spec.js';

/**
 * Upper bounds on counts and sizes: generous for any real matrix, finite, so that a typo (`repetitions: 1e12`) is
 * refused instead of running until killed. docs/configuration.md lists them.
 */
export const LIMITS = {
  repetitions: 1_000,
  warmup: 10_000,
  iterations: 100_000,
  endToEndPasses: 100_000,
  /** Rows of one forward pass (scenarios and the parity probe). */
  batch: 4_096,
  /** Tokens per row (scenarios, the parity probe, the perplexity window, model.context_tokens): 1 Mi tokens. */
  seqLen: 1_048_576,
  /** A day per run: a longer one is a hung backend. */
  timeoutSeconds: 86_400,
  maxTokens: 100_000_000,
  /** The PRNG takes 32 bits. */
  seed: 4_294_967_295,
  ...BACKEND_LIMITS,
  /** 16 TiB. */
  memoryBudgetMiB: 16_777_216,
} as const;

/** How a same-run A/B decides how many repetitions to run (docs/sequential-stopping.md). */
export const STOPPING_MODES = ['sequential', 'fixed'] as const;
export type StoppingMode = (typeof STOPPING_MODES)[number];
/** Sequential stopping's default time budget for the repetitions, in seconds. */
export const DEFAULT_MAX_SECONDS = 120;
/**
 * Sequential stopping's default look: timed passes per side in one repetition. Half the default `iterations`:
 * twice the looks for the same passes settles clear cells sooner (docs/sequential-stopping.md, "Looks of 20 passes").
 */
export const DEFAULT_LOOK_ITERATIONS = 20;

const count = (min: number, max: number) => z.int().min(min).max(max);

/** Tuned with `npm run bench:gate` (docs/verdict.md "Gate quality, measured"). */
export const LATENCY_DEFAULTS = {
  fail_fraction: 0.05,
  warn_fraction: 0.03,
  min_effect_ms: 0.02,
  confidence: 0.95,
  between_runs_fraction: 0.1,
} as const;

/**
 * thresholds.latency after loading (config/load.ts), as the comparison reads it (gate/compare.ts): defined here,
 * below both of its users, so that the config does not import the gate.
 */
export interface LatencyThresholds {
  /** Fail when the median is slower by more than this fraction (and significant, and above the floor). */
  readonly failFraction: number;
  readonly warnFraction: number;
  /** Changes smaller than this many milliseconds never fail or warn, whatever their percentage. */
  readonly minEffectMs: number;
  /** Confidence of the interval on the ratio, e.g. 0.95. */
  readonly confidence: number;
  /** Stored baselines: ± fraction within which 95% of process-to-process shifts stay (widens the interval). */
  readonly betweenRunsFraction: number;
}

/**
 * A backend entry written as an object: a preset name with overrides, or a new backend with its engine. Its keys are
 * the common ones (engines/spec.ts) and each engine family's own (engines/<family>/), gathered by the registry.
 */
export const backendObjectSchema = z.strictObject(backendObjectShape);
export type BackendObject = z.infer<typeof backendObjectSchema>;

export const scenarioSchema = z.strictObject({
  batch: count(1, LIMITS.batch),
  seq_len: count(1, LIMITS.seqLen),
});

export const configSchema = z.strictObject({
  model: z.strictObject({
    /** The ONNX file to measure; without it, model.hf is exported (model.export's settings). */
    onnx: z.string().min(1).optional(),
    /**
     * Export model.hf to ONNX in the Python worker (torch.onnx.export, checked against PyTorch on a probe batch) and
     * keep it in the artifact cache by content: the default when model.onnx is not given.
     */
    export: z
      .strictObject({
        /**
         * torch's exporter: `dynamo` (torch.export, torch's default since 2.9: on the H200 its graph ran GPT-2 small
         * ~1.9x faster under ONNX Runtime CUDA) or `torchscript` (the legacy tracer, for torches without torch.export).
         */
        exporter: z.enum(['dynamo', 'torchscript']).optional(),
        /** Default 18 for dynamo, 17 for torchscript (each exporter's well-supported opset). */
        opset: count(7, 30).optional(),
        dynamic: z.boolean().optional(),
        int32_inputs: z.boolean().optional(),
      })
      .optional(),
    /** A label for reports; defaults to the file name. */
    name: z.string().min(1).optional(),
    /** The context the model was trained for: windows and scenarios longer than this are refused. */
    context_tokens: count(1, LIMITS.seqLen).optional(),
    /**
     * The output that holds the logits [batch, seq, vocab]; default "logits". Optional rather than defaulted so that
     * the raw config (hashed into the manifest) of existing configs stays as it was.
     */
    logits_output: z.string().min(1).optional(),
    /**
     * The Hugging Face checkpoint the ONNX file was exported from (a folder: config.json + *.safetensors), which
     * the pytorch backends load; nothing is downloaded.
     */
    hf: z.string().min(1).optional(),
    /** Allow pickled *.bin weights in model.hf (they can run code when loaded); off: safetensors only. */
    trust_pickle: z.boolean().optional(),
    /**
     * Weight names (shell patterns, e.g. `lm_head.weight`, `transformer.h.*.attn.bias`) that may be missing from
     * model.hf's weights, unused by its architecture or of another shape. Any other difference stops the run: a
     * missing weight would be filled with random numbers. Default: none.
     */
    allowed_weight_differences: z.array(z.string().min(1)).optional(),
  }),
  inputs: z
    .strictObject({
      /** JSON array of token ids from real held-out text; scenario rows are cut from it. */
      tokens: z.string().min(1),
    })
    .optional(),
  backends: z.array(z.union([backendName, backendObjectSchema])).min(1),
  /** A configured backend that cannot run on this machine (no GPU, no provider libraries): warn, or fail the run. */
  unavailable_backend: z.enum(['warn', 'fail']).default('warn'),
  scenarios: z.record(backendName, scenarioSchema).refine((s) => Object.keys(s).length > 0, 'at least one scenario'),
  repetitions: count(1, LIMITS.repetitions).default(10),
  /**
   * Same-run A/B: `sequential` (default) looks after every repetition and stops a cell once its decision is settled
   * (docs/sequential-stopping.md), `repetitions` then being the most it runs; `fixed` runs every repetition.
   * Optional rather than defaulted, so the raw config (hashed into the manifest) of existing configs stays as it was.
   */
  stopping: z.enum(STOPPING_MODES).optional(),
  /** Sequential stopping: no repetition starts once it would end past this many seconds of timing (default 120). */
  max_seconds: z.number().positive().max(LIMITS.timeoutSeconds).optional(),
  /**
   * Sequential stopping: the timed passes of one repetition, i.e. of one look (default 20, at most `iterations`).
   * The budget stays `repetitions` × `iterations` passes per cell, taken in repetitions of this many.
   */
  look_iterations: count(1, LIMITS.iterations).optional(),
  warmup: count(0, LIMITS.warmup).default(3),
  iterations: count(1, LIMITS.iterations).default(40),
  /**
   * GPU workers: end-to-end passes (host ids in, logits out to the host) per run, after its timed passes: reported
   * beside the gated device-side figure, never gated, so a few suffice (each copies a whole batch's logits). 0: none.
   */
  end_to_end_passes: count(0, LIMITS.endToEndPasses).default(5),
  timeout_s: z.number().positive().max(LIMITS.timeoutSeconds).default(120),
  /**
   * Opening a backend (loading a checkpoint or an engine, torch.compile's first call) may take this long before its
   * worker is killed and the backend is degraded: a 7B checkpoint or max-autotune takes minutes.
   */
  open_timeout_s: z.number().positive().max(LIMITS.timeoutSeconds).default(600),
  /** Seeds the cell order of each repetition and the bootstrap, so a run can be repeated exactly. */
  seed: count(0, LIMITS.seed).default(118),
  accuracy: z
    .strictObject({
      enabled: z.boolean().default(true),
      /** Evaluation token ids (JSON array); default: inputs.tokens. Exclusive with text. */
      tokens: z.string().min(1).optional(),
      /** Evaluation text (UTF-8), tokenized with `tokenizer`. */
      text: z.string().min(1).optional(),
      /** "bytes" (UTF-8 bytes as ids) or a Hugging Face tokenizer.json. */
      tokenizer: z.string().min(1).optional(),
      max_tokens: count(1, LIMITS.maxTokens).default(4096),
      window: count(2, LIMITS.seqLen).default(256),
      stride: count(1, LIMITS.seqLen).default(128),
      /** Backend whose perplexity the others are compared with; default: the first fp32 backend that ran ok. */
      reference: backendName.optional(),
      /** Logits of one probe batch compared with the reference backend's. */
      parity: z
        .strictObject({
          enabled: z.boolean().default(true),
          batch: count(1, LIMITS.batch).default(2),
          seq_len: count(1, LIMITS.seqLen).default(64),
        })
        .prefault({}),
    })
    .prefault({}),
  thresholds: z
    .strictObject({
      /** Largest allowed |PPL − reference PPL| / reference PPL, per precision class. */
      perplexity_delta_fraction: z
        .strictObject({
          fp32: z.number().min(0).default(0.001),
          fp16: z.number().min(0).default(0.005),
          bf16: z.number().min(0).default(0.01),
          int8: z.number().min(0).default(0.02),
        })
        .prefault({}),
      /** Largest allowed share of degraded runs per cell (timeouts, errors, provider fallback), 0..1. */
      max_degraded_rate: z.number().min(0).max(1).default(0),
      /** Optional absolute ceiling on any backend's perplexity: catches a model that got worse everywhere at once. */
      max_perplexity: z.number().positive().optional(),
      /** Latency against a baseline (stored or same-run): fail only if large AND significant AND above the floor. */
      latency: z
        .strictObject({
          fail_fraction: z.number().positive().default(LATENCY_DEFAULTS.fail_fraction),
          warn_fraction: z.number().positive().default(LATENCY_DEFAULTS.warn_fraction),
          min_effect_ms: z.number().min(0).default(LATENCY_DEFAULTS.min_effect_ms),
          confidence: z.number().gt(0.5).lt(1).default(LATENCY_DEFAULTS.confidence),
          /** Stored baselines only: 95% of process-to-process shifts on this machine stay within ± this fraction. */
          between_runs_fraction: z.number().min(0).default(LATENCY_DEFAULTS.between_runs_fraction),
        })
        .prefault({}),
      /** Largest allowed rise of a cell's degraded rate against the baseline. */
      max_degraded_rate_increase: z.number().min(0).max(1).default(0),
      /** Optional logits-parity gates against the reference backend (unset: reported, not gated). */
      parity: z
        .strictObject({
          max_abs_logit_delta: z.number().min(0).optional(),
          min_top1_agreement: z.number().min(0).max(1).optional(),
        })
        .optional(),
    })
    .prefault({}),
  /** Resource limits of this run (docs/configuration.md "Memory"). */
  limits: z
    .strictObject({
      /**
       * A cell whose logits alone (batch × seq_len × vocab × 4 bytes) exceed this warns; beyond MEMORY_REFUSE_MULTIPLE
       * times it, the run is refused before measuring. Default: a fraction of this machine's memory (measure/memory.ts).
       */
      memory_budget_mib: z.number().positive().max(LIMITS.memoryBudgetMiB).optional(),
    })
    .prefault({}),
  /**
   * How the report answers "is another backend faster than the baseline backend while as accurate?" (README
   * "Config reference"). Optional rather than defaulted, so the raw config hashed into the manifest stays as it was.
   */
  report: z
    .strictObject({
      /** The backend the others' speed-up is measured against; default: accuracy.reference (as chosen in the run). */
      baseline_backend: backendName.optional(),
    })
    .optional(),
  /** What the run is compared with (docs/verdict.md "The verdict"). */
  compare: z
    .strictObject({
      /** Same-run A/B: this ONNX is measured interleaved with model.onnx on every onnxruntime backend. */
      base_model: z.string().min(1).optional(),
      /** Same-run A/B on pytorch backends: this checkpoint folder is measured interleaved with model.hf. */
      base_hf: z.string().min(1).optional(),
      /** A stored baseline (an earlier results.json); --baseline overrides. */
      baseline: z.string().min(1).optional(),
      /** Compare cells even when machine or runtime differ (the differences are still reported). */
      allow_environment_change: z.boolean().default(false),
      missing_cell: z.enum(['warn', 'fail']).default('warn'),
      /**
       * What a latency regression against a stored baseline counts as. Default warn: two separate processes on a
       * shared machine drift apart by more than real regressions (docs/verdict.md "Gate quality, measured"); same-run A/B fails.
       */
      stored_regression: z.enum(['warn', 'fail']).default('warn'),
      /** A corrupted, truncated or unknown-version baseline: an error (exit 2), or a run with no baseline. */
      on_bad_baseline: z.enum(['error', 'no-baseline']).default('error'),
    })
    .prefault({}),
});

/** The config as written (after defaults), before paths are resolved and presets expanded. */
export type RawConfig = z.infer<typeof configSchema>;
