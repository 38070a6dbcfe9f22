/**
 * Precision variants of the fp32 ONNX file, as backends of their own (issue 22): `onnxruntime-cpu-int8` (dynamic
 * int8 quantization of the MatMul weights) and `onnxruntime-cuda-fp16` (float16, fp32 inputs and outputs kept), each
 * derived before the matrix by the native worker (`derive`, native/tr118_native/worker/derive.py) with ONNX
 * Runtime's own tools, and kept in the artifact store under its own key: the fp32 file's sha256 (which the export
 * key determines when model.hf was exported), the transform, and the onnxruntime / onnx versions that made it. The
 * variant is gated like any backend, by its precision's perplexity threshold against the fp32 reference.
 */
import path from 'node:path';
import { z } from 'zod';
import { oneShot } from '../../backends/one-shot.js';
import type { WorkerLaunch } from '../../backends/process-backend.js';
import { pythonPackageVersions } from '../../backends/python-packages.js';
import { artifactKey, type ArtifactKey } from '../../cache/keys.js';
import type { ArtifactTable, Preparation, PrepareContext } from '../family.js';
import { ORT_VARIANTS, type OrtSpec, type OrtVariant } from './spec.js';

/** The artifact store's kind (folder) of derived ONNX files. */
export const VARIANT_KIND = 'onnx-variant';
export const VARIANT_FILE = 'model.onnx';
/** What a variant needs in the worker's Python (the light set pins them). */
export const VARIANT_PIP_PACKAGES = 'onnx==1.23.2 onnxruntime==1.32.0';

const toolVersions = z.object({ onnxruntime: z.string().min(1), onnx: z.string().min(1) });
export type ToolVersions = z.infer<typeof toolVersions>;

export const deriveRequestSchema = z.object({
  type: z.literal('derive'),
  /** The fp32 ONNX file (model.onnx or the export of model.hf). */
  sourcePath: z.string(),
  /** A folder the caller owns (the artifact store's temporary folder): the variant is written there as model.onnx. */
  outPath: z.string(),
  transform: z.enum(ORT_VARIANTS),
});
export type DeriveRequest = z.infer<typeof deriveRequestSchema>;

export const derivedReplySchema = z.object({
  type: z.literal('derived'),
  id: z.int(),
  file: z.string(),
  bytes: z.int().nonnegative(),
  transform: z.enum(ORT_VARIANTS),
  deriveMs: z.number().nonnegative(),
  versions: toolVersions,
});

/** What a variant's bytes depend on. */
export function variantKey(inputs: {
  readonly sourceSha256: string;
  readonly transform: OrtVariant;
  readonly versions: ToolVersions;
}): ArtifactKey {
  return artifactKey(VARIANT_KIND, {
    sourceSha256: inputs.sourceSha256,
    transform: inputs.transform,
    versions: { onnxruntime: inputs.versions.onnxruntime, onnx: inputs.versions.onnx },
  });
}

/** The tool in words, for fingerprints and the report: "onnxruntime 1.32.0 quantize_dynamic (MatMul, QInt8)". */
export function toolOf(transform: OrtVariant, versions: ToolVersions): string {
  return transform === 'int8-dynamic'
    ? `onnxruntime ${versions.onnxruntime} quantize_dynamic (MatMul, QInt8)`
    : `onnxruntime ${versions.onnxruntime} convert_float_to_float16 (keep_io_types)`;
}

export const variantRecordSchema = z.object({
  backend: z.string(),
  side: z.enum(['candidate', 'base']),
  transform: z.enum(ORT_VARIANTS),
  sourcePath: z.string(),
  sourceSha256: z.string(),
  variantPath: z.string(),
  cache: z.enum(['hit', 'restored', 'built']),
  key: z.string(),
  buildMs: z.number().nonnegative(),
  bytes: z.int().nonnegative(),
  tool: z.string(),
  corrupt: z.string().nullable(),
});
export type VariantRecord = Readonly<z.infer<typeof variantRecordSchema>>;

const VERSIONS_TIMEOUT_MS = 120_000;
const DERIVE_TIMEOUT_MS = 30 * 60_000;

/** The worker Python's onnxruntime and onnx versions, from package metadata (no import: a hit stays fast). */
async function pythonToolVersions(launch: WorkerLaunch): Promise<ToolVersions | { unavailable: string }> {
  const answer = await pythonPackageVersions(launch, ['onnxruntime', 'onnx'], VERSIONS_TIMEOUT_MS);
  const parsed = answer.ok && answer.missing.length === 0 ? toolVersions.safeParse(answer.versions) : undefined;
  if (parsed?.success) return parsed.data;
  const install = `install them with: ${launch.command} -m pip install ${VARIANT_PIP_PACKAGES}`;
  return { unavailable: `deriving a precision variant needs onnxruntime and onnx in ${launch.command}; ${install}` };
}

