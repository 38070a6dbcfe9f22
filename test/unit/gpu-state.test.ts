import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { commandRunner, type CommandResult, type CommandRunner } from '../../src/env/command.js';
import {
  decodeReasons,
  gpuStateLines,
  gpuStateOf,
  gpuThrottleWarnings,
  readGpuSnapshot,
  type GpuSnapshot,
} from '../../src/env/gpu-state.js';
import { TEST_AT as AT } from '../helpers/results.js';

const FIXTURES = path.join(import.meta.dirname, '..', '..', 'fixtures', 'nvidia-smi');
const fixture = (name: string): string => readFileSync(path.join(FIXTURES, name), 'utf8');

/** nvidia-smi as a function: each reason field's answer, and the arguments it was asked with. */
function smi(answers: Partial<Record<'event' | 'throttle', CommandResult>>): { run: CommandRunner; asked: string[] } {
  const asked: string[] = [];
  const run: CommandRunner = (command, args) => {
    expect(command).toBe('nvidia-smi');
    asked.push(args.join(' '));
    const answer = args[0]?.includes('clocks_event_reasons') ? answers.event : answers.throttle;
    return answer ?? { ok: false, missing: false, reason: 'not asked for' };
  };
  return { run, asked };
}
const prints = (name: string): CommandResult => ({ ok: true, stdout: fixture(name) });
const snapshot = (name: string): GpuSnapshot => readGpuSnapshot(smi({ event: prints(name) }).run, AT);

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** A PATH holding only a fake nvidia-smi that prints `stdout` and exits with `status` (the real runner runs it). */
function fakeSmiPath(script: string): NodeJS.ProcessEnv {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tr118-smi-'));
  dirs.push(dir);
  writeFileSync(path.join(dir, 'nvidia-smi'), `#!/bin/sh\n${script}\n`);
  chmodSync(path.join(dir, 'nvidia-smi'), 0o755);
  return { PATH: `${dir}:/usr/bin:/bin` };
}

describe('reading nvidia-smi', () => {
  it('an H100: clocks in MHz, °C, W, and its reasons by name', () => {
    const { run, asked } = smi({ event: prints('h100-idle.csv') });
    expect(readGpuSnapshot(run, AT)).toEqual({
      at: AT,
      status: 'read',
      reason: null,
      reasonsField: 'clocks_event_reasons.active',
      gpus: [
        {
          index: 0,
          name: 'NVIDIA H100 80GB HBM3',
          smClockMhz: 345,
          memoryClockMhz: 2619,
          temperatureC: 33,
          powerDrawW: 69.88,
          powerLimitW: 700,
          reasonsMask: '0x0000000000000001',
          reasons: ['gpu_idle'],
        },
      ],
    });
    expect(asked).toEqual([
      '--query-gpu=index,name,clocks.sm,clocks.mem,temperature.gpu,power.draw,power.limit,clocks_event_reasons.active --format=csv,noheader,nounits',
    ]);
  });

  it('two H200: one reading each', () => {
    const s = snapshot('h200x2-busy.csv');
    expect(s.gpus.map((g) => [g.index, g.name, g.smClockMhz, g.memoryClockMhz, g.reasons])).toEqual([
      [0, 'NVIDIA H200', 1980, 3201, []],
      [1, 'NVIDIA H200', 1980, 3201, []],
    ]);
  });

  it('[N/A] and [Not Supported] are null, not 0 or NaN', () => {
    const [gpu] = snapshot('h100-pcie-not-supported.csv').gpus;
    expect(gpu).toMatchObject({
      smClockMhz: 1755,
      powerDrawW: null,
      powerLimitW: null,
      reasonsMask: null,
      reasons: [],
    });
    expect(
      gpuStateLines(gpuStateOf(snapshot('h100-pcie-not-supported.csv'), snapshot('h100-pcie-not-supported.csv'))),
    ).toEqual([
      'GPU 0 NVIDIA H100 PCIe: before SM 1755 MHz, memory 1593 MHz, 41 °C, n/a of n/a, reasons n/a; after SM 1755 MHz, memory 1593 MHz, 41 °C, n/a of n/a, reasons n/a',
    ]);
  });

  it('a driver before the rename: the old field name is asked next, and said', () => {
    const { run, asked } = smi({
      event: {
        ok: false,
        missing: false,
        reason: `nvidia-smi failed (exit status 2): ${fixture('old-driver-unknown-field.txt').trim()}`,
      },
      throttle: prints('h100-busy.csv'),
    });
    const s = readGpuSnapshot(run, AT);
    expect(s).toMatchObject({ status: 'read', reasonsField: 'clocks_throttle_reasons.active' });
    expect(s.gpus[0]).toMatchObject({ smClockMhz: 1980, reasons: [] });
    expect(asked).toHaveLength(2);
  });

  it('no nvidia-smi (a CPU machine): not available, no lines, no warning', () => {
    const absent = readGpuSnapshot(commandRunner({ PATH: '/nonexistent' }), AT);
    expect(absent).toEqual({
      at: AT,
      status: 'absent',
      reason: 'nvidia-smi not found on PATH',
      reasonsField: null,
      gpus: [],
    });
    const state = gpuStateOf(absent, absent);
    expect(state.throttleWarnings).toEqual([]);
    expect(gpuStateLines(state)).toEqual([]);
  });

  it('nvidia-smi failing (the driver not loaded): recorded with what it said, once', () => {
    const env = fakeSmiPath(`cat '${path.join(FIXTURES, 'driver-not-loaded.txt')}'\nexit 9`);
    const failed = readGpuSnapshot(commandRunner(env), AT);
    expect(failed).toEqual({
      at: AT,
      status: 'failed',
      reason:
        "nvidia-smi failed (exit status 9): NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver. Make sure that the latest NVIDIA driver is installed and running.",
      reasonsField: null,
      gpus: [],
    });
    const state = gpuStateOf(failed, failed);
    expect(state.throttleWarnings).toEqual([]);
    expect(gpuStateLines(state)[0]).toMatch(
      /^nvidia-smi before the matrix: nvidia-smi failed \(exit status 9\): NVIDIA-SMI has failed/,
    );
  });

  it('the real runner against an older driver: refused field, then the old name answers', () => {
    const env = fakeSmiPath(
      `case "$1" in *clocks_event_reasons*) cat '${path.join(FIXTURES, 'old-driver-unknown-field.txt')}'; exit 2;; esac\ncat '${path.join(FIXTURES, 'h100-throttled.csv')}'`,
    );
    const s = readGpuSnapshot(commandRunner(env), AT);
    expect(s).toMatchObject({ status: 'read', reasonsField: 'clocks_throttle_reasons.active' });
    expect(s.gpus[0]?.reasons).toEqual(['sw_power_cap', 'sw_thermal_slowdown']);
  });

  it('nvidia-smi hanging: failed after one wait, the older field name not asked', () => {
    const { run, asked } = smi({
      event: { ok: false, missing: false, timedOut: true, reason: 'nvidia-smi did not answer within 10 s' },
    });
    expect(readGpuSnapshot(run, AT)).toMatchObject({
      status: 'failed',
      reason: 'nvidia-smi did not answer within 10 s',
    });
    expect(asked).toHaveLength(1);
  });

  it('output that is not a reading is a failure naming it, not a GPU', () => {
    const s = readGpuSnapshot(
      smi({ event: { ok: true, stdout: 'garbage\n' }, throttle: { ok: true, stdout: 'garbage\n' } }).run,
      AT,
    );
    expect(s).toMatchObject({
      status: 'failed',
      reason: 'nvidia-smi printed what is not a reading: garbage',
      gpus: [],
    });
  });

  it('decodes every mask bit; an unknown bit is kept as its value', () => {
    expect(decodeReasons('0x0000000000000000')).toEqual([]);
    expect(decodeReasons('0x00000000000001FF')).toEqual([
      'gpu_idle',
      'applications_clocks_setting',
      'sw_power_cap',
      'hw_slowdown',
      'sync_boost',
      'sw_thermal_slowdown',
      'hw_thermal_slowdown',
      'hw_power_brake_slowdown',
      'display_clock_setting',
    ]);
    expect(decodeReasons('0x0000000000000408')).toEqual(['hw_slowdown', '0x400']);
    expect(decodeReasons(null)).toEqual([]);
  });
});

