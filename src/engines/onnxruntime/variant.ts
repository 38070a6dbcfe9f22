/**
 * Precision variants of the fp32 ONNX file, as backends of their own (issue 22): `onnxruntime-cpu-int8` (dynamic
 * int8 quantization of the MatMul weights) and `onnxruntime-cuda-fp16` (float16, fp32 inputs and outputs kept), and
 * `optimize: transformers` (ONNX Runtime's transformer fusions for the checkpoint's model type, applied before the
 * variant's transform when both are set). Each is derived before the matrix by the native worker (`derive`,
 * native/tr118_native/worker/derive.py) with ONNX Runtime's own tools, and kept in the artifact store under its own
 * key: the fp32 file's sha256 (which the export key determines when model.hf was exported), the transform, the
 * optimizer's options, and the onnxruntime / onnx versions that made it. The derived file is gated like any backend,
 * by its precision's perplexity threshold against the fp32 reference.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { oneShot } from '../../backends/one-shot.js';
import type { WorkerLaunch } from '../../backends/process-backend.js';
import { pythonPackageVersions } from '../../backends/python-packages.js';
import { artifactKey, type ArtifactKey } from '../../cache/keys.js';
import type { ArtifactTable, Preparation, PrepareContext } from '../family.js';
import { isDerived, ORT_VARIANTS, type OrtSpec, type OrtVariant } from './spec.js';

/** The artifact store's kind (folder) of derived ONNX files. */
export const VARIANT_KIND = 'onnx-variant';
export const VARIANT_FILE = 'model.onnx';
/** Beside a fused file: the fusion counts or the optimizer's note (optimizerRecordSchema), so a hit reports them. */
export const OPTIMIZER_FILE = 'optimizer.json';
/** What a variant needs in the worker's Python (the light set pins them). */
export const VARIANT_PIP_PACKAGES = 'onnx==1.23.2 onnxruntime==1.32.0';

const toolVersions = z.object({ onnxruntime: z.string().min(1), onnx: z.string().min(1) });
export type ToolVersions = z.infer<typeof toolVersions>;

/**
 * `onnxruntime.transformers.optimizer.optimize_model`'s arguments. modelType: config.json's `model_type` (absent when
 * none was found: the file is then used unfused, with a note); numHeads / hiddenSize: config.json's, 0 to let the
 * optimizer detect them from the graph. optLevel 0: the Python fusions only, no ONNX Runtime pass on a provider, so
 * the file holds no provider-specific node and opens on any provider (the session's own graph optimizations run at
 * open anyway). useGpu: as the backend's provider says (the optimizer's documented switch for a model meant for the
 * GPU; in onnxruntime 1.32 it reaches ONNX Runtime's own pass only, which level 0 leaves out, so the fused graph is
 * the same either way; it is in the key so that a later optimizer that reads it makes another file). The provider
 * itself is not passed: `optimize_model(provider=...)` is newer than some onnxruntime releases and, like use_gpu,
 * only picks the providers of ONNX Runtime's own pass.
 */
export const optimizeRequestSchema = z.object({
  modelType: z.string().min(1).optional(),
  numHeads: z.int().nonnegative(),
  hiddenSize: z.int().nonnegative(),
  useGpu: z.boolean(),
  optLevel: z.literal(0),
});
export type OptimizeRequest = z.infer<typeof optimizeRequestSchema>;

/** optimizer.json: what the optimizer fused (operator → count, zeros left out), or why it fused nothing. */
export const optimizerRecordSchema = z.object({
  modelType: z.string().nullable(),
  fusions: z.record(z.string(), z.int().nonnegative()),
  note: z.string().nullable(),
});

export const deriveRequestSchema = z.object({
  type: z.literal('derive'),
  /** The fp32 ONNX file (model.onnx or the export of model.hf). */
  sourcePath: z.string(),
  /** A folder the caller owns (the artifact store's temporary folder): the variant is written there as model.onnx. */
  outPath: z.string(),
  /** The precision transform; absent: the fused file alone (optimize is then set). */
  transform: z.enum(ORT_VARIANTS).optional(),
  /** ONNX Runtime's transformer fusions, applied before the transform. */
  optimize: optimizeRequestSchema.optional(),
});
export type DeriveRequest = z.infer<typeof deriveRequestSchema>;

export const derivedReplySchema = z.object({
  type: z.literal('derived'),
  id: z.int(),
  file: z.string(),
  bytes: z.int().nonnegative(),
  transform: z.enum(ORT_VARIANTS).optional(),
  optimizer: optimizerRecordSchema.optional(),
  deriveMs: z.number().nonnegative(),
  versions: toolVersions,
});

