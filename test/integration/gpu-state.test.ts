/**
 * The GPUs read before and after the matrix, through a whole run on this machine's CPU: nvidia-smi is handed in
 * (fixtures/nvidia-smi), so the readings, the throttle warning and the report lines are tested without a GPU.
 */
import { readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfigFile } from '../../src/config/load.js';
import { commandRunner, type CommandRunner } from '../../src/env/command.js';
import { runPipeline, type PipelineResult } from '../../src/pipeline/index.js';
import { readResultsFile } from '../../src/results/read.js';
import { ROOT, tempDir, writeConfig } from '../helpers/fixture.js';

const SMI = path.join(ROOT, 'fixtures', 'nvidia-smi');
const TINY = `backends: [onnxruntime-cpu]\nscenarios:\n  s: { batch: 1, seq_len: 8 }\nrepetitions: 1\niterations: 2\nwarmup: 0\naccuracy: { enabled: false }\n`;

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** nvidia-smi answering the machine query with one H100, and the clock queries with `readings` in turn. */
function h100(readings: readonly string[]): CommandRunner {
  const real = commandRunner();
  let next = 0;
  return (command, args, options) => {
    if (command !== 'nvidia-smi') return real(command, args, options);
    if (args[0]?.includes('driver_version'))
      return { ok: true, stdout: 'NVIDIA H100 80GB HBM3, 580.82.07, 81559, 9.0\n' };
    const file = readings[Math.min(next++, readings.length - 1)] ?? '';
    return { ok: true, stdout: readFileSync(path.join(SMI, file), 'utf8') };
  };
}

async function run(commands: CommandRunner): Promise<{ result: PipelineResult; warnings: string[] }> {
  const dir = tempDir();
  dirs.push(dir);
  const warnings: string[] = [];
  const result = await runPipeline({
    config: loadConfigFile(writeConfig(dir, TINY)),
    outDir: path.join(dir, 'out'),
    warn: (message) => warnings.push(message),
    commands,
  });
  return { result, warnings };
}

describe('the GPUs around the matrix', () => {
  it('throttled: a warning said and kept, both readings in results.json, lines in the report', async () => {
    const { result, warnings } = await run(h100(['h100-busy.csv', 'h100-throttled.csv']));
    const warning =
      'GPU 0 (NVIDIA H100 80GB HBM3) throttled during the run: sw_power_cap, sw_thermal_slowdown active after the matrix (86 °C, 699.12 W of 700 W): its latencies may be slower than the GPU can be';
    expect(warnings).toEqual([warning]);
    const stored = readResultsFile(result.files.results);
    expect(stored.notes).toEqual([warning]);
    const state = stored.environment.gpuState!;
    expect(state.before).toMatchObject({ status: 'read', reasonsField: 'clocks_event_reasons.active' });
    expect(state.before.gpus[0]).toMatchObject({ smClockMhz: 1980, temperatureC: 51, powerDrawW: 312.45, reasons: [] });
    expect(state.after.gpus[0]).toMatchObject({
      smClockMhz: 1755,
      temperatureC: 86,
      reasons: ['sw_power_cap', 'sw_thermal_slowdown'],
    });
    expect(state.throttleWarnings).toEqual([warning]);
    const report = readFileSync(result.files.report, 'utf8');
    expect(report).toContain(`> ⚠️ ${warning}`);
    expect(report).toContain(
      '- GPU clocks (nvidia-smi): GPU 0 NVIDIA H100 80GB HBM3: before SM 1980 MHz, memory 2619 MHz, 51 °C, 312.45 W of 700 W, reasons none; after SM 1755 MHz, memory 2619 MHz, 86 °C, 699.12 W of 700 W, reasons sw_power_cap+sw_thermal_slowdown.',
    );
    expect(readFileSync(result.files.html, 'utf8')).toContain('<td>GPU clocks (nvidia-smi)</td>');
    expect(stored.cells[0]!.fingerprint.notes).toContain('after SM 1755 MHz');
  });

  it('not throttled: no warning; the notes leave the comparability hash as a throttled run had it', async () => {
    const throttled = await run(h100(['h100-busy.csv', 'h100-throttled.csv']));
    const { result, warnings } = await run(h100(['h100-idle.csv', 'h100-busy.csv']));
    expect(warnings).toEqual([]);
    expect(result.results.notes).toEqual([]);
    expect(result.results.environment.gpuState?.throttleWarnings).toEqual([]);
    expect(readFileSync(result.files.report, 'utf8')).not.toContain('throttled');
    expect(result.results.cells[0]!.fingerprint.hash).toBe(throttled.result.results.cells[0]!.fingerprint.hash);
  });

  it('no nvidia-smi (a CPU machine): recorded as absent, no warning, no GPU line, no fingerprint notes', async () => {
    const { result, warnings } = await run(commandRunner({ ...process.env, PATH: path.dirname(process.execPath) }));
    expect(warnings).toEqual([]);
    expect(result.results.environment.gpuState?.before).toMatchObject({
      status: 'absent',
      reason: 'nvidia-smi not found on PATH',
    });
    expect(readFileSync(result.files.report, 'utf8')).not.toContain('GPU clocks');
    expect(result.results.cells[0]!.fingerprint.notes).toBeUndefined();
  });
});
