/**
 * What an engine family is to the rest of the program: everything tr118 knows about one kind of engine, declared in
 * one folder (engines/<family>/index.ts) and listed once, in engines/registry.ts. Nothing outside a family's folder
 * and the registry names a family: config resolution, backend creation, preparation before the matrix, the
 * comparability of two results and the report's artifact rows all go through these declarations.
 */
import type { z } from 'zod';
import type { WorkerLaunch } from '../backends/process-backend.js';
import type { SessionInfo } from '../backends/protocol.js';
import type { Backend, Side } from '../backends/types.js';
import type { WorkerPool } from '../backends/worker-pool.js';
import type { ArtifactStore } from '../cache/store.js';
import type { DeepReadonly } from '../deep-readonly.js';
import type { Precision } from './spec.js';

/** A session's info as results.json keeps it (read-only all the way down). */
export type SessionView = DeepReadonly<SessionInfo>;

/** The resolved fields every family's spec has (engines/spec.ts commonSpecShape, plus the family's name). */
export interface CommonSpec {
  readonly name: string;
  readonly engine: string;
  readonly precision: Precision;
  readonly deviceId: number;
  readonly intraOpThreads: number;
  readonly interOpThreads: number;
  readonly modelPath: string;
  readonly logitsOutput: string;
}

/**
 * A backend object of the config after its schema, with its preset's keys under it: the common keys
 * (engines/spec.ts commonBackendKeys), `engine`, and the keys of whichever family declares them (snake_case).
 */
export interface BackendEntry {
  readonly name: string;
  readonly engine?: string;
  readonly precision?: Precision;
  readonly device_id?: number;
  readonly intra_op_threads?: number;
  readonly inter_op_threads?: number;
  readonly model?: string;
  readonly [key: string]: unknown;
}

/** A preset: what a backend name written alone (`- transformers-gpu`) means, in the config's own keys. */
export type Preset = Readonly<{ engine: string } & Record<string, string | number | boolean>>;

export interface ResolveContext {
  /** The entry's place in the config: errors point at backends[index]. */
  readonly index: number;
  /** model.onnx (resolved; a placeholder while model.hf is being exported), model.logits_output, model.hf. */
  readonly onnxPath: string;
  readonly logitsOutput: string;
  readonly hfPath: string | undefined;
  readonly trustPickle: boolean;
  /** model.allowed_weight_differences (the checkpoint's loaders check its weights against its config.json). */
  readonly allowedWeightDifferences: readonly string[];
  /** A path as the config writes it, resolved against the config's folder. */
  readonly resolvePath: (written: string) => string;
  /** A config error at keyPath: the message says what was expected. */
  readonly fail: (keyPath: readonly (string | number)[], message: string) => never;
}

/** A backend to open, or why there is none (nothing is started then, and no figure exists). */
export type Created =
  | { readonly backend: Backend }
  /** Cannot run on this machine (no GPU, no provider library, no Python). */
  | { readonly unavailable: string }
  /** Asked to run, but what it runs could not be made (an engine whose build failed). */
  | { readonly degraded: string };

export interface CreateContext {
  readonly env: NodeJS.ProcessEnv;
  /** Where the search for a project's .venv starts (the config's folder). */
  readonly pythonSearchFrom: string;
  /** Test hooks: the worker to start instead of the Node one, or instead of the native (Python) one. */
  readonly nodeWorker?: WorkerLaunch | undefined;
  readonly nativeWorker?: WorkerLaunch | undefined;
  /** Same-run A/B: what the worker opens as the base, per the family's sameRunBase (an ONNX file or a checkpoint). */
  readonly base?: string | undefined;
  /** How long opening a session (loading, compiling) may take before the worker is killed. */
  readonly openTimeoutMs: number;
  /**
   * Where a family keeps what a session makes for the next run (torch.compile's caches), and the sha256 of the
   * run's checkpoints by folder (hashed before the matrix). Absent: nothing is kept. The store is opened when a
   * family first asks (opening makes its folder, which a run that keeps nothing must not need).
   */
  readonly artifactStore?: (() => ArtifactStore) | undefined;
  readonly checkpointSha256?: ReadonlyMap<string, string> | undefined;
  /** Test hook: this machine's torch version and device names, instead of asking Python and nvidia-smi. */
  readonly compileCacheFacts?: CompileCacheFacts | undefined;
  /** Worker processes the pipeline started while the export ran: a backend takes the one for its launch. */
  readonly workerPool?: WorkerPool | undefined;
}