/** What a derived file's bytes depend on. */
export function variantKey(inputs: {
  readonly sourceSha256: string;
  readonly transform: OrtVariant | undefined;
  readonly optimize?: OptimizeRequest | undefined;
  readonly versions: ToolVersions;
}): ArtifactKey {
  return artifactKey(VARIANT_KIND, {
    sourceSha256: inputs.sourceSha256,
    transform: inputs.transform ?? 'none',
    // Only when set, so that the keys of the variants made before optimize existed still hit.
    ...(inputs.optimize ? { optimize: { ...inputs.optimize } } : {}),
    versions: { onnxruntime: inputs.versions.onnxruntime, onnx: inputs.versions.onnx },
  });
}

/**
 * The tool in words, for fingerprints and the report: "onnxruntime 1.32.0 quantize_dynamic (MatMul, QInt8)";
 * with fusions first: "onnxruntime 1.32.0 optimize_model (gpt2, opt_level 0, use_gpu) + convert_float_to_float16
 * (keep_io_types)".
 */
export function toolOf(
  transform: OrtVariant | undefined,
  versions: ToolVersions,
  optimize?: Pick<OptimizeRequest, 'modelType' | 'useGpu' | 'optLevel'>,
): string {
  const steps = [
    ...(optimize
      ? [
          `optimize_model (${optimize.modelType ?? 'no model type'}, opt_level ${optimize.optLevel}${optimize.useGpu ? ', use_gpu' : ''})`,
        ]
      : []),
    ...(transform === 'int8-dynamic' ? ['quantize_dynamic (MatMul, QInt8)'] : []),
    ...(transform === 'fp16' ? ['convert_float_to_float16 (keep_io_types)'] : []),
  ];
  return `onnxruntime ${versions.onnxruntime} ${steps.join(' + ')}`;
}

