/**
 * The engine families, listed once: the only place that names them all. Everything that depends on which families
 * exist (the config's backend keys and presets, the spec schema of results.json, backend creation, preparation
 * before the matrix, comparability) is derived from this list. A new family is a folder under engines/ and a line
 * here.
 */
import { z } from 'zod';
import type { WorkerLaunch } from '../backends/process-backend.js';
import type {
  ArtifactRecord,
  BackendEntry,
  CommonSpec,
  Comparability,
  Created,
  CreateContext,
  EngineFamily,
  Preparation,
  PrepareContext,
  ResolveContext,
  SessionView,
} from './family.js';
import { onnxruntime } from './onnxruntime/index.js';
import { pytorch } from './pytorch/index.js';
import { commonBackendKeys } from './spec.js';
import { tensorrt } from './tensorrt/index.js';

/** Every family. Method members of EngineFamily compare bivariantly, so each one's own spec type fits here. */
export const FAMILIES: readonly EngineFamily[] = [onnxruntime, pytorch, tensorrt];

/** The engine names the config accepts (`engine:`), in the registry's order. */
export const ENGINE_NAMES = FAMILIES.map((f) => f.name) as [string, ...string[]];

/** A resolved backend of any family: what results.json holds and the worker receives in `open`. */
export const backendSpecSchema = z.union([onnxruntime.specSchema, pytorch.specSchema, tensorrt.specSchema]);
export type BackendSpec = z.output<typeof backendSpecSchema>;

/** What the families prepare before the matrix, by results.json key (each family's records schema). */
export const artifactResultsShape = {
  engines: z.array(tensorrt.artifacts!.recordSchema).optional(),
  onnxVariants: z.array(onnxruntime.artifacts!.recordSchema).optional(),
};

export function familyOf(spec: { readonly engine: string }): EngineFamily {
  const family = FAMILIES.find((f) => f.name === spec.engine);
  if (!family) throw new Error(`no engine family ${JSON.stringify(spec.engine)} (known: ${ENGINE_NAMES.join(', ')})`);
  return family;
}

function mergeOnce<V>(
  what: string,
  parts: readonly (readonly [string, Readonly<Record<string, V>>])[],
): Map<string, V> {
  const merged = new Map<string, V>();
  const owner = new Map<string, string>();
  for (const [family, record] of parts) {
    for (const [key, value] of Object.entries(record)) {
      const first = owner.get(key);
      if (first !== undefined) throw new Error(`${what} ${key} is declared by both ${first} and ${family}`);
      owner.set(key, family);
      merged.set(key, value);
    }
  }
  return merged;
}

/** Backend names written alone in a config, and what each means (every family's presets; a name is one family's). */
export const PRESETS = mergeOnce(
  'preset',
  FAMILIES.map((f) => [f.name, f.presets] as const),
);

/** The backend keys a family reads beyond the common ones, with the family that owns each. */
const FAMILY_KEYS = mergeOnce(
  'backend key',
  FAMILIES.map(
    (f) => [f.name, Object.fromEntries(Object.entries(f.configKeys).map(([k, v]) => [k, { v, f }]))] as const,
  ),
);
for (const key of FAMILY_KEYS.keys()) {
  if (key in commonBackendKeys || key === 'engine') throw new Error(`backend key ${key} is common; no family owns it`);
}

/** A backend object's schema: the common keys, `engine`, and every family's own keys. */
const { name: nameKey, ...otherCommonKeys } = commonBackendKeys;
export const backendObjectShape: z.ZodRawShape = {
  name: nameKey,
  engine: z.enum(ENGINE_NAMES).optional(),
  ...Object.fromEntries([...FAMILY_KEYS].map(([key, { v }]) => [key, v])),
  ...otherCommonKeys,
};

/**
 * A backend entry (a preset name, or an object naming a preset or an engine) → its spec. Config errors name the entry:
 * an unknown preset, no engine, a key another family owns, and whatever the family itself refuses.
 */
