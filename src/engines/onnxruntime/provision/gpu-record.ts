/**
 * The record `tr118 provision` leaves in the tool-cache entry it unpacked and in the onnxruntime-node binding folder
 * it copied the provider libraries into: which package they came from and for which CUDA major version. A later
 * `tr118 run` (activateOrtGpu) and the availability check read it; it is validated like any other file we read.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { PROVIDER_LIBRARIES } from './pins.js';

export const ORT_GPU_RECORD_FILE = 'tr118-onnxruntime-gpu.json';

/** The unpacked onnxruntime-gpu wheel: the Python worker prepends it to PYTHONPATH (`import onnxruntime`). */
export const ORT_GPU_PYTHONPATH_ENV = 'TR118_ORT_GPU_PYTHONPATH';

const digest = z.strictObject({ sha256: z.string().regex(/^[0-9a-f]{64}$/), sizeBytes: z.number().int().min(0) });

export const ortGpuRecordSchema = z.strictObject({
  version: z.string(),
  variant: z.string(),
  cudaMajor: z.union([z.literal(12), z.literal(13)]),
  /** Where the package came from, and its sha256 (as pinned). */
  url: z.string(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  pythonTag: z.string().nullable(),
  /** The unpacked tool-cache entry (absolute). */
  entryDir: z.string(),
  /** Relative to entryDir: the folder holding the provider libraries, and the one for PYTHONPATH (wheel only). */
  providerDir: z.string(),
  pythonPath: z.string().nullable(),
  providers: z.strictObject(
    Object.fromEntries(PROVIDER_LIBRARIES.map((lib) => [lib, digest])) as Record<
      (typeof PROVIDER_LIBRARIES)[number],
      typeof digest
    >,
  ),
});
export type OrtGpuRecord = z.infer<typeof ortGpuRecordSchema>;

/** undefined when the folder has no record; a record that does not parse counts as none (it is rewritten). */
export function readOrtGpuRecord(dir: string): OrtGpuRecord | undefined {
  let text: string;
  try {
    text = readFileSync(path.join(dir, ORT_GPU_RECORD_FILE), 'utf8');
  } catch {
    return undefined;
  }
  try {
    const parsed = ortGpuRecordSchema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

export function writeOrtGpuRecord(dir: string, record: OrtGpuRecord): void {
  writeFileSync(path.join(dir, ORT_GPU_RECORD_FILE), `${JSON.stringify(record, null, 2)}\n`);
}
