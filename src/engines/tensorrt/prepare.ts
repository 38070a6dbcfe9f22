/**
 * ONNX → TensorRT engine, once per content (the tensorrt-fp32 / -fp16 / -int8 backends). Before the matrix: the
 * worker Python is asked for its TensorRT version and the GPU's compute capability (`probe`), the engine key is made
 * from those, the ONNX file's sha256, the precision path, the optimization profile that covers every shape the run
 * will give the engine, and the builder settings (keys.ts); the artifact store returns a checked hit or has the
 * worker build it (`build`). The tensorrt backend then opens the engine file in the same Python worker.
 *
 * NEVER RUN against a real TensorRT: it cannot be installed on the machines this was made on (docs/artifact-cache.md "TensorRT engines").
 * Everything here is tested with the real store and a stand-in worker that answers probe/build; what the worker
 * does with TensorRT itself (native/tr118_native/worker/trt_engine.py) is written against the documented API.
 */
import { createHash } from 'node:crypto';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { oneShot } from '../../backends/one-shot.js';
import type { WorkerLaunch } from '../../backends/process-backend.js';
import type { Preparation, PrepareContext, Shape } from '../family.js';
import {
  builtReplySchema,
  optimizationProfileSchema,
  probedReplySchema,
  TENSORRT_PRECISIONS,
  type BuildRequest,
  type OptimizationProfile,
  type ProbeRequest,
} from './jobs.js';
import { ENGINE_KIND, engineKey } from './key.js';
import type { TrtSpec } from './spec.js';

export const ENGINE_FILE = 'model.engine';
/** The network inputs an exported causal LM has (onnx_export.py), each given the same profile. */
export const ENGINE_INPUTS = ['input_ids', 'attention_mask'] as const;
/** TensorRT's builder workspace: enough for GPT-2-class tactics; a key input, so changing it rebuilds. */
export const WORKSPACE_BYTES = 8 * 2 ** 30;
/** int8 on TensorRT 10: opt-shaped batches of evaluation tokens the entropy calibrator reads, at most. */
export const CALIBRATION_BATCHES = 16;

export type TensorrtPrecision = (typeof TENSORRT_PRECISIONS)[number];

/**
 * How a precision is reached on a TensorRT version (part of the engine key; the worker refuses another):
 * TensorRT 10 lowers an fp32 network with builder flags (int8 with an entropy calibrator); TensorRT ≥ 11 types
 * networks strongly (the file's types are the engine's). Undefined for a TensorRT older than 10.
 */
export function precisionPath(tensorrtVersion: string, precision: TensorrtPrecision): string | undefined {
  const major = Number.parseInt(tensorrtVersion, 10);
  if (!Number.isInteger(major) || major < 10) return undefined;
  if (major >= 11) return `tensorrt${major}-strongly-typed-${precision}`;
  return {
    fp32: 'tensorrt10-builder-fp32',
    fp16: 'tensorrt10-builder-flag-fp16',
    int8: 'tensorrt10-builder-flag-int8-entropy-calibrated',
  }[precision];
}

/**
 * One optimization profile covering every shape: min and max per dimension; opt the heaviest timed shape
 * (batch × sequence, then the longer sequence), whose kernels TensorRT tunes, or the longest other shape when
 * nothing is timed. The same profile for every input.
 */
export function engineProfile(shapes: PrepareContext['shapes']): OptimizationProfile {
  const all = [...shapes.timed, ...shapes.other];
  if (all.length === 0) throw new RangeError('no scenario and no perplexity window: nothing to build a profile for');
  const bad = all.filter(([b, s]) => !(Number.isInteger(b) && Number.isInteger(s) && b >= 1 && s >= 1));
  if (bad.length > 0) throw new RangeError(`batch and sequence must be integers ≥ 1, got ${JSON.stringify(bad)}`);
  const heavier = (x: Shape, y: Shape): Shape => {
    const [xw, yw] = [x[0] * x[1], y[0] * y[1]];
    return xw > yw || (xw === yw && x[1] > y[1]) ? x : y;
  };
  const candidates = shapes.timed.length > 0 ? shapes.timed : shapes.other;
  const opt = candidates.reduce(heavier);
  return {
    min: [Math.min(...all.map((s) => s[0])), Math.min(...all.map((s) => s[1]))],
    opt: [opt[0], opt[1]],
    max: [Math.max(...all.map((s) => s[0])), Math.max(...all.map((s) => s[1]))],
  };
}