describe('the throttle warning', () => {
  it('thermal and power reasons active after the matrix: a warning naming them', () => {
    expect(gpuThrottleWarnings(snapshot('h100-busy.csv'), snapshot('h100-throttled.csv'))).toEqual([
      'GPU 0 (NVIDIA H100 80GB HBM3) throttled during the run: sw_power_cap, sw_thermal_slowdown active after the matrix (86 °C, 699.12 W of 700 W): its latencies may be slower than the GPU can be',
    ]);
  });

  it('the SM clock fell well below its reading before, no reason shown: a warning with both clocks', () => {
    expect(gpuThrottleWarnings(snapshot('h100-busy.csv'), snapshot('h100-clock-dropped.csv'))).toEqual([
      'GPU 0 (NVIDIA H100 80GB HBM3) throttled during the run: SM clock 1980 MHz before the matrix, 1410 MHz after (-29%) (58 °C, 402.77 W of 700 W): its latencies may be slower than the GPU can be',
    ]);
  });

  it('not throttled: no warning (busy → busy, idle → busy, busy → idle, two H200)', () => {
    expect(gpuThrottleWarnings(snapshot('h100-busy.csv'), snapshot('h100-busy.csv'))).toEqual([]);
    expect(gpuThrottleWarnings(snapshot('h100-idle.csv'), snapshot('h100-busy.csv'))).toEqual([]);
    // An idle GPU lowers its clock by design: a fall to idle after the matrix is no throttle.
    expect(gpuThrottleWarnings(snapshot('h100-busy.csv'), snapshot('h100-idle.csv'))).toEqual([]);
    expect(gpuThrottleWarnings(snapshot('h200x2-busy.csv'), snapshot('h200x2-busy.csv'))).toEqual([]);
  });

  it('the summary lines: before and after per GPU', () => {
    expect(gpuStateLines(gpuStateOf(snapshot('h100-idle.csv'), snapshot('h100-throttled.csv')))).toEqual([
      'GPU 0 NVIDIA H100 80GB HBM3: before SM 345 MHz, memory 2619 MHz, 33 °C, 69.88 W of 700 W, reasons gpu_idle; after SM 1755 MHz, memory 2619 MHz, 86 °C, 699.12 W of 700 W, reasons sw_power_cap+sw_thermal_slowdown',
    ]);
  });
});
