/**
 * The GPUs' clocks, temperature, power and clock event (throttle) reasons, read with nvidia-smi just before and just
 * after the matrix: a GPU that was hot, power-capped or slowed measures slower than the code it runs, and a reader
 * of the numbers (or of a baseline made on another day) needs to see that. Readings are instants, not counters: a
 * throttle that came and went during the matrix without leaving the clock low afterwards is not seen.
 */
import { z } from 'zod';
import type { DeepReadonly } from '../deep-readonly.js';
import type { CommandRunner } from './command.js';

/** The reason fields, newest name first: drivers from R535 renamed clocks_throttle_reasons to clocks_event_reasons. */
export const REASON_FIELDS = ['clocks_event_reasons.active', 'clocks_throttle_reasons.active'] as const;

/** Asked of nvidia-smi, in this order, the reason field last. */
const QUERY = ['index', 'name', 'clocks.sm', 'clocks.mem', 'temperature.gpu', 'power.draw', 'power.limit'];

/** The bits of the active-reasons mask (nvml.h nvmlClocksEventReason*), by nvidia-smi's names for them. */
const REASON_BITS: readonly (readonly [number, string])[] = [
  [0x1, 'gpu_idle'],
  [0x2, 'applications_clocks_setting'],
  [0x4, 'sw_power_cap'],
  [0x8, 'hw_slowdown'],
  [0x10, 'sync_boost'],
  [0x20, 'sw_thermal_slowdown'],
  [0x40, 'hw_thermal_slowdown'],
  [0x80, 'hw_power_brake_slowdown'],
  [0x100, 'display_clock_setting'],
];

/** The reasons that slow a busy GPU below what it can do: heat, power, the hardware's own brake. */
export const SLOWING_REASONS: readonly string[] = [
  'sw_power_cap',
  'hw_slowdown',
  'sw_thermal_slowdown',
  'hw_thermal_slowdown',
  'hw_power_brake_slowdown',
];

/** How far the SM clock may fall from before to after the matrix before it is called a slowdown (boost wanders). */
export const SM_CLOCK_DROP_FRACTION = 0.15;

export const gpuReadingSchema = z.object({
  /** nvidia-smi's index of the GPU. */
  index: z.int().nonnegative(),
  name: z.string(),
  /** Each null where nvidia-smi printed [N/A] or [Not Supported]. */
  smClockMhz: z.number().nullable(),
  memoryClockMhz: z.number().nullable(),
  temperatureC: z.number().nullable(),
  powerDrawW: z.number().nullable(),
  powerLimitW: z.number().nullable(),
  /** The active reasons' bitmask as printed, e.g. 0x0000000000000001; null when not shown. */
  reasonsMask: z.string().nullable(),
  /** The mask's bits by name (an unknown bit as its hex value); empty: none active, or no mask. */
  reasons: z.array(z.string()),
});
export type GpuReading = DeepReadonly<z.infer<typeof gpuReadingSchema>>;

export const gpuSnapshotSchema = z.object({
  /** When it was read (ISO 8601). */
  at: z.string(),
  /** read: `gpus` holds the readings; absent: no nvidia-smi (a CPU machine); failed: it ran and failed. */
  status: z.enum(['read', 'absent', 'failed']),
  /** Why there are no readings; null when read. */
  reason: z.string().nullable(),
  /** Which of REASON_FIELDS this driver answered; null when neither. */
  reasonsField: z.string().nullable(),
  gpus: z.array(gpuReadingSchema),
});
export type GpuSnapshot = DeepReadonly<z.infer<typeof gpuSnapshotSchema>>;

export const gpuStateSchema = z.object({
  before: gpuSnapshotSchema,
  after: gpuSnapshotSchema,
  /** Why the GPU numbers may be slower than the GPU can be (gpuThrottleWarnings); empty: none seen. */
  throttleWarnings: z.array(z.string()),
});
export type GpuState = DeepReadonly<z.infer<typeof gpuStateSchema>>;

/** A number nvidia-smi printed (nounits), or null for [N/A], [Not Supported] and anything else not a number. */
function numberOrNull(field: string | undefined): number | null {
  if (field === undefined || field === '' || field.startsWith('[') || /^n\/a$/i.test(field)) return null;
  const value = Number(field);
  return Number.isFinite(value) ? value : null;
}

/** The mask's bits by name; an unknown bit (a newer driver's reason) is kept as its hex value, not dropped. */
export function decodeReasons(mask: string | null): string[] {
  if (mask === null || !/^0x[0-9a-f]+$/i.test(mask)) return [];
  let bits = BigInt(mask);
  const names: string[] = [];
  for (const [bit, name] of REASON_BITS) {
    if ((bits & BigInt(bit)) !== 0n) names.push(name);
    bits &= ~BigInt(bit);
  }
  for (let bit = 1n; bits !== 0n; bit <<= 1n) {
    if ((bits & bit) !== 0n) names.push(`0x${bit.toString(16)}`);
    bits &= ~bit;
  }
  return names;
}

/** Parses `nvidia-smi --query-gpu=<QUERY>,<reason field> --format=csv,noheader,nounits`; null: not that shape. */
export function parseGpuReadings(csv: string): GpuReading[] | null {
  const lines = csv.split('\n').filter((line) => line.trim() !== '');
  const readings = lines.map((line): GpuReading | null => {
    const f = line.split(',').map((field) => field.trim());
    const index = Number(f[0]);
    if (f.length !== QUERY.length + 1 || !Number.isInteger(index) || index < 0) return null;
    const mask = f[7] !== undefined && /^0x[0-9a-f]+$/i.test(f[7]) ? f[7] : null;
    return {
      index,
      name: f[1] ?? '',
      smClockMhz: numberOrNull(f[2]),
      memoryClockMhz: numberOrNull(f[3]),
      temperatureC: numberOrNull(f[4]),
      powerDrawW: numberOrNull(f[5]),
      powerLimitW: numberOrNull(f[6]),
      reasonsMask: mask,
      reasons: decodeReasons(mask),
    };
  });
  return readings.every((r) => r !== null) ? readings : null;
}