export function resolveBackend(written: string | BackendEntry, ctx: ResolveContext): CommonSpec {
  const name = typeof written === 'string' ? written : written.name;
  const preset = PRESETS.get(name);
  if (typeof written === 'string' && !preset) {
    return ctx.fail(
      ['backends', ctx.index],
      `unknown backend ${JSON.stringify(name)}; expected one of ${[...PRESETS.keys()].join(', ')}, or an object with name and engine`,
    );
  }
  const own = typeof written === 'string' ? { name } : written;
  const engine = own.engine ?? preset?.engine;
  if (engine === undefined) {
    return ctx.fail(
      ['backends', ctx.index, 'engine'],
      `backend ${JSON.stringify(name)} is not a known preset, so it needs an engine: expected one of ${ENGINE_NAMES.join(', ')}`,
    );
  }
  for (const key of Object.keys(own)) {
    const owner = FAMILY_KEYS.get(key)?.f.name;
    if (owner !== undefined && owner !== engine) {
      ctx.fail(
        ['backends', ctx.index, key],
        `${key} applies only to engine ${owner}; backend ${JSON.stringify(name)} uses engine ${engine}`,
      );
    }
  }
  // A preset of another family is only its name here: its keys are not this engine's.
  const base = preset && preset.engine === engine ? preset : {};
  return familyOf({ engine }).resolve({ ...base, ...own, name, engine }, ctx);
}

export interface FactoryOptions extends Omit<CreateContext, 'base'> {
  /** Same-run A/B: the base ONNX file (compare.base_model) and the base checkpoint (compare.base_hf). */
  readonly baseModelPath?: string | undefined;
  readonly baseCheckpointPath?: string | undefined;
  /** What prepare made, by backend name. */
  readonly prepared?: ReadonlyMap<string, Preparation<ArtifactRecord>> | undefined;
}

/** What a caller may set of FactoryOptions (tests: another worker); the runner fills in the rest. */
export type BackendOptions = Partial<FactoryOptions>;

export function createBackend(spec: CommonSpec, options: FactoryOptions): Created {
  const family = familyOf(spec);
  const base = family.sameRunBase === 'base_hf' ? options.baseCheckpointPath : options.baseModelPath;
  return family.create(spec, { ...options, base }, options.prepared?.get(spec.name));
}

/** The worker process a backend will run, to start before its model exists (engines/family.ts workerLaunch). */
export function workerLaunchOf(spec: CommonSpec, options: FactoryOptions): WorkerLaunch | undefined {
  const family = familyOf(spec);
  const base = family.sameRunBase === 'base_hf' ? options.baseCheckpointPath : options.baseModelPath;
  return family.workerLaunch?.(spec, { ...options, base });
}

/** Every family's preparation of its backends (TensorRT engines), by backend name. */
export async function prepareBackends(
  specs: readonly CommonSpec[],
  ctx: PrepareContext,
): Promise<Map<string, Preparation<ArtifactRecord>>> {
  const prepared = new Map<string, Preparation<ArtifactRecord>>();
  for (const family of FAMILIES) {
    const own = specs.filter((s) => s.engine === family.name);
    if (!family.prepare || own.length === 0) continue;
    for (const [name, p] of await family.prepare(own, ctx)) prepared.set(name, p);
  }
  return prepared;
}

/** Whether any of these backends has something made before the matrix. */
export function needsPreparation(specs: readonly CommonSpec[]): boolean {
  return specs.some((s) => {
    const family = familyOf(s);
    return family.prepare !== undefined && (family.needsPreparation?.(s) ?? true);
  });
}

export function comparabilityOf(
  spec: CommonSpec,
  session: SessionView | null,
  artifact: ArtifactRecord | undefined,
): Comparability {
  return familyOf(spec).comparability(spec, session, artifact);
}

