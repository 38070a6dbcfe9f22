/**
 * `tr118 run` on a config that names only model.hf, exporting with torch in the .venv (the torch tier): two runs
 * needing one export at once, and a source that only transformers can refuse (issue 10, Tests).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { EXPORT_KIND } from '../../src/model/export-key.js';
import { ExitCode } from '../../src/errors.js';
import { readResultsFile } from '../../src/results/read.js';
import { checkpointWith, expectOneUsageLine, hfConfig, tr118 } from '../helpers/export-cli.js';
import { FIXTURE_HF, tempDir } from '../helpers/fixture.js';
import { damagedCheckpoint, describeWithTorch, VENV_PYTHON } from '../helpers/python.js';

describeWithTorch('model.hf exported by the CLI with torch (issue 10)', () => {
  describe('two tr118 run processes needing one export at the same time', () => {
    it('make one artifact: one run exports, the other waits and hits; both pass with the same perplexity', async () => {
      const dir = tempDir();
      const config = hfConfig(dir, FIXTURE_HF);
      const cacheDir = path.join(dir, 'cache');
      const env = { ...process.env, TR118_PYTHON: VENV_PYTHON };
      const run = (out: string) =>
        tr118(['run', '--config', config, '--out', path.join(dir, out), '--cache-dir', cacheDir], env);
      // Both started before either is awaited: the second asks for the key while the first holds its lock.
      const runs = [run('out1'), run('out2')];
      const [first, second] = await Promise.all(runs);
      for (const r of [first!, second!]) {
        expect(r.signal, r.stderr).toBeNull();
        expect(r.status, r.stderr).toBe(ExitCode.pass);
        expect(r.stdout).toMatch(/^verdict: pass /m);
      }
      // The export ran in one process only (the log line comes from inside the store's build).
      expect([first!, second!].filter((r) => r.stderr.includes('tr118: exporting ')).length).toBe(1);

      const results = ['out1', 'out2'].map((out) => readResultsFile(path.join(dir, out, 'results.json')));
      const exports = results.map((r) => r.export!);
      expect(exports.map((e) => e.cache).sort()).toEqual(['built', 'hit']);
      expect(exports[1]!.key).toBe(exports[0]!.key);
      expect(exports[1]!.onnxPath).toBe(exports[0]!.onnxPath);
      const hit = exports.find((e) => e.cache === 'hit')!;
      const built = exports.find((e) => e.cache === 'built')!;
      expect(hit.probeMaxAbsDiff).toBeNull();
      expect(hit.exportMs).toBe(built.exportMs);
      const ppl = results.map((r) => r.accuracy!.rows[0]!.perplexity!);
      // One file, one runtime, the same tokens: the same number (to rounding of a sum, were threads to split it).
      expect(Math.abs(ppl[1]! / ppl[0]! - 1)).toBeLessThan(1e-9);

      // Exactly one entry of the export kind, under that key, and nothing half-made left beside it.
      expect(readdirSync(path.join(cacheDir, EXPORT_KIND))).toEqual([built.key]);
      const scratch = path.join(cacheDir, '.tmp');
      expect(existsSync(scratch) ? readdirSync(scratch) : []).toEqual([]);
    });
  });

  it('a checkpoint with no architectures whose model_type has no causal LM class (t5): exit 2, one line', async () => {
    // Nothing in config.json for the TypeScript side to refuse: transformers (in the worker) finds no causal LM.
    const dir = tempDir();
    const hf = checkpointWith(dir, 't5', { model_type: 't5', d_model: 128, num_layers: 2, num_heads: 4 });
    const config = hfConfig(dir, hf);
    const r = await tr118(
      ['run', '--quiet', '--config', config, '--out', path.join(dir, 'out'), '--cache-dir', path.join(dir, 'cache')],
      { ...process.env, TR118_PYTHON: VENV_PYTHON },
    );
    expectOneUsageLine(r, config, [
      `exporting ${hf} to ONNX failed: ${hf}: not a causal LM transformers can load`,
      'expected a checkpoint that transformers.AutoModelForCausalLM loads',
    ]);
    expect(existsSync(path.join(dir, 'out', 'results.json'))).toBe(false);
  });

  describe('a checkpoint whose weights do not fit its config.json (issue 21)', () => {
    const runOn = (dir: string, config: string) =>
      tr118(
        ['run', '--quiet', '--config', config, '--out', path.join(dir, 'out'), '--cache-dir', path.join(dir, 'cache')],
        { ...process.env, TR118_PYTHON: VENV_PYTHON },
      );

    it('layer 3 missing from the weights: exit 2 naming the first keys and the count, nothing exported or cached', async () => {
      const dir = tempDir();
      const hf = damagedCheckpoint(FIXTURE_HF, path.join(dir, 'no-layer-3'), ['transformer.h.3.']);
      const config = hfConfig(dir, hf);
      const r = await runOn(dir, config);
      expectOneUsageLine(r, config, [
        `exporting ${hf} to ONNX failed: ${hf}: 12 weights config.json's architecture needs are missing from the weights file (transformer.h.3.attn.c_attn.bias, transformer.h.3.attn.c_attn.weight,`,
        '… (7 more))',
        'model.allowed_weight_differences',
      ]);
      expect(existsSync(path.join(dir, 'out', 'results.json'))).toBe(false);
      expect(
        existsSync(path.join(dir, 'cache', EXPORT_KIND)) ? readdirSync(path.join(dir, 'cache', EXPORT_KIND)) : [],
      ).toEqual([]);
    });

    it('config.json n_layer: 6 over the 4-layer weights: exit 2 naming layers 4 and 5', async () => {
      const dir = tempDir();
      const hf = checkpointWith(dir, 'six-layers', {
        ...(JSON.parse(readFileSync(path.join(FIXTURE_HF, 'config.json'), 'utf8')) as Record<string, unknown>),
        n_layer: 6,
      });
      const config = hfConfig(dir, hf);
      expectOneUsageLine(await runOn(dir, config), config, ['24 weights', '(transformer.h.4.']);
    });

    it('the same missing layer, allowed by model.allowed_weight_differences: exported and measured (exit 0)', async () => {
      const dir = tempDir();
      const hf = damagedCheckpoint(FIXTURE_HF, path.join(dir, 'no-layer-3'), ['transformer.h.3.']);
      const r = await runOn(dir, hfConfig(dir, hf, '  allowed_weight_differences: ["transformer.h.3.*"]\n'));
      expect(r.status, r.stderr).toBe(ExitCode.pass);
      const results = readResultsFile(path.join(dir, 'out', 'results.json'));
      expect(results.export?.cache).toBe('built');
    });
  });
});
