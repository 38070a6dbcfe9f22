/**
 * `optimize: transformers` (issue 22) through a run on the fixture: ONNX Runtime's transformer fusions of the fixture's
 * GPT-2 graph, derived by the native worker, cached with their counts, gated at fp32 against the reference; a model
 * type the optimizer does not know is a note and the backend runs unfused. And same-run A/B with a derived backend:
 * the base side opens the BASE model's derived file, never its fp32 file nor the candidate's.
 */
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfigFile } from '../../src/config/load.js';
import { ExitCode } from '../../src/errors.js';
import { runPipeline } from '../../src/pipeline/index.js';
import { readResultsFile } from '../../src/results/read.js';
import { FIXTURE_MODEL, ROOT, tempDir, variantMatrix, writeConfig } from '../helpers/fixture.js';
import { runSourceCli } from '../helpers/cli.js';
import { perturbedFixture, PYTHON_ENV } from '../helpers/python.js';

const FUSED =
  '\n  - onnxruntime-cpu\n  - { name: ort-cpu-fused, engine: onnxruntime, provider: cpu, optimize: transformers }';

describe('optimize: transformers (issue 22)', () => {
  it("fuses the fixture's GPT-2 graph (model type from model.hf's config.json), records the counts, passes the fp32 gate, and hits the cache", async () => {
    const dir = tempDir();
    const config = writeConfig(dir, variantMatrix(FUSED), path.join(ROOT, 'fixtures/model/hf'));
    const cacheDir = path.join(dir, 'cache');
    const run = (out: string) =>
      runSourceCli(['run', '--config', config, '--out', path.join(dir, out), '--cache-dir', cacheDir], PYTHON_ENV);
    const first = await run('out1');
    expect(first.status, first.stderr + first.stdout).toBe(ExitCode.pass);
    expect(first.stderr).toContain('deriving the transformers fusions variant');
    const results = readResultsFile(path.join(dir, 'out1', 'results.json'));
    const record = results.onnxVariants![0]!;
    expect(record).toMatchObject({ backend: 'ort-cpu-fused', optimize: 'transformers', cache: 'built', note: null });
    expect(record).not.toHaveProperty('transform');
    // Per block of the fixture's 4: two SkipLayerNormalization, one FastGelu.
    expect(record.fusions).toMatchObject({ SkipLayerNormalization: 8, FastGelu: 4 });
    expect(record.tool).toMatch(/^onnxruntime \d+\.\d+\.\d+ optimize_model \(gpt2, opt_level 0\)$/);
    const row = results.accuracy!.rows.find((r) => r.backend === 'ort-cpu-fused')!;
    expect(row).toMatchObject({ precision: 'fp32', thresholdFraction: 0.001, pass: true });
    const cell = results.cells.find((c) => c.backend === 'ort-cpu-fused')!;
    expect(JSON.stringify(cell.fingerprint)).toContain('"optimize":"transformers"');
    expect(results.notes.join('\n')).not.toContain('unfused');
    const report = readFileSync(path.join(dir, 'out1', 'report.md'), 'utf8');
    expect(report).toContain('SkipLayerNormalization 8');
    expect(report).toContain('transformers fusions');

    const second = await run('out2');
    expect(second.status, second.stderr).toBe(ExitCode.pass);
    expect(second.stderr).not.toContain('deriving the transformers fusions variant');
    // the counts come back from the cache (optimizer.json beside the file), not from a new derivation
    const again = readResultsFile(path.join(dir, 'out2', 'results.json')).onnxVariants![0]!;
    expect(again).toMatchObject({ cache: 'hit', key: record.key, fusions: record.fusions });
  });

  it('a model type the optimizer does not know is a note, and the backend runs on the unfused graph', async () => {
    const dir = tempDir();
    const model = path.join(dir, 'model.onnx');
    copyFileSync(FIXTURE_MODEL, model);
    writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ model_type: 'llama', num_attention_heads: 4 }));
    const config = writeConfig(dir, variantMatrix(FUSED));
    writeFileSync(config, readFileSync(config, 'utf8').replace(`onnx: ${FIXTURE_MODEL}`, `onnx: ${model}`));
    const r = await runSourceCli(
      ['run', '--config', config, '--out', path.join(dir, 'out'), '--cache-dir', path.join(dir, 'c')],
      PYTHON_ENV,
    );
    expect(r.status, r.stderr + r.stdout).toBe(ExitCode.pass);
    const results = readResultsFile(path.join(dir, 'out', 'results.json'));
    const record = results.onnxVariants![0]!;
    expect(record.fusions).toEqual({});
    expect(record.note).toMatch(/does not know model type 'llama' \(it knows .*gpt2.*\): the file is used unfused/);
    expect(results.notes).toContainEqual(
      expect.stringMatching(/^the transformers fusions variant of ort-cpu-fused: .*does not know model type 'llama'/),
    );
    // the unfused graph: the reference's perplexity exactly
    const rows = results.accuracy!.rows;
    const fused = rows.find((x) => x.backend === 'ort-cpu-fused')!;
    expect(fused.pass).toBe(true);
    expect(fused.perplexity).toBe(rows.find((x) => x.backend === 'onnxruntime-cpu')!.perplexity);
    expect(readFileSync(path.join(dir, 'out', 'report.md'), 'utf8')).toContain("does not know model type 'llama'");
  });
});

