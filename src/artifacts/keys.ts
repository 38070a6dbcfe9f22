/**
 * Content keys of built artifacts (ONNX exports, TensorRT engines). Artifacts sit between the config and the
 * matrix, like provisioning: the config names a checkpoint or an ONNX file, an artifact is made from it once per
 * content, and the matrix measures the artifact. A key is the sha256 of the canonical JSON (sorted keys, no
 * whitespace) of everything the artifact's bytes depend on, so equal inputs find the same entry on any machine, and
 * those inputs are stored beside the artifact (key.json) for a person to read. Pure.
 */
import { createHash } from 'node:crypto';
import { canonicalJson } from '../model/hash.js';

/**
 * Bumped when the meaning of a key's inputs changes (a field added or reinterpreted), so that entries made by an
 * older tr118 are never taken for the new ones.
 */
export const KEY_SCHEMA = 1;

/** The kinds of artifact, as the store's folders and the keys' `kind` name them. */
export const ARTIFACT_KIND = { onnxExport: 'onnx-export', tensorrtEngine: 'tensorrt-engine' } as const;
export type ArtifactKind = (typeof ARTIFACT_KIND)[keyof typeof ARTIFACT_KIND];

export interface KeyedFile {
  /** The file's name inside the checkpoint folder (config.json, model.safetensors, model-00001-of-00002.safetensors). */
  readonly path: string;
  readonly sha256: string;
  readonly bytes: number;
}

/**
 * What an ONNX export's bytes depend on. The checkpoint counts by config.json and its weight files only (as
 * checkCheckpoint lists them): the exported graph returns logits, so the tokenizer and generation_config files,
 * which change neither the graph nor the weights, do not change the key.
 */
export interface ExportKeyInputs {
  readonly checkpointFiles: readonly KeyedFile[];
  readonly settings: {
    readonly opset: number;
    readonly dynamic: boolean;
    readonly int32Inputs: boolean;
    /** e.g. `torchscript` or `dynamo`: the two write different graphs from one model. */
    readonly exporter: string;
  };
  readonly versions: { readonly torch: string; readonly transformers: string; readonly onnx: string };
}

/** One input's optimization profile: shapes as [batch, sequence] and so on. */
export interface ProfileShape {
  readonly input: string;
  readonly min: readonly number[];
  readonly opt: readonly number[];
  readonly max: readonly number[];
}

/** What a TensorRT engine's bytes depend on. An engine only runs on the TensorRT version and GPU it was built for. */
export interface EngineKeyInputs {
  readonly onnxSha256: string;
  readonly tensorrtVersion: string;
  /** e.g. `9.0` (H100/H200). */
  readonly computeCapability: string;
  /** How the precision was reached, e.g. `fp16-builder-flag`, `int8-calibrated`, `fp16-strongly-typed`. */
  readonly precisionPath: string;
  readonly profiles: readonly ProfileShape[];
  /** Builder settings (workspace size, optimization level, calibration cache sha256, …), as the builder takes them. */
  readonly builder: Readonly<Record<string, unknown>>;
}

export type ArtifactKeyInputs =
  | ({ readonly kind: typeof ARTIFACT_KIND.onnxExport; readonly schema: number } & ExportKeyInputs)
  | ({ readonly kind: typeof ARTIFACT_KIND.tensorrtEngine; readonly schema: number } & EngineKeyInputs);

export interface ArtifactKey<I = ArtifactKeyInputs> {
  /** sha256 hex of canonicalJson(inputs). */
  readonly key: string;
  /** Exactly what was hashed: written to key.json beside the artifact. */
  readonly inputs: I;
}

function keyOf<I>(inputs: I): ArtifactKey<I> {
  return { key: createHash('sha256').update(canonicalJson(inputs)).digest('hex'), inputs };
}

const byName =
  <T>(name: (t: T) => string) =>
  (a: T, b: T) =>
    name(a) < name(b) ? -1 : name(a) > name(b) ? 1 : 0;

/** The export key. The files are sorted by name: the order they were listed in does not change the key. */
export function exportKey(inputs: ExportKeyInputs): ArtifactKey {
  return keyOf({
    kind: ARTIFACT_KIND.onnxExport,
    schema: KEY_SCHEMA,
    checkpointFiles: [...inputs.checkpointFiles]
      .map((f) => ({ path: f.path, sha256: f.sha256, bytes: f.bytes }))
      .sort(byName((f) => f.path)),
    settings: { ...inputs.settings },
    versions: { ...inputs.versions },
  } as const);
}

/**
 * The engine key. Profiles are one per network input and sorted by input name (TensorRT binds them by name, so the
 * order they were listed in does not change the engine).
 */
export function engineKey(inputs: EngineKeyInputs): ArtifactKey {
  return keyOf({
    kind: ARTIFACT_KIND.tensorrtEngine,
    schema: KEY_SCHEMA,
    onnxSha256: inputs.onnxSha256,
    tensorrtVersion: inputs.tensorrtVersion,
    computeCapability: inputs.computeCapability,
    precisionPath: inputs.precisionPath,
    profiles: [...inputs.profiles]
      .map((p) => ({ input: p.input, min: [...p.min], opt: [...p.opt], max: [...p.max] }))
      .sort(byName((p) => p.input)),
    builder: { ...inputs.builder },
  } as const);
}
