/**
 * The fixture's perplexity through ONNX Runtime and the PyTorch worker against the float64 figure of its model card
 * (the torch tier).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';
import { loadConfigFile } from '../../src/config/load.js';
import { runPipeline } from '../../src/pipeline/index.js';
import { FIXTURE_HF, ROOT, tempDir, writeConfig } from '../helpers/fixture.js';
import { describeWithTorch, PYTHON_ENV } from '../helpers/python.js';

describeWithTorch('perplexity of the fixture against an independent reference', () => {
  it('equals the PyTorch float64 figure in model-card.json (same windows) to 1e-6 relative, through ONNX Runtime and the PyTorch worker alike', async () => {
    const card = JSON.parse(readFileSync(path.join(ROOT, 'fixtures/model/model-card.json'), 'utf8')) as {
      heldout_perplexity: {
        window: number;
        stride: number;
        torch_float64: { perplexity: number; scored_tokens: number; windows: number };
      };
    };
    const ref = card.heldout_perplexity;
    const dir = tempDir();
    const config = loadConfigFile(
      writeConfig(
        dir,
        `backends: [onnxruntime-cpu, transformers-cpu]\nscenarios:\n  single_micro: { batch: 1, seq_len: 8 }\nrepetitions: 1\niterations: 1\nwarmup: 0\n` +
          `accuracy: { max_tokens: 1000000, window: ${ref.window}, stride: ${ref.stride}, reference: onnxruntime-cpu }\n`,
        FIXTURE_HF,
      ),
    );
    const { results } = await runPipeline({
      config,
      outDir: path.join(dir, 'out'),
      backendOptions: { env: PYTHON_ENV },
    });
    const [ort, torch] = results.accuracy!.rows;
    for (const row of [ort!, torch!]) {
      expect(row.status, row.error ?? '').toBe('ok');
      expect(row.scoredTokens).toBe(ref.torch_float64.scored_tokens);
      expect(Math.abs(row.perplexity! / ref.torch_float64.perplexity - 1)).toBeLessThan(1e-6);
    }
    expect(torch!.backend).toBe('transformers-cpu');
    expect(Math.abs(torch!.perplexity! / ort!.perplexity! - 1)).toBeLessThan(1e-6);
  });
});