/** The family's description of a prepared artifact, for the report's artifact line and the log. */
export function describeArtifact(spec: { readonly engine: string }, record: ArtifactRecord): string {
  return familyOf(spec).artifacts?.describe(record) ?? `the artifact of ${record.backend}`;
}

/** Whether a backend compiles on its first pass of each new shape (its family decides: torch.compile). */
export function firstPassCompiles(spec: CommonSpec): boolean {
  return familyOf(spec).firstPassCompiles?.(spec) ?? false;
}

/** Whether a backend is the accuracy gate's preferred reference (its family decides: fp32 PyTorch on the CPU). */
export function isAccuracyTruth(spec: CommonSpec): boolean {
  return familyOf(spec).isAccuracyTruth?.(spec) ?? false;
}

type ArtifactResults = {
  -readonly [K in keyof typeof artifactResultsShape]?: z.output<(typeof artifactResultsShape)[K]>;
};

/** Prepared records as results.json holds them: each family's under its key (tensorrt's: `engines`). */
export function artifactResults(specs: readonly CommonSpec[], records: readonly ArtifactRecord[]): ArtifactResults {
  const out: Record<string, ArtifactRecord[]> = {};
  for (const family of FAMILIES) {
    if (!family.artifacts) continue;
    const own = new Set(specs.filter((s) => s.engine === family.name).map((s) => s.name));
    const mine = records.filter((r) => own.has(r.backend));
    if (mine.length > 0) out[family.artifacts.resultsKey] = mine;
  }
  return out;
}

/** Every prepared record in a results object, with its family (for the report's artifact line and tables). */
export function artifactsIn(
  results: Readonly<Record<string, unknown>>,
): { readonly family: EngineFamily; readonly records: readonly ArtifactRecord[] }[] {
  return FAMILIES.flatMap((family) => {
    const records = family.artifacts
      ? (results[family.artifacts.resultsKey] as ArtifactRecord[] | undefined)
      : undefined;
    return records && records.length > 0 ? [{ family, records }] : [];
  });
}

/** The report's words for a backend's own settings (its family's). */
export function settingsOf(spec: CommonSpec): string {
  return familyOf(spec).settings(spec);
}

/** The report's notes on opened sessions, grouped under each family's heading (ONNX Runtime: node placement). */
export function sessionNotesOf(
  backends: readonly { readonly spec: CommonSpec; readonly session: SessionView | null }[],
): { readonly heading: string; readonly lines: { readonly backend: string; readonly note: string }[] }[] {
  return FAMILIES.flatMap((family) => {
    const notes = family.sessionNotes;
    if (!notes) return [];
    const lines = backends.flatMap((b) => {
      const note = b.spec.engine === family.name && b.session ? notes.note(b.session) : undefined;
      return note === undefined ? [] : [{ backend: b.spec.name, note }];
    });
    return lines.length > 0 ? [{ heading: notes.heading, lines }] : [];
  });
}

/** The checkpoint folder a backend loads, if its family loads one (PyTorch). */
export function checkpointOf(spec: CommonSpec): string | undefined {
  return familyOf(spec).checkpointOf?.(spec);
}

/**
 * The device queue a backend's session open waits in (`cuda:0`), or undefined for one that opens beside every other
 * (CPU sessions: their open is process start, imports and reading weights, which overlap even on two cores).
 */
export function openQueueOf(spec: CommonSpec): string | undefined {
  return familyOf(spec).openQueue?.(spec);
}

/** Whether any of these backends needs ONNX Runtime's GPU provider libraries (`tr118 provision`). */
export function needsGpuProviders(specs: readonly CommonSpec[]): boolean {
  return specs.some((s) => familyOf(s).needsGpuProviders?.(s) ?? false);
}

/** The artifact store's kinds that the families make (beside the ONNX export), before the matrix or by sessions. */
export function artifactKinds(): string[] {
  return FAMILIES.flatMap((f) => [...(f.artifacts ? [f.artifacts.kind] : []), ...(f.sessionKinds ?? [])]);
}