/** This machine's facts a torch.compile cache key needs; each may be unknown (then nothing is cached, and said). */
export interface CompileCacheFacts {
  torchVersion(): Promise<string | undefined>;
  deviceName(device: 'cpu' | 'cuda', deviceId: number): Promise<string | undefined>;
}

/** What a family's preparation made for one backend (and, in same-run A/B, for its base), or why nothing. */
export type Preparation<A> =
  | { readonly ready: A; readonly base?: A | undefined }
  | { readonly unavailable: string }
  | { readonly degraded: string };

/** Every artifact a family prepares is kept in the artifact cache and said in the report's artifact line. */
export interface ArtifactRecord {
  readonly backend: string;
  /** Whose model it was made from: the candidate's, or the same-run base model's. */
  readonly side: Side;
  /** hit: the cached one was used; restored: from the Actions cache; built: made by this run. */
  readonly cache: 'hit' | 'restored' | 'built';
  /** The build's own time, recorded when it was made: what a hit saved. */
  readonly buildMs: number;
  /** Why a cached one was not used (corrupt or truncated: evicted and rebuilt). */
  readonly corrupt: string | null;
  /**
   * What the run's notes must say about how it was made, when it is not what was asked for and yet runs (ONNX
   * Runtime's transformer optimizer did not know the model type: the file runs unfused).
   */
  readonly note?: string | null | undefined;
}

/** [batch, sequence] of one forward pass. */
export type Shape = readonly [number, number];

export interface PrepareContext {
  readonly store: ArtifactStore;
  /** The native Python worker, or why there is none (no Python found). */
  readonly launch: WorkerLaunch | { readonly missing: string };
  /** sha256 of a model file (the pipeline has hashed most of them already). */
  readonly sha256Of: (file: string) => Promise<string>;
  /** Every pass the run will make: the timed scenarios, and the perplexity windows and parity probe. */
  readonly shapes: { readonly timed: readonly Shape[]; readonly other: readonly Shape[] };
  /** Token ids from the evaluation text (int8 calibration reads them). */
  readonly calibrationTokens: readonly number[];
  /** Same-run A/B (compare.base_model): each backend's base is made from this ONNX file too. */
  readonly baseModelPath?: string | undefined;
  /**
   * model.hf, when the file is the run's model.onnx (its export, or a file the config names beside it: one model);
   * undefined for other files (a backend's own `model`).
   */
  readonly checkpointOf?: ((onnxPath: string) => string | undefined) | undefined;
  readonly log?: ((line: string) => void) | undefined;
}

/** A table of plain text cells for the report (report.md and report.html escape and lay them out). */
export interface ArtifactTable {
  readonly title: string;
  readonly note?: string;
  readonly header: readonly string[];
  readonly rows: readonly (readonly string[])[];
}

/** The fields that make two results comparable: equal everywhere, or the cells are not compared. */
export type Comparability = Readonly<Record<string, string | number>>;