/** Per variant backend: its derived file from the store, or derived now; or why there is none. */
export async function prepareVariants(
  specs: readonly OrtSpec[],
  ctx: PrepareContext,
): Promise<Map<string, Preparation<VariantRecord>>> {
  const prepared = new Map<string, Preparation<VariantRecord>>();
  const own = specs.filter((s) => s.variant !== undefined);
  if (own.length === 0) return prepared;
  const launch = ctx.launch;
  if ('missing' in launch) {
    for (const spec of own) prepared.set(spec.name, { unavailable: launch.missing });
    return prepared;
  }
  const versions = await pythonToolVersions(launch);
  for (const spec of own) {
    if ('unavailable' in versions) {
      prepared.set(spec.name, versions);
      continue;
    }
    const made = await deriveOrHit(spec, spec.modelPath, 'candidate', versions, launch, ctx);
    if (!('ready' in made)) {
      prepared.set(spec.name, made);
      continue;
    }
    if (!ctx.baseModelPath) {
      prepared.set(spec.name, made);
      continue;
    }
    const base = await deriveOrHit(spec, ctx.baseModelPath, 'base', versions, launch, ctx);
    prepared.set(
      spec.name,
      'ready' in base
        ? { ready: made.ready, base: base.ready }
        : {
            degraded: `the base model's ${spec.variant} variant (${ctx.baseModelPath}): ${'degraded' in base ? base.degraded : base.unavailable}`,
          },
    );
  }
  return prepared;
}

async function deriveOrHit(
  spec: OrtSpec,
  sourcePath: string,
  side: VariantRecord['side'],
  versions: ToolVersions,
  launch: WorkerLaunch,
  ctx: PrepareContext,
): Promise<{ ready: VariantRecord } | { unavailable: string } | { degraded: string }> {
  const transform = spec.variant!;
  const sourceSha256 = await ctx.sha256Of(sourcePath);
  const keyed = variantKey({ sourceSha256, transform, versions });
  let failure: { unavailable: string } | { degraded: string } | undefined;
  try {
    const obtained = await ctx.store.getOrBuild(VARIANT_KIND, keyed, async (tmpDir) => {
      ctx.log?.(`deriving the ${transform} variant of ${sourcePath} for ${spec.name} (${toolOf(transform, versions)})`);
      const request: DeriveRequest = { type: 'derive', sourcePath, outPath: tmpDir, transform };
      const outcome = await oneShot(launch, request, derivedReplySchema, DERIVE_TIMEOUT_MS);
      if (!outcome.ok) {
        const reason = `deriving the ${transform} variant failed: ${outcome.reason}`;
        failure = outcome.kind === 'unavailable' ? { unavailable: reason } : { degraded: reason };
        throw new Error(reason);
      }
      const said = `${outcome.reply.versions.onnxruntime} / ${outcome.reply.versions.onnx}`;
      if (said !== `${versions.onnxruntime} / ${versions.onnx}`) {
        failure = {
          degraded: `the worker derived with onnxruntime / onnx ${said}, but the key was made for ${versions.onnxruntime} / ${versions.onnx}`,
        };
        throw new Error(failure.degraded);
      }
      if (path.resolve(outcome.reply.file) !== path.resolve(tmpDir, VARIANT_FILE)) {
        failure = {
          degraded: `the worker wrote the variant to ${outcome.reply.file}, not ${path.join(tmpDir, VARIANT_FILE)}`,
        };
        throw new Error(failure.degraded);
      }
      return { files: [VARIANT_FILE], buildMs: outcome.reply.deriveMs };
    });
    const variantPath = obtained.entry.files[VARIANT_FILE];
    if (!variantPath) throw new Error(`the cached variant ${obtained.entry.dir} has no ${VARIANT_FILE}`);
    return {
      ready: {
        backend: spec.name,
        side,
        transform,
        sourcePath,
        sourceSha256,
        variantPath,
        cache: obtained.status,
        key: keyed.key,
        buildMs: obtained.entry.keyFile.buildMs,
        bytes: obtained.entry.keyFile.files.find((f) => f.name === VARIANT_FILE)?.bytes ?? obtained.entry.sizeBytes,
        tool: toolOf(transform, versions),
        corrupt: obtained.corrupt ?? null,
      },
    };
  } catch (error) {
    if (failure) return failure;
    throw error;
  }
}

/** "onnxruntime-cpu-int8: int8-dynamic variant of model.onnx (cache hit: saved 0.1 s)". */
export function describeVariant(record: VariantRecord): string {
  const seconds = (record.buildMs / 1000).toFixed(1);
  const how =
    record.cache === 'built'
      ? `derived now in ${seconds} s`
      : `cache ${record.cache}: saved the ${seconds} s derivation`;
  const whose = record.side === 'base' ? ' (base model)' : '';
  return `${record.backend}: ${record.transform} variant of ${path.basename(record.sourcePath)}${whose} (${how})`;
}

export function variantTable(records: readonly VariantRecord[]): ArtifactTable | null {
  if (records.length === 0) return null;
  return {
    title: 'Precision variants (derived from the fp32 ONNX file)',
    note: 'Each is gated by its precision’s perplexity threshold against the fp32 reference, like any backend.',
    header: ['Backend', 'side', 'transform', 'tool', 'MB', 'derive s', 'cache', 'from'],
    rows: records.map((r) => [
      r.backend,
      r.side,
      r.transform,
      r.tool,
      (r.bytes / 1e6).toFixed(2),
      (r.buildMs / 1000).toFixed(2),
      r.cache,
      r.sourcePath,
    ]),
  };
}
