/** The run manifest: what ran, where, with which versions, when. Pure. */
import { createHash } from 'node:crypto';
import type { Results } from '../results/schema.js';

/** Key-sorted JSON, so the same config always hashes the same whatever the key order in the YAML. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

export function configHash(config: unknown): string {
  return createHash('sha256').update(canonicalJson(config)).digest('hex');
}

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
    },
    verdict: results.verdict.decision,
    files,
  };
}