/** What results.json and the report say about one engine (the seed's "TensorRT Build Overhead" table + the cache). */
export const engineRecordSchema = z.object({
  backend: z.string(),
  /** Whose ONNX file it was built from: the candidate's, or the base model's in same-run A/B (compare.base_model). */
  side: z.enum(['candidate', 'base']),
  precision: z.enum(TENSORRT_PRECISIONS),
  onnxPath: z.string(),
  onnxSha256: z.string(),
  enginePath: z.string(),
  /** hit: the cached engine was used; restored: from the Actions cache; built: built by this run. */
  cache: z.enum(['hit', 'restored', 'built']),
  key: z.string(),
  /** The build's own time, recorded when the engine was made: what a hit saved. */
  buildMs: z.number().nonnegative(),
  bytes: z.int().nonnegative(),
  tensorrtVersion: z.string(),
  computeCapability: z.string(),
  gpu: z.string(),
  precisionPath: z.string(),
  profile: optimizationProfileSchema,
  builder: z.record(z.string(), z.union([z.number(), z.string()])),
  /** Why a cached engine was not used (corrupt or truncated: evicted and rebuilt). */
  corrupt: z.string().nullable(),
});
export type EngineRecord = Readonly<z.infer<typeof engineRecordSchema>>;

/** Per tensorrt backend: its engine (and in same-run A/B the base model's), or why there is none. */
export type EnginePreparation = Preparation<EngineRecord>;

/** How long the probe and a build may take (a build of a large model: tens of minutes). */
const PROBE_TIMEOUT_MS = 5 * 60_000;
const BUILD_TIMEOUT_MS = 60 * 60_000;

/** A build that did not produce an engine: the backend is unavailable or degraded, the run goes on. */
class EngineNotBuilt extends Error {
  readonly preparation: { readonly unavailable: string } | { readonly degraded: string };
  /** kind: the worker's error kind; anything but unavailable makes the backend degraded. */
  constructor(kind: string | undefined, reason: string) {
    super(reason);
    this.preparation = kind === 'unavailable' ? { unavailable: reason } : { degraded: reason };
  }
}

interface Probed {
  readonly tensorrtVersion: string;
  readonly computeCapability: string;
  readonly gpu: string;
}

async function probe(
  launch: WorkerLaunch,
  deviceId: number,
  timeoutMs: number,
): Promise<Probed | { unavailable: string } | { degraded: string }> {
  const request: ProbeRequest = { type: 'probe', engine: 'tensorrt', deviceId };
  const outcome = await oneShot(launch, request, probedReplySchema, timeoutMs);
  if (!outcome.ok) {
    const reason = `TensorRT engines cannot be built here: ${outcome.reason}`;
    return outcome.kind === 'unavailable' ? { unavailable: reason } : { degraded: reason };
  }
  return outcome.reply;
}

/** The calibration tokens' sha256: an int8 engine depends on the data it was calibrated with. */
function tokensSha256(tokens: readonly number[]): string {
  return createHash('sha256').update(JSON.stringify(tokens)).digest('hex');
}

export async function prepareEngines(
  specs: readonly TrtSpec[],
  options: PrepareContext,
): Promise<Map<string, EnginePreparation>> {
  const prepared = new Map<string, EnginePreparation>();
  if (specs.length === 0) return prepared;
  const { launch } = options;
  if ('missing' in launch) {
    for (const spec of specs) prepared.set(spec.name, { unavailable: launch.missing });
    return prepared;
  }
  const profile = engineProfile(options.shapes);
  const probes = new Map<number, Awaited<ReturnType<typeof probe>>>();
  for (const spec of specs) {
    if (!probes.has(spec.deviceId)) {
      probes.set(spec.deviceId, await probe(launch, spec.deviceId, PROBE_TIMEOUT_MS));
    }
    const probed = probes.get(spec.deviceId)!;
    if ('unavailable' in probed || 'degraded' in probed) {
      prepared.set(spec.name, probed);
      continue;
    }
    try {
      const ready = await buildOrHit(spec, spec.modelPath, 'candidate', probed, profile, options);
      const base = options.baseModelPath;
      prepared.set(
        spec.name,
        base ? { ready, base: await baseEngine(spec, base, probed, profile, options) } : { ready },
      );
    } catch (error) {
      if (!(error instanceof EngineNotBuilt)) throw error;
      prepared.set(spec.name, error.preparation);
    }
  }
  return prepared;
}

/**
 * The base model's engine: a backend whose base cannot be built has no A/B to give (degraded, never half a pair);
 * the reason says it was the base.
 */
async function baseEngine(
  spec: TrtSpec,
  onnxPath: string,
  probed: Probed,
  profile: OptimizationProfile,
  options: PrepareContext,
): Promise<EngineRecord> {
  try {
    return await buildOrHit(spec, onnxPath, 'base', probed, profile, options);
  } catch (error) {
    if (!(error instanceof EngineNotBuilt)) throw error;
    throw new EngineNotBuilt('failed', `the base model's engine (${onnxPath}): ${error.message}`);
  }
}

