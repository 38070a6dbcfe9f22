/**
 * model.hf → ONNX, once per content: the export key (keys.ts) from the checkpoint's config and weight files, the
 * export settings and the worker Python's torch / transformers / onnx versions; the artifact store (store.ts)
 * returns a checked hit or has the Python worker export it (`export` request: torch.onnx.export, onnx.checker, and
 * ONNX Runtime against PyTorch on a probe batch). Sits before the matrix: the pipeline measures the file it returns.
 */
import path from 'node:path';
import type { Config } from '../config/load.js';
import { EXPORT_PENDING, type Exporter } from '../config/load.js';
import { UsageError } from '../errors.js';
import { checkCheckpoint, checkpointFileDigests } from './checkpoint.js';
import type { Sha256Of } from '../cache/digest-memo.js';
import { oneShot } from '../backends/one-shot.js';
import { exportedReplySchema, type ExportedReply, type ExportRequest } from './export-job.js';
import type { WorkerLaunch } from '../backends/process-backend.js';
import { pythonPackageVersions } from '../backends/python-packages.js';
import { EXPORT_KIND, exportKey } from './export-key.js';
import type { ArtifactStore } from '../cache/store.js';

export const EXPORTED_FILE = 'model.onnx';

/** What results.json and the report say about the export (the seed's "Export Overhead" table, plus the cache). */
export interface ExportRecord {
  readonly checkpoint: string;
  readonly onnxPath: string;
  /** sha256 of model.onnx, as the store checked it on this hit (or hashed it when it was stored): not hashed again. */
  readonly onnxSha256: string;
  /** hit: the cached export was used; restored: from the Actions cache; built: exported by this run. */
  readonly cache: 'hit' | 'restored' | 'built';
  readonly key: string;
  /** The export's own time, recorded when it was made: what a hit saved. */
  readonly exportMs: number;
  readonly bytes: number;
  readonly opset: number;
  readonly dynamic: boolean;
  readonly int32Inputs: boolean;
  readonly exporter: string;
  readonly versions: Readonly<Record<string, string>>;
  readonly probeMaxAbsDiff: number | null;
  /** Why a cached export was not used (corrupt or truncated: evicted and rebuilt). */
  readonly corrupt: string | null;
}

/** What exporting needs in the worker's Python: the pins of native/ (onnx_export.py EXPORT_REQUIREMENTS). */
export const EXPORT_PIP_PACKAGES =
  'numpy==2.4.6 torch==2.11.0 transformers==5.17.0 onnx==1.23.2 onnxruntime==1.32.0 onnxscript==0.7.2 onnx-ir==1.1.0';

/** No Python to export with: `at` is the config key (model.hf, with its line), `missing` says why (findPython). */
export function noExportPython(at: string, missing: string): UsageError {
  return new UsageError(
    `${at}: exporting the checkpoint to ONNX needs a Python with torch, transformers, onnx and onnxruntime: ` +
      `${missing}; install them with: python3 -m pip install ${EXPORT_PIP_PACKAGES}, and set TR118_PYTHON to that Python`,
  );
}

/**
 * torch / transformers / onnx of the Python that will export (and onnxscript, which writes the dynamo exporter's
 * graph, when that exporter is asked for): part of the key, asked before anything is built. Read
 * from the installed packages' metadata, not by importing them: importing torch alone takes seconds, which every
 * cache hit would pay. `at` names the config key (model.hf, with its line) in errors.
 */
export async function pythonExportVersions(
  launch: WorkerLaunch,
  at: string,
  exporter: Exporter = 'torchscript',
): Promise<{ torch: string; transformers: string; onnx: string; onnxscript?: string }> {
  const packages = ['torch', 'transformers', 'onnx', ...(exporter === 'dynamo' ? ['onnxscript'] : [])];
  const install = `install what exporting needs with: ${launch.command} -m pip install ${EXPORT_PIP_PACKAGES} (or set TR118_PYTHON to a Python that has them)`;
  const answer = await pythonPackageVersions(launch, packages);
  if (!answer.ok)
    throw new UsageError(
      `${at}: could not ask ${launch.command} for its torch / transformers / onnx versions (${answer.why}); ${install}`,
    );
  const missing = answer.missing[0];
  if (missing !== undefined)
    throw new UsageError(
      `${at}: exporting the checkpoint to ONNX needs ${missing}, which is not installed for ${launch.command}; ${install}`,
    );
  const v = answer.versions;
  return {
    torch: v.torch ?? '',
    transformers: v.transformers ?? '',
    onnx: v.onnx ?? '',
    ...(v.onnxscript !== undefined ? { onnxscript: v.onnxscript } : {}),
  };
}

