/**
 * `tr118 run` from model.hf alone (issue 22): the fixture checkpoint is exported with torch's dynamo exporter (the
 * default), and onnxruntime-cpu-int8, derived from that export, passes its int8 perplexity gate beside the fp32
 * export; model.export.exporter: torchscript still exports, under another key, with the same perplexity. A fused fp16
 * backend (optimize: transformers) reads its model type from model.hf's config.json and fuses the dynamo export.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';
import { ExitCode } from '../../src/errors.js';
import { readResultsFile } from '../../src/results/read.js';
import { FIXTURE_HF, FIXTURE_TOKENS, tempDir } from '../helpers/fixture.js';
import { runSourceCli } from '../helpers/cli.js';
import { describeWithTorch, PYTHON_ENV } from '../helpers/python.js';

const tr118 = (args: string[]) => runSourceCli(args, PYTHON_ENV);

function config(dir: string, exportLine: string): string {
  const file = path.join(dir, `tr118-${exportLine ? 'torchscript' : 'default'}.yml`);
  writeFileSync(
    file,
    `model:\n  hf: ${FIXTURE_HF}\n  context_tokens: 512\n${exportLine}inputs:\n  tokens: ${FIXTURE_TOKENS}\n` +
      'backends: [onnxruntime-cpu, onnxruntime-cpu-int8,\n' +
      '  { name: fused-fp16, engine: onnxruntime, provider: cpu, variant: fp16, optimize: transformers }]\n' +
      'scenarios:\n  s: { batch: 1, seq_len: 32 }\n' +
      'repetitions: 1\niterations: 2\nwarmup: 0\naccuracy: { max_tokens: 1200, window: 256, stride: 128 }\n',
  );
  return file;
}

describeWithTorch('model.hf exported by dynamo, and its int8 variant (issue 22)', () => {
  it('exports with dynamo by default; the int8 variant of the export passes its gate; torchscript gives the same perplexity', async () => {
    const dir = tempDir();
    const cacheDir = path.join(dir, 'cache');
    const dynamo = await tr118([
      'run',
      '--config',
      config(dir, ''),
      '--out',
      path.join(dir, 'dynamo'),
      '--cache-dir',
      cacheDir,
    ]);
    expect(dynamo.status, dynamo.stderr + dynamo.stdout).toBe(ExitCode.pass);
    const fromDynamo = readResultsFile(path.join(dir, 'dynamo', 'results.json'));
    expect(fromDynamo.export).toMatchObject({ exporter: 'dynamo', opset: 18, dynamic: true, cache: 'built' });
    expect(fromDynamo.onnxVariants![0]).toMatchObject({
      transform: 'int8-dynamic',
      sourcePath: fromDynamo.export!.onnxPath,
    });
    const row = (r: typeof fromDynamo, backend: string) => r.accuracy!.rows.find((x) => x.backend === backend)!;
    expect(row(fromDynamo, 'onnxruntime-cpu-int8').pass).toBe(true);
    // The export's model type is model.hf's (gpt2): the dynamo graph fuses as the TorchScript one does.
    const fused = fromDynamo.onnxVariants!.find((v) => v.backend === 'fused-fp16')!;
    expect(fused).toMatchObject({
      optimize: 'transformers',
      transform: 'fp16',
      sourcePath: fromDynamo.export!.onnxPath,
    });
    expect(fused.fusions).toMatchObject({ SkipLayerNormalization: 8, FastGelu: 4 });
    expect(fused.tool).toContain('optimize_model (gpt2, opt_level 0)');
    expect(row(fromDynamo, 'fused-fp16')).toMatchObject({ precision: 'fp16', pass: true });

    const legacy = await tr118([
      ...['run', '--config', config(dir, '  export: { exporter: torchscript }\n'), '--out', path.join(dir, 'ts')],
      ...['--cache-dir', cacheDir],
    ]);
    expect(legacy.status, legacy.stderr + legacy.stdout).toBe(ExitCode.pass);
    const fromTorchscript = readResultsFile(path.join(dir, 'ts', 'results.json'));
    expect(fromTorchscript.export).toMatchObject({ exporter: 'torchscript', opset: 17, cache: 'built' });
    expect(fromTorchscript.export!.key).not.toBe(fromDynamo.export!.key);
    // Two graphs of one function, run by onnxruntime-node: the same perplexity to fp32 rounding.
    const fp32 = (r: typeof fromDynamo) => row(r, 'onnxruntime-cpu').perplexity!;
    expect(Math.abs(fp32(fromDynamo) / fp32(fromTorchscript) - 1)).toBeLessThan(1e-5);
    // Each export has its own int8 variant (another source file, another key).
    expect(fromTorchscript.onnxVariants![0]!.key).not.toBe(fromDynamo.onnxVariants![0]!.key);
  });
});
