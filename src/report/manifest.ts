/** The run manifest: what ran, where, with which versions, when. Pure. */
import { configHash } from '../hash.js';
import type { Results } from '../results/schema.js';

export function buildManifest(results: Results, files: Readonly<Record<string, string>>): Record<string, unknown> {
  const env = results.environment;
  return {
    tool: results.tool,
    schemaVersion: results.schemaVersion,
    startedAt: results.startedAt,
    finishedAt: results.finishedAt,
    durationSeconds: results.durationSeconds,
    // The measured repository's commit; `dirty` says when uncommitted changes ran too.
    git: results.git,
    config: { source: results.configSource, sha256: configHash(results.config) },
    model: results.model,
    versions: { node: env.nodeVersion, onnxruntime: env.onnxruntimeVersion, tr118: env.toolVersion },
    machine: {
      os: env.os,
      cpuModel: env.cpuModel,
      cpuCount: env.cpuCount,
      totalMemoryMiB: env.totalMemoryMiB,
      gpus: env.gpus,
      gpuNote: env.gpuNote,
      // Clocks, heat, power and throttle reasons before and after the matrix; null where not recorded.
      gpuState: env.gpuState ?? null,
    },
    verdict: results.verdict.decision,
    files,
  };
}