export interface ExportOptions {
  readonly store: ArtifactStore;
  readonly launch: WorkerLaunch;
  /** The config key (with its line) that errors about the checkpoint name. */
  readonly at: string;
  /** The checkpoint files' sha256 (the pipeline remembers large ones by stat: cache/digest-memo.ts). */
  readonly sha256Of?: Sha256Of;
  readonly timeoutMs?: number;
  readonly log?: (line: string) => void;
}

export async function exportCheckpoint(config: Config, options: ExportOptions): Promise<ExportRecord> {
  const settings = config.model.export;
  const hf = config.model.hfPath;
  if (!settings || !hf) throw new Error('exportCheckpoint: the config asks for no export');
  const files = checkCheckpoint(hf, options.at, config.model.trustPickle);
  const [digests, versions] = await Promise.all([
    checkpointFileDigests(hf, files, options.sha256Of),
    pythonExportVersions(options.launch, options.at, settings.exporter),
  ]);
  const keyed = exportKey({
    checkpointFiles: digests.map((d) => ({ path: d.path, sha256: d.sha256, bytes: d.bytes })),
    settings: { ...settings, allowedWeightDifferences: config.model.allowedWeightDifferences },
    versions,
  });
  let reply: ExportedReply | undefined;
  const obtained = await options.store.getOrBuild(EXPORT_KIND, keyed, async (tmpDir) => {
    options.log?.(`exporting ${hf} to ONNX (opset ${settings.opset}, ${settings.exporter} exporter)`);
    const outcome = await oneShot(
      options.launch,
      {
        type: 'export',
        checkpointPath: hf,
        outPath: tmpDir,
        exporter: settings.exporter,
        opset: settings.opset,
        dynamic: settings.dynamic,
        int32Inputs: settings.int32Inputs,
        trustPickle: config.model.trustPickle,
        allowedWeightDifferences: [...config.model.allowedWeightDifferences],
        // Token ids 0…15 are valid for any vocabulary: the probe compares runtimes, not text.
        probe: { batch: 1, seqLen: 16, inputIds: Array.from({ length: 16 }, (_, i) => i) },
      } satisfies ExportRequest,
      exportedReplySchema,
      options.timeoutMs ?? 30 * 60_000,
    );
    if (!outcome.ok) {
      // A usage reply (weights that do not fit config.json) is the checkpoint's fault, said in its own words.
      const kind = outcome.kind && outcome.kind !== 'failed' && outcome.kind !== 'usage' ? ` (${outcome.kind})` : '';
      throw new UsageError(`${options.at}: exporting ${hf} to ONNX failed${kind}: ${outcome.reason}`);
    }
    reply = outcome.reply;
    return { files: reply.files.map((f) => f.name), buildMs: reply.exportMs + reply.checkMs + reply.probeMs };
  });
  const entry = obtained.entry;
  const onnxPath = entry.files[EXPORTED_FILE];
  if (!onnxPath) throw new Error(`the cached export ${entry.dir} has no ${EXPORTED_FILE}`);
  const onnxSha256 = entry.keyFile.files.find((f) => f.name === EXPORTED_FILE)?.sha256;
  if (!onnxSha256) throw new Error(`the cached export ${entry.dir} lists no ${EXPORTED_FILE} in its key.json`);
  return {
    checkpoint: hf,
    onnxPath,
    onnxSha256,
    cache: obtained.status,
    key: keyed.key,
    exportMs: entry.keyFile.buildMs,
    bytes: entry.sizeBytes,
    opset: settings.opset,
    dynamic: settings.dynamic,
    int32Inputs: settings.int32Inputs,
    exporter: settings.exporter,
    versions: reply ? { ...reply.versions } : { ...versions },
    probeMaxAbsDiff: reply ? reply.probeMaxAbsDiff : null,
    corrupt: obtained.corrupt ?? null,
  };
}

/** The config with the exported file as model.onnx and as every ONNX backend's model that was pending on it. */
export function withExportedModel(config: Config, onnxPath: string): Config {
  return {
    ...config,
    model: { ...config.model, onnxPath },
    backends: config.backends.map((b) => (b.modelPath === EXPORT_PENDING ? { ...b, modelPath: onnxPath } : b)),
  };
}

/** A short label for the report: "model.onnx (export of hf/, cache hit: saved 3.4 s)". */
export function describeExport(record: ExportRecord): string {
  const seconds = (record.exportMs / 1000).toFixed(1);
  const how =
    record.cache === 'built' ? `exported now in ${seconds} s` : `cache ${record.cache}: saved the ${seconds} s export`;
  return `${path.basename(record.onnxPath)} from ${record.checkpoint} (${how})`;
}