export interface EngineFamily<S extends CommonSpec = CommonSpec, A extends ArtifactRecord = ArtifactRecord> {
  /** `engine:` in the config, `spec.engine` in results. */
  readonly name: S['engine'];
  /** The spec this family's backends resolve to, as its worker receives it in `open` (the one definition). */
  readonly specSchema: z.ZodType<S, unknown>;
  /** The backend keys only this family reads, snake_case as in the config, with their schemas. */
  readonly configKeys: z.ZodRawShape;
  readonly presets: Readonly<Record<string, Preset>>;
  /** Same-run A/B: which compare key names this family's base (an ONNX file, or a checkpoint folder). */
  readonly sameRunBase: 'base_model' | 'base_hf';
  /** A config entry (preset keys under it) → the spec; a key that does not fit is a config error (ctx.fail). */
  resolve(entry: BackendEntry, ctx: ResolveContext): S;
  /** Availability and launch: a Backend to open, or why there is none. */
  create(spec: S, ctx: CreateContext, prepared: Preparation<A> | undefined): Created;
  /**
   * The process a backend's worker will run, known from the spec alone (before the export, variant or engine its
   * model is): the pipeline starts it early and create()'s backend takes it (backends/worker-pool.ts). The same
   * recipe create() uses. Undefined: nothing to start (the backend cannot run here; create() says why).
   */
  workerLaunch?(spec: S, ctx: CreateContext): WorkerLaunch | undefined;
  /**
   * What changes this family's numbers, beside the machine and the pass shape (gate/fingerprint.ts adds those):
   * two cells are compared only when every field is equal, and a difference is named in the verdict.
   */
  comparability(spec: S, session: SessionView | null, artifact: A | undefined): Comparability;
  /** The report's words for a backend's own settings (beside its name, engine and precision). */
  settings(spec: S): string;
  /**
   * A line per opened backend that the report lists under `heading` (ONNX Runtime: where the graph's nodes ran);
   * undefined for a session with nothing to say.
   */
  readonly sessionNotes?: {
    readonly heading: string;
    note(session: SessionView): string | undefined;
  };
  /** After `open`: a reason the session cannot give the figure asked for (the backend is then degraded). */
  checkOpened?(spec: S, session: SessionInfo): string | undefined;
  /** The checkpoint folder a backend loads, when it loads one (checked and hashed before anything runs). */
  checkpointOf?(spec: S): string | undefined;
  /**
   * Whether a backend compiles on its first pass of each new shape (torch.compile: seconds, where a pass takes
   * milliseconds): with `warmup: 0` that pass would be a timed one, and the run says so.
   */
  firstPassCompiles?(spec: S): boolean;
  /** Whether a backend needs ONNX Runtime's GPU provider libraries (provisioned by `tr118 provision`). */
  needsGpuProviders?(spec: S): boolean;
  /**
   * The device whose queue a backend's session open shares (`cuda:0`): opens on one queue run one after another,
   * others concurrently (measure/runner.ts). Absent or undefined: a CPU session, opened beside the others.
   */
  openQueue?(spec: S): string | undefined;
  /** The accuracy gate's preferred reference: the model every export is held to (fp32 PyTorch on the CPU). */
  isAccuracyTruth?(spec: S): boolean;
  /** Before the matrix: what this family's backends open (TensorRT engines), from the artifact cache or built. */
  prepare?(specs: readonly S[], ctx: PrepareContext): Promise<Map<string, Preparation<A>>>;
  /** Whether this backend has something made before the matrix (absent: every backend of a family with prepare). */
  needsPreparation?(spec: S): boolean;
  /** The artifact store's kinds a family's sessions keep for the next run (torch.compile's caches). */
  readonly sessionKinds?: readonly string[];
  /** What prepare makes, for results.json and the report. */
  readonly artifacts?: {
    /** results.json's key for the records (engines/registry.ts puts them in the results schema). */
    readonly resultsKey: string;
    /** The artifact store's kind (folder) of these artifacts (`tr118 cache ls --kind`). */
    readonly kind: string;
    readonly recordSchema: z.ZodType<A, unknown>;
    /** One artifact in words, for the report's artifact line: "the TensorRT engine of tensorrt-fp16". */
    describe(record: A): string;
    /** The log line when it is ready. */
    logLine(record: A): string;
    /** The report's table of them (the seed's "TensorRT Build Overhead"). */
    table(records: readonly A[]): ArtifactTable | null;
  };
}
