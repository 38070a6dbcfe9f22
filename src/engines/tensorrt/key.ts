/** The artifact key of a TensorRT engine. Pure. */
import { artifactKey, byName, type ArtifactKey } from '../../cache/keys.js';

/** The artifact store's kind (folder) of TensorRT engines. */
export const ENGINE_KIND = 'tensorrt-engine';

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
  /** How the precision was reached, e.g. `tensorrt10-builder-flag-fp16`, `tensorrt11-strongly-typed-fp16`. */
  readonly precisionPath: string;
  readonly profiles: readonly ProfileShape[];
  /** Builder settings (workspace size, calibration data sha256, …), as the builder takes them. */
  readonly builder: Readonly<Record<string, unknown>>;
}

/**
 * The engine key. Profiles are one per network input and sorted by input name (TensorRT binds them by name, so the
 * order they were listed in does not change the engine).
 */
export function engineKey(inputs: EngineKeyInputs): ArtifactKey {
  return artifactKey(ENGINE_KIND, {
    onnxSha256: inputs.onnxSha256,
    tensorrtVersion: inputs.tensorrtVersion,
    computeCapability: inputs.computeCapability,
    precisionPath: inputs.precisionPath,
    profiles: [...inputs.profiles]
      .map((p) => ({ input: p.input, min: [...p.min], opt: [...p.opt], max: [...p.max] }))
      .sort(byName((p) => p.input)),
    builder: { ...inputs.builder },
  });
}