/** One reading of every GPU; the older reason field is asked only when the newer one is refused. */
export function readGpuSnapshot(commands: CommandRunner, at: string): GpuSnapshot {
  const failures: string[] = [];
  for (const reasonsField of REASON_FIELDS) {
    const answer = commands('nvidia-smi', [
      `--query-gpu=${[...QUERY, reasonsField].join(',')}`,
      '--format=csv,noheader,nounits',
    ]);
    if (!answer.ok) {
      // No nvidia-smi at all: a CPU machine, nothing to warn about.
      if (answer.missing) return { at, status: 'absent', reason: answer.reason, reasonsField: null, gpus: [] };
      // A hung driver would hang again for the older name: one wait is enough.
      if (answer.timedOut) return { at, status: 'failed', reason: answer.reason, reasonsField: null, gpus: [] };
      failures.push(answer.reason);
      continue;
    }
    const gpus = parseGpuReadings(answer.stdout);
    if (gpus !== null) return { at, status: 'read', reason: null, reasonsField, gpus };
    // A driver that names the field unknown yet exits 0 lands here too: the older name is tried next.
    const first = answer.stdout.split('\n').find((l) => l.trim() !== '') ?? '';
    failures.push(`nvidia-smi printed what is not a reading: ${first.trim()}`);
  }
  // The same failure twice (a driver that does not answer) is said once.
  return { at, status: 'failed', reason: [...new Set(failures)].join('; then '), reasonsField: null, gpus: [] };
}

/**
 * Why the GPU may have measured slower than it can: after the matrix a slowing reason (heat, power, the hardware's
 * brake) is active, or the SM clock fell notably below its reading before while the GPU is not idle (an idle GPU
 * lowers its clock by design, so that fall means nothing). One line per GPU, none when nothing was seen.
 */
export function gpuThrottleWarnings(before: GpuSnapshot, after: GpuSnapshot): string[] {
  const warnings: string[] = [];
  for (const gpu of after.gpus) {
    const why: string[] = [];
    const slowing = gpu.reasons.filter((r) => SLOWING_REASONS.includes(r));
    if (slowing.length > 0) why.push(`${slowing.join(', ')} active after the matrix`);
    const was = before.gpus.find((g) => g.index === gpu.index && g.name === gpu.name)?.smClockMhz ?? null;
    const now = gpu.smClockMhz;
    const idle = gpu.reasons.includes('gpu_idle');
    if (!idle && was !== null && now !== null && now < was * (1 - SM_CLOCK_DROP_FRACTION)) {
      why.push(`SM clock ${was} MHz before the matrix, ${now} MHz after (${Math.round((now / was - 1) * 100)}%)`);
    }
    if (why.length === 0) continue;
    warnings.push(
      `GPU ${gpu.index} (${gpu.name}) throttled during the run: ${why.join('; ')} (${conditions(gpu)}): its latencies may be slower than the GPU can be`,
    );
  }
  return warnings;
}

/** Both readings and what they show. */
export function gpuStateOf(before: GpuSnapshot, after: GpuSnapshot): GpuState {
  return { before, after, throttleWarnings: gpuThrottleWarnings(before, after) };
}

const show = (value: number | null, unit: string): string => (value === null ? 'n/a' : `${value} ${unit}`);

/** Temperature and power of one reading, in words. */
function conditions(gpu: GpuReading): string {
  return `${show(gpu.temperatureC, '°C')}, ${show(gpu.powerDrawW, 'W')} of ${show(gpu.powerLimitW, 'W')}`;
}

/** One reading in words: clocks, temperature, power, reasons. */
function readingText(gpu: GpuReading): string {
  const reasons = gpu.reasonsMask === null ? 'reasons n/a' : `reasons ${gpu.reasons.join('+') || 'none'}`;
  return `SM ${show(gpu.smClockMhz, 'MHz')}, memory ${show(gpu.memoryClockMhz, 'MHz')}, ${conditions(gpu)}, ${reasons}`;
}

/**
 * The state in short lines, one per GPU ("GPU 0 NVIDIA H100: before …; after …") or one saying why there is no
 * reading; none on a machine without nvidia-smi. For the report's method section and the cells' fingerprint notes.
 */
export function gpuStateLines(state: GpuState): string[] {
  const { before, after } = state;
  if (before.status === 'absent' && after.status === 'absent') return [];
  const lines: string[] = [];
  for (const [when, snap] of [
    ['before', before],
    ['after', after],
  ] as const) {
    if (snap.status !== 'read') lines.push(`nvidia-smi ${when} the matrix: ${snap.reason ?? snap.status}`);
  }
  const indexes = [...new Set([...before.gpus, ...after.gpus].map((g) => g.index))].sort((a, b) => a - b);
  for (const index of indexes) {
    const b = before.gpus.find((g) => g.index === index);
    const a = after.gpus.find((g) => g.index === index);
    const name = (a ?? b)?.name ?? '';
    lines.push(
      `GPU ${index} ${name}: before ${b ? readingText(b) : 'not read'}; after ${a ? readingText(a) : 'not read'}`,
    );
  }
  return lines;
}
