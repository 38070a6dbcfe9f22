/**
 * Content keys of built artifacts (ONNX exports, engines). An artifact is made from something the config names
 * once per content, and the matrix measures the artifact. A key is the sha256 of the canonical JSON (sorted keys, no
 * whitespace) of everything the artifact's bytes depend on, so equal inputs find the same entry on any machine, and
 * those inputs are stored beside the artifact (key.json) for a person to read. Each owner of a kind says what goes
 * into its key (model/export-key.ts, engines/<family>/). Pure.
 */
import { createHash } from 'node:crypto';
import { canonicalJson } from '../hash.js';

/**
 * Bumped when the meaning of a key's inputs changes (a field added or reinterpreted), so that entries made by an
 * older tr118 are never taken for the new ones.
 */
export const KEY_SCHEMA = 1;

export interface ArtifactKey<I = Readonly<Record<string, unknown>>> {
  /** sha256 hex of canonicalJson(inputs). */
  readonly key: string;
  /** Exactly what was hashed: written to key.json beside the artifact. */
  readonly inputs: I;
}

/** The key of an artifact of `kind` (the store's folder name) made from `fields`. */
export function artifactKey<F extends Readonly<Record<string, unknown>>>(
  kind: string,
  fields: F,
): ArtifactKey<{ readonly kind: string; readonly schema: number } & F> {
  const inputs = { kind, schema: KEY_SCHEMA, ...fields };
  return { key: createHash('sha256').update(canonicalJson(inputs)).digest('hex'), inputs };
}

/** A comparator by a name: lists that a key holds are sorted, so the order they were given in does not count. */
export const byName =
  <T>(name: (t: T) => string) =>
  (a: T, b: T): number =>
    name(a) < name(b) ? -1 : name(a) > name(b) ? 1 : 0;
