/**
 * Precision variants as backends (issue 22), through `tr118 run` on the fixture: onnxruntime-cpu-int8 is derived
 * from the fp32 file by the native worker (dynamic int8 quantization of the MatMul weights), cached under its own key,
 * and passes its precision's perplexity gate (int8: 0.02) against the fp32 reference; a badly quantized int8 file
 * (every weight scale 50× too large: tr118_native.fixture misquantize) runs just as fast and fails it, exit 1.
 */
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ExitCode } from '../../src/errors.js';
import { readResultsFile } from '../../src/results/read.js';
import { VARIANT_KIND } from '../../src/engines/onnxruntime/variant.js';
import { runFixtureRole } from '../../scripts/native.js';
import { ROOT, tempDir, variantMatrix, writeConfig } from '../helpers/fixture.js';
import { runSourceCli } from '../helpers/cli.js';
import { PYTHON_ENV } from '../helpers/python.js';

describe('precision variants gated by their precision (issue 22)', () => {
  it('onnxruntime-cpu-int8 is derived once, cached by its own key, and passes the int8 perplexity gate', async () => {
    const dir = tempDir();
    const config = writeConfig(dir, variantMatrix('[onnxruntime-cpu, onnxruntime-cpu-int8]'));
    const cacheDir = path.join(dir, 'cache');
    const run = (out: string) =>
      runSourceCli(['run', '--config', config, '--out', path.join(dir, out), '--cache-dir', cacheDir], PYTHON_ENV);
    const first = await run('out1');
    expect(first.status, first.stderr + first.stdout).toBe(ExitCode.pass);
    expect(first.stderr).toContain('deriving the int8-dynamic variant');
    const results = readResultsFile(path.join(dir, 'out1', 'results.json'));
    const variants = results.onnxVariants!;
    expect(variants).toHaveLength(1);
    expect(variants[0]).toMatchObject({
      backend: 'onnxruntime-cpu-int8',
      transform: 'int8-dynamic',
      cache: 'built',
      corrupt: null,
    });
    expect(variants[0]!.tool).toMatch(/^onnxruntime \d+\.\d+\.\d+ quantize_dynamic \(MatMul, QInt8\)$/);
    const int8 = results.accuracy!.rows.find((r) => r.backend === 'onnxruntime-cpu-int8')!;
    expect(int8.pass).toBe(true);
    expect(int8.perplexity).not.toBe(results.accuracy!.rows.find((r) => r.backend === 'onnxruntime-cpu')!.perplexity);
    expect(results.backends.find((b) => b.spec.name === 'onnxruntime-cpu-int8')!.spec.precision).toBe('int8');
    // The derived file and its tool make cells comparable: both are in the fingerprint.
    const cell = results.cells.find((c) => c.backend === 'onnxruntime-cpu-int8')!;
    expect(JSON.stringify(cell.fingerprint)).toContain('int8-dynamic');
    expect(JSON.stringify(cell.fingerprint)).toContain('quantize_dynamic');
    expect(readdirSync(path.join(cacheDir, VARIANT_KIND))).toEqual([variants[0]!.key]);

    const second = await run('out2');
    expect(second.status, second.stderr).toBe(ExitCode.pass);
    expect(second.stderr).not.toContain('deriving the int8-dynamic variant');
    const again = readResultsFile(path.join(dir, 'out2', 'results.json'));
    expect(again.onnxVariants![0]).toMatchObject({ cache: 'hit', key: variants[0]!.key });
  });

  it('the fp16 variant (the one onnxruntime-cuda-fp16 measures), run on the CPU provider: fp32 ids and logits kept, passes the fp16 gate', async () => {
    const dir = tempDir();
    const config = writeConfig(
      dir,
      variantMatrix('\n  - onnxruntime-cpu\n  - { name: cpu-fp16, engine: onnxruntime, provider: cpu, variant: fp16 }'),
    );
    const r = await runSourceCli(
      ['run', '--config', config, '--out', path.join(dir, 'out'), '--cache-dir', path.join(dir, 'c')],
      PYTHON_ENV,
    );
    expect(r.status, r.stderr + r.stdout).toBe(ExitCode.pass);
    const results = readResultsFile(path.join(dir, 'out', 'results.json'));
    expect(results.onnxVariants![0]).toMatchObject({ backend: 'cpu-fp16', transform: 'fp16', cache: 'built' });
    const row = results.accuracy!.rows.find((x) => x.backend === 'cpu-fp16')!;
    expect(row).toMatchObject({ precision: 'fp16', thresholdFraction: 0.005, pass: true });
    const cell = results.cells.find((c) => c.backend === 'cpu-fp16')!;
    expect(JSON.stringify(cell.fingerprint)).toContain('convert_float_to_float16 (keep_io_types)');
  });

  it('a badly quantized int8 file (absurd weight scales) fails the int8 perplexity gate: exit 1', async () => {
    const dir = tempDir();
    const broken = path.join(dir, 'misquantized.onnx');
    runFixtureRole(ROOT, 'misquantize', ['--out', broken, '--factor', '50']);
    expect(existsSync(broken)).toBe(true);
    const config = writeConfig(
      dir,
      variantMatrix(
        `\n  - onnxruntime-cpu\n  - { name: int8-broken, engine: onnxruntime, precision: int8, model: ${broken} }`,
      ),
    );
    const r = await runSourceCli(['run', '--config', config, '--out', path.join(dir, 'out')], PYTHON_ENV);
    expect(r.status, r.stderr).toBe(ExitCode.gateFailed);
    expect(r.stdout).toMatch(/^verdict: fail /m);
    const results = readResultsFile(path.join(dir, 'out', 'results.json'));
    const row = results.accuracy!.rows.find((x) => x.backend === 'int8-broken')!;
    expect(row.pass).toBe(false);
  });
});