async function buildOrHit(
  spec: TrtSpec,
  onnxPath: string,
  side: EngineRecord['side'],
  probed: Probed,
  profile: OptimizationProfile,
  options: PrepareContext,
): Promise<EngineRecord> {
  const launch = options.launch as WorkerLaunch;
  const precision = spec.precision as TensorrtPrecision;
  const pathTaken = precisionPath(probed.tensorrtVersion, precision);
  if (pathTaken === undefined) {
    throw new EngineNotBuilt('unavailable', `TensorRT ${probed.tensorrtVersion} is older than 10, which tr118 needs`);
  }
  const calibrated = pathTaken === 'tensorrt10-builder-flag-int8-entropy-calibrated';
  const builder = {
    workspaceBytes: WORKSPACE_BYTES,
    ...(calibrated ? { calibrationBatches: CALIBRATION_BATCHES } : {}),
  };
  if (calibrated && options.calibrationTokens.length < profile.opt[0] * profile.opt[1]) {
    throw new EngineNotBuilt(
      'failed',
      `int8 calibration needs at least one ${profile.opt[0]}×${profile.opt[1]} batch of evaluation tokens (${profile.opt[0] * profile.opt[1]}); the run has ${options.calibrationTokens.length}`,
    );
  }
  const onnxSha256 = await options.sha256Of(onnxPath);
  const profiles = Object.fromEntries(ENGINE_INPUTS.map((input) => [input, profile]));
  const keyBuilder = {
    ...builder,
    ...(calibrated ? { calibrationTokensSha256: tokensSha256(options.calibrationTokens) } : {}),
  };
  const keyed = engineKey({
    onnxSha256,
    tensorrtVersion: probed.tensorrtVersion,
    computeCapability: probed.computeCapability,
    precisionPath: pathTaken,
    profiles: ENGINE_INPUTS.map((input) => ({ input, ...profile })),
    builder: keyBuilder,
  });
  const obtained = await options.store.getOrBuild(ENGINE_KIND, keyed, async (tmpDir) => {
    options.log?.(
      `building the TensorRT engine of ${spec.name}${side === 'base' ? ' for the base model' : ''} (${pathTaken}, profile ${profile.min.join('×')} … ${profile.opt.join('×')} … ${profile.max.join('×')})`,
    );
    const request: BuildRequest = {
      type: 'build',
      onnxPath,
      outPath: path.join(tmpDir, ENGINE_FILE),
      precision,
      precisionPath: pathTaken,
      profiles,
      builder,
      deviceId: spec.deviceId,
      ...(calibrated ? { calibrationTokens: [...options.calibrationTokens] } : {}),
    };
    const outcome = await oneShot(launch, request, builtReplySchema, BUILD_TIMEOUT_MS);
    if (!outcome.ok) throw new EngineNotBuilt(outcome.kind, `building the TensorRT engine failed: ${outcome.reason}`);
    const reply = outcome.reply;
    // The key was made from the probe: an engine built by another TensorRT, GPU or path must not be stored under it.
    const said = [reply.tensorrtVersion, reply.computeCapability, reply.precisionPath].join(' / ');
    const keyedOn = [probed.tensorrtVersion, probed.computeCapability, pathTaken].join(' / ');
    if (said !== keyedOn) {
      throw new EngineNotBuilt('failed', `the worker built with ${said}, but the engine key was made for ${keyedOn}`);
    }
    if (path.resolve(reply.file) !== path.resolve(tmpDir, ENGINE_FILE)) {
      throw new EngineNotBuilt(
        'failed',
        `the worker wrote the engine to ${reply.file}, not ${path.join(tmpDir, ENGINE_FILE)}`,
      );
    }
    // The engine and, for int8 on TensorRT 10, the calibration cache written beside it.
    return { files: readdirSync(tmpDir).filter((name) => !name.endsWith('.partial')), buildMs: reply.buildMs };
  });
  const enginePath = obtained.entry.files[ENGINE_FILE];
  if (!enginePath) throw new Error(`the cached engine ${obtained.entry.dir} has no ${ENGINE_FILE}`);
  return {
    backend: spec.name,
    side,
    precision,
    onnxPath,
    onnxSha256,
    enginePath,
    cache: obtained.status,
    key: keyed.key,
    buildMs: obtained.entry.keyFile.buildMs,
    bytes: obtained.entry.keyFile.files.find((f) => f.name === ENGINE_FILE)?.bytes ?? obtained.entry.sizeBytes,
    tensorrtVersion: probed.tensorrtVersion,
    computeCapability: probed.computeCapability,
    gpu: probed.gpu,
    precisionPath: pathTaken,
    profile,
    builder: keyBuilder,
    corrupt: obtained.corrupt ?? null,
  };
}

/** A short line for the log: "tensorrt-fp16: model.engine (tensorrt10-builder-flag-fp16, cache hit: saved 41.2 s)". */
export function describeEngine(record: EngineRecord): string {
  const seconds = (record.buildMs / 1000).toFixed(1);
  const how =
    record.cache === 'built' ? `built now in ${seconds} s` : `cache ${record.cache}: saved the ${seconds} s build`;
  const whose = record.side === 'base' ? ' (base model)' : '';
  return `${record.backend}: TensorRT engine ${record.precisionPath} of ${path.basename(record.onnxPath)}${whose} (${how})`;
}