export const variantRecordSchema = z.object({
  backend: z.string(),
  side: z.enum(['candidate', 'base']),
  /** Absent: no precision transform (the fused file alone). */
  transform: z.enum(ORT_VARIANTS).optional(),
  /** Set when ONNX Runtime's transformer fusions were asked for (optimize: transformers). */
  optimize: z.literal('transformers').optional(),
  /** What the optimizer fused (operator → count); empty when it fused nothing (the note says why). */
  fusions: z.record(z.string(), z.int().nonnegative()).optional(),
  /** Why the file is unfused (a model type the optimizer does not know, or an optimizer that failed). */
  note: z.string().nullable().optional(),
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

/** What a backend's derived file is, in words: "int8-dynamic", "transformers fusions + fp16". */
export function stepsOf(made: VariantRecord | OrtSpec): string {
  const transform = 'engine' in made ? made.variant : made.transform;
  return [
    ...(made.optimize === 'transformers' ? ['transformers fusions'] : []),
    ...(transform ? [transform] : []),
  ].join(' + ');
}

/** The model a file's config.json describes, for the transformer optimizer; or why there is none. */
export interface ModelDescription {
  readonly modelType: string | null;
  readonly numHeads: number;
  readonly hiddenSize: number;
  /** Where it was read, or why nothing was: said in the note when modelType is null. */
  readonly from: string;
}

/** The first of config.json's names for a count that is a positive integer; 0 (the optimizer detects it) if none. */
function countOf(config: Record<string, unknown>, names: readonly string[]): number {
  for (const name of names) {
    const value = config[name];
    if (typeof value === 'number' && Number.isInteger(value) && value > 0) return value;
  }
  return 0;
}

/**
 * The checkpoint's config.json: model.hf's when the file is the run's model (its export, or model.onnx beside it),
 * else one beside the ONNX file (the layout Hugging Face repositories and Optimum's exports use). Its `model_type` picks the optimizer's fusions (gpt2, bert,
 * ...); the head count and width under their GPT-2 or BERT names, else 0 for the optimizer to detect.
 */
export function describeModel(onnxPath: string, checkpoint?: string): ModelDescription {
  const folder = checkpoint ?? path.dirname(onnxPath);
  const file = path.join(folder, 'config.json');
  const none = (from: string): ModelDescription => ({ modelType: null, numHeads: 0, hiddenSize: 0, from });
  if (!existsSync(file)) {
    return none(
      checkpoint
        ? `model.hf (${folder}) has no config.json`
        : `no config.json beside ${onnxPath} (and model.hf does not describe it)`,
    );
  }
  let config: unknown;
  try {
    config = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    return none(`${file} is not JSON (${(error as Error).message})`);
  }
  if (typeof config !== 'object' || config === null || Array.isArray(config)) return none(`${file} is not an object`);
  const fields = config as Record<string, unknown>;
  const modelType = fields.model_type;
  if (typeof modelType !== 'string' || modelType === '') return none(`${file} has no model_type`);
  return {
    modelType,
    numHeads: countOf(fields, ['num_attention_heads', 'n_head']),
    hiddenSize: countOf(fields, ['hidden_size', 'n_embd', 'd_model']),
    from: file,
  };
}

/** Per derived backend (a variant, fusions, or both): its file from the store, or derived now; or why there is none. */
export async function prepareVariants(
  specs: readonly OrtSpec[],
  ctx: PrepareContext,
): Promise<Map<string, Preparation<VariantRecord>>> {
  const prepared = new Map<string, Preparation<VariantRecord>>();
  const own = specs.filter(isDerived);
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
    // Same-run A/B fuses the base as the candidate (two versions of one model): the candidate's model description.
    const optimize = optimizeRequestOf(spec, ctx);
    const made = await deriveOrHit(spec, spec.modelPath, 'candidate', optimize, versions, launch, ctx);
    if (!('ready' in made)) {
      prepared.set(spec.name, made);
      continue;
    }
    if (!ctx.baseModelPath) {
      prepared.set(spec.name, made);
      continue;
    }
    // Same-run A/B: the base side opens the base model's own derived file, made the same way.
    const base = await deriveOrHit(spec, ctx.baseModelPath, 'base', optimize, versions, launch, ctx);
    prepared.set(
      spec.name,
      'ready' in base
        ? { ready: made.ready, base: base.ready }
        : {
            degraded: `the base model's ${stepsOf(spec)} variant (${ctx.baseModelPath}): ${'degraded' in base ? base.degraded : base.unavailable}`,
          },
    );
  }
  return prepared;
}

/** The optimizer's arguments for this backend's model (undefined: no fusions asked for). */
function optimizeRequestOf(spec: OrtSpec, ctx: PrepareContext): OptimizeAsked | undefined {
  if (spec.optimize !== 'transformers') return undefined;
  const model = describeModel(spec.modelPath, ctx.checkpointOf?.(spec.modelPath));
  const request: OptimizeRequest = {
    ...(model.modelType !== null ? { modelType: model.modelType } : {}),
    numHeads: model.numHeads,
    hiddenSize: model.hiddenSize,
    useGpu: spec.provider !== 'cpu',
    optLevel: 0,
  };
  return { request, from: model.from };
}

/** The optimizer's arguments, and where its model type was read (or why there is none). */
interface OptimizeAsked {
  readonly request: OptimizeRequest;
  readonly from: string;
}

async function deriveOrHit(
  spec: OrtSpec,
  sourcePath: string,
  side: VariantRecord['side'],
  optimize: OptimizeAsked | undefined,
  versions: ToolVersions,
  launch: WorkerLaunch,
  ctx: PrepareContext,
): Promise<{ ready: VariantRecord } | { unavailable: string } | { degraded: string }> {
  const transform = spec.variant;
  const what = stepsOf(spec);
  const tool = toolOf(transform, versions, optimize?.request);
  const sourceSha256 = await ctx.sha256Of(sourcePath);
  const keyed = variantKey({ sourceSha256, transform, optimize: optimize?.request, versions });
  let failure: { unavailable: string } | { degraded: string } | undefined;
  try {
    const obtained = await ctx.store.getOrBuild(VARIANT_KIND, keyed, async (tmpDir) => {
      ctx.log?.(`deriving the ${what} variant of ${sourcePath} for ${spec.name} (${tool})`);
      const request: DeriveRequest = {
        type: 'derive',
        sourcePath,
        outPath: tmpDir,
        ...(transform ? { transform } : {}),
        ...(optimize ? { optimize: optimize.request } : {}),
      };
      const outcome = await oneShot(launch, request, derivedReplySchema, DERIVE_TIMEOUT_MS);
      if (!outcome.ok) {
        const reason = `deriving the ${what} variant failed: ${outcome.reason}`;
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
      return { files: optimize ? [VARIANT_FILE, OPTIMIZER_FILE] : [VARIANT_FILE], buildMs: outcome.reply.deriveMs };
    });
    const variantPath = obtained.entry.files[VARIANT_FILE];
    if (!variantPath) throw new Error(`the cached variant ${obtained.entry.dir} has no ${VARIANT_FILE}`);
    let optimized: Pick<VariantRecord, 'optimize' | 'fusions' | 'note'> = {};
    if (optimize) {
      const said = readOptimizerRecord(obtained.entry.files[OPTIMIZER_FILE]);
      if ('problem' in said) {
        failure = { degraded: `the ${what} variant ${obtained.entry.dir}: ${said.problem}` };
        throw new Error(failure.degraded);
      }
      // A model type that was never found is said with where it was looked for; the optimizer's own notes as written.
      const note =
        optimize.request.modelType === undefined
          ? `${optimize.from}: ONNX Runtime's transformer optimizer has no model type to fuse for, so the file is used unfused`
          : said.record.note;
      optimized = { optimize: 'transformers', fusions: said.record.fusions, note };
    }
    return {
      ready: {
        backend: spec.name,
        side,
        ...(transform ? { transform } : {}),
        ...optimized,
        sourcePath,
        sourceSha256,
        variantPath,
        cache: obtained.status,
        key: keyed.key,
        buildMs: obtained.entry.keyFile.buildMs,
        bytes: obtained.entry.keyFile.files.find((f) => f.name === VARIANT_FILE)?.bytes ?? obtained.entry.sizeBytes,
        tool,
        corrupt: obtained.corrupt ?? null,
      },
    };
  } catch (error) {
    if (failure) return failure;
    throw error;
  }
}

/** optimizer.json of a derived file, checked. */
function readOptimizerRecord(
  file: string | undefined,
): { record: z.infer<typeof optimizerRecordSchema> } | { problem: string } {
  if (!file) return { problem: `no ${OPTIMIZER_FILE} beside the file` };
  try {
    const parsed = optimizerRecordSchema.safeParse(JSON.parse(readFileSync(file, 'utf8')));
    if (parsed.success) return { record: parsed.data };
    return { problem: `${file}: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}` };
  } catch (error) {
    return { problem: `${file}: ${(error as Error).message}` };
  }
}

/** "SkipLayerNormalization 8, FastGelu 4"; "none" when the optimizer fused nothing. */
export function fusionsOf(record: Pick<VariantRecord, 'optimize' | 'fusions'>): string {
  if (record.optimize !== 'transformers') return '';
  const fused = Object.entries(record.fusions ?? {}).filter(([, count]) => count > 0);
  return fused.length === 0 ? 'none' : fused.map(([op, count]) => `${op} ${count}`).join(', ');
}

/**
 * "onnxruntime-cpu-int8: int8-dynamic variant of model.onnx (cache hit: saved 0.1 s)"; with fusions, what they fused:
 * "ort-fused: transformers fusions variant of model.onnx (derived now in 0.4 s; fused SkipLayerNormalization 8, ...)".
 */
export function describeVariant(record: VariantRecord): string {
  const seconds = (record.buildMs / 1000).toFixed(1);
  const how =
    record.cache === 'built'
      ? `derived now in ${seconds} s`
      : `cache ${record.cache}: saved the ${seconds} s derivation`;
  const fused = record.optimize ? `; fused ${fusionsOf(record)}` : '';
  const whose = record.side === 'base' ? ' (base model)' : '';
  return `${record.backend}: ${stepsOf(record)} variant of ${path.basename(record.sourcePath)}${whose} (${how}${fused})`;
}

export function variantTable(records: readonly VariantRecord[]): ArtifactTable | null {
  if (records.length === 0) return null;
  const optimized = records.some((r) => r.optimize);
  return {
    title: 'Derived ONNX files (precision variants, transformer fusions)',
    note:
      'Each is gated by its precision’s perplexity threshold against the fp32 reference, like any backend.' +
      (optimized
        ? ' Fusions: what ONNX Runtime’s transformer optimizer fused (operator × count); none: see the notes.'
        : ''),
    header: [
      'Backend',
      'side',
      'transform',
      ...(optimized ? ['fusions'] : []),
      'tool',
      'MB',
      'derive s',
      'cache',
      'from',
    ],
    rows: records.map((r) => [
      r.backend,
      r.side,
      stepsOf(r),
      ...(optimized ? [fusionsOf(r) || '—'] : []),
      r.tool,
      (r.bytes / 1e6).toFixed(2),
      (r.buildMs / 1000).toFixed(2),
      r.cache,
      r.sourcePath,
    ]),
  };
}
