/** The export of model.hf through the artifact cache, from the pipeline (the torch tier: the export runs torch). */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';
import { loadConfigFile } from '../../src/config/load.js';
import { runPipeline } from '../../src/pipeline/index.js';
import { readResultsFile } from '../../src/results/read.js';
import { FIXTURE_HF, FIXTURE_MODEL, tempDir, writeConfig } from '../helpers/fixture.js';
import { describeWithTorch, PYTHON_ENV } from '../helpers/python.js';

const MATRIX =
  'backends: [onnxruntime-cpu]\nscenarios:\n  s: { batch: 2, seq_len: 16 }\nrepetitions: 1\niterations: 2\nwarmup: 0\n' +
  'accuracy: { max_tokens: 600, window: 128, stride: 64 }\n';

/** A config with model.hf and no model.onnx: the checkpoint is exported (through the artifact cache). */
function exportConfig(dir: string): string {
  const file = writeConfig(dir, MATRIX, FIXTURE_HF);
  const text = readFileSync(file, 'utf8').replace(/^ {2}onnx: .*\n/m, '');
  writeFileSync(file, text);
  return file;
}

describeWithTorch('model.hf exported to ONNX, once per content (issue 10)', () => {
  it('the first run exports, the second hits and exports nothing; the export measures like the committed ONNX file', async () => {
    const dir = tempDir();
    const cacheDir = path.join(dir, 'cache');
    const run = (out: string, config = exportConfig(dir)) =>
      runPipeline({
        config: loadConfigFile(config),
        outDir: path.join(dir, out),
        cacheDir,
        backendOptions: { env: PYTHON_ENV, pythonSearchFrom: dir },
      });
    const first = await run('out1');
    // torch's own exporter by default (issue 22), at its opset.
    expect(first.results.export).toMatchObject({ cache: 'built', opset: 18, exporter: 'dynamo', corrupt: null });
    expect(first.results.export!.probeMaxAbsDiff!).toBeLessThan(1e-4);
    expect(first.results.export!.onnxPath.startsWith(cacheDir)).toBe(true);
    expect(first.results.model.path).toBe(first.results.export!.onnxPath);
    const report1 = readFileSync(path.join(dir, 'out1', 'report.md'), 'utf8');
    expect(report1).toContain('Made by this run (artifact cache miss): the ONNX export of model.hf.');

    const second = await run('out2');
    expect(second.results.export).toMatchObject({
      cache: 'hit',
      key: first.results.export!.key,
      probeMaxAbsDiff: null,
    });
    expect(second.results.export!.exportMs).toBe(first.results.export!.exportMs);
    expect(readFileSync(path.join(dir, 'out2', 'report.md'), 'utf8')).toContain(
      'Every artifact hit the cache: nothing was exported',
    );
    expect(readResultsFile(path.join(dir, 'out2', 'results.json')).export?.cache).toBe('hit');

    // The same checkpoint's committed ONNX file (the TorchScript exporter's graph), run by onnxruntime-node, gives the
    // same perplexity to fp32 rounding: two graphs of one function (their logits differ by ~1e-5).
    const given = await runPipeline({
      config: loadConfigFile(writeConfig(tempDir(), MATRIX)),
      outDir: path.join(dir, 'out3'),
    });
    expect(given.results.export).toBeUndefined();
    const ppl = (r: typeof given) => r.results.accuracy!.rows[0]!.perplexity!;
    expect(Math.abs(ppl(second) / ppl(given) - 1)).toBeLessThan(1e-5);
    expect(path.basename(FIXTURE_MODEL)).toBe('model.onnx');

    // A damaged cached export is detected, evicted, rebuilt and said so.
    const cached = second.results.export!.onnxPath;
    const bytes = readFileSync(cached);
    writeFileSync(cached, bytes.subarray(0, bytes.length - 100));
    const warnings: string[] = [];
    const third = await runPipeline({
      config: loadConfigFile(exportConfig(dir)),
      outDir: path.join(dir, 'out4'),
      cacheDir,
      warn: (m) => warnings.push(m),
      backendOptions: { env: PYTHON_ENV, pythonSearchFrom: dir },
    });
    expect(third.results.export?.cache).toBe('built');
    expect(third.results.export?.corrupt).toMatch(/model\.onnx/);
    expect(warnings.join('\n')).toMatch(/cached ONNX export was unusable and was rebuilt/);
    expect(readFileSync(third.results.export!.onnxPath).length).toBe(bytes.length);
  });
});
