/** Resolved backend specs for tests that drive a worker or a session directly (no config around them). */
import type { ResolveContext } from '../../src/engines/family.js';
import { resolveBackend, type BackendSpec } from '../../src/engines/registry.js';
import type { OrtSpec } from '../../src/engines/onnxruntime/spec.js';
import { DEFAULT_LOGITS_OUTPUT } from '../../src/engines/spec.js';

/** What resolving a preset needs, for a model file and no config file. */
export function resolveContext(onnxPath: string, hfPath?: string): ResolveContext {
  return {
    index: 0,
    onnxPath,
    logitsOutput: DEFAULT_LOGITS_OUTPUT,
    hfPath,
    trustPickle: false,
    allowedWeightDifferences: [],
    resolvePath: (p) => p,
    fail: (keyPath, message) => {
      throw new Error(`${keyPath.join('.')}: ${message}`);
    },
  };
}

/** A preset (or a backend object) as the config would resolve it, for `modelPath`. */
export function specOf(entry: Parameters<typeof resolveBackend>[0], modelPath: string, hfPath?: string): BackendSpec {
  return resolveBackend(entry, resolveContext(modelPath, hfPath)) as BackendSpec;
}

/** onnxruntime-cpu on `modelPath`, with `changes` over it. */
export function ortCpuSpec(modelPath: string, changes: Partial<OrtSpec> = {}): OrtSpec {
  return { ...(specOf('onnxruntime-cpu', modelPath) as OrtSpec), ...changes };
}
