/**
 * Content hashes of plain values: the config hash in the manifest, and the fingerprint hash that says whether two
 * cells are comparable. On the floor of both users (gate/ and report/), so neither imports the other. Pure.
 */
import { createHash } from 'node:crypto';

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

/**
 * The evaluation tokens' identity: sha256 of their JSON array text (`[464,3290,…]`), hex. Two accuracy results are
 * comparable only when they scored the same ids (gate/compare.ts); a file's path says nothing about its content.
 */
export function tokensSha256(tokens: readonly number[]): string {
  return createHash('sha256').update(JSON.stringify(tokens)).digest('hex');
}

/** sha256 of canonicalJson(value), hex. */
export function configHash(config: unknown): string {
  return createHash('sha256').update(canonicalJson(config)).digest('hex');
}