describe('same-run A/B with derived backends', () => {
  it("derives the base model's files too (fused as the candidate is), and the worker opens base-derived vs candidate-derived", async () => {
    const dir = tempDir();
    // Another fp32 file, in a folder with no config.json: its files have their own keys, so the test tells the
    // derived files apart; it is fused for the candidate's model type (model.hf's), as the candidate is.
    const baseModel = perturbedFixture(path.join(dir, 'base.onnx'), 0.01);
    const log = path.join(dir, 'worker.log');
    const config = loadConfigFile(
      writeConfig(
        dir,
        'backends:\n  - onnxruntime-cpu-int8\n  - { name: fused, engine: onnxruntime, optimize: transformers }\n' +
          'scenarios:\n  s: { batch: 1, seq_len: 8 }\nrepetitions: 2\nstopping: fixed\n' +
          `iterations: 3\nwarmup: 0\naccuracy: { enabled: false }\ncompare: { base_model: ${baseModel} }\n`,
        path.join(ROOT, 'fixtures/model/hf'),
      ),
    );
    const { results } = await runPipeline({
      config,
      outDir: path.join(dir, 'out'),
      cacheDir: path.join(dir, 'cache'),
      backendOptions: {
        // The derive job runs in the project's Python; the timed sessions in a stand-in that logs what it opened.
        env: PYTHON_ENV,
        nodeWorker: {
          command: process.execPath,
          args: [path.join(ROOT, 'test/helpers/ab-worker.mjs')],
          env: { AB_WORKER_LOG: log },
        },
      },
    });
    const opens = readFileSync(log, 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { type: string; modelPath?: string; baseModelPath?: string })
      .filter((a) => a.type === 'open');
    for (const backend of ['onnxruntime-cpu-int8', 'fused']) {
      const records = results.onnxVariants!.filter((r) => r.backend === backend);
      const candidate = records.find((r) => r.side === 'candidate')!;
      const base = records.find((r) => r.side === 'base')!;
      expect(candidate.sourcePath).toBe(FIXTURE_MODEL);
      expect(base.sourcePath).toBe(baseModel);
      expect(base.key).not.toBe(candidate.key);
      expect(base.tool).toBe(candidate.tool);
      const own = opens.filter((o) => o.modelPath === candidate.variantPath);
      expect(own.length, backend).toBeGreaterThan(0);
      // the base model's derived file: not its fp32 file (base.onnx), nor the candidate's
      for (const open of own) expect(open.baseModelPath, backend).toBe(base.variantPath);
    }
    const fusedBase = results.onnxVariants!.find((r) => r.backend === 'fused' && r.side === 'base')!;
    expect(fusedBase).toMatchObject({ note: null, fusions: { SkipLayerNormalization: 8, FastGelu: 4 } });
  });
});
