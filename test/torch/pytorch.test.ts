/**
 * The pytorch backends through the runner with torch itself (the torch tier: test/torch/): the accuracy gate against
 * ONNX Runtime, same-run A/B of two checkpoints, a compile that fails and a CUDA backend on a machine without a
 * usable GPU. (The fixture's perplexity through both engines against the model card is in
 * perplexity-reference.test.ts.)
 */
import { cpSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { restoreEnvAfterEach, runWithCheckpoint as run, SMALL } from '../helpers/checkpoint-run.js';
import { FIXTURE_HF, tempDir } from '../helpers/fixture.js';
import { damagedCheckpoint, describeWithTorch, perturbedFixture, VENV_PYTHON } from '../helpers/python.js';

restoreEnvAfterEach();

describeWithTorch('the pytorch backends with torch (CPU)', () => {
  describe('the accuracy gate between the checkpoint and its export', () => {
    it('passes the fixture checkpoint against its own ONNX export: same perplexity, logits within 1e-4', async () => {
      const { results } = await run(`backends: [onnxruntime-cpu, transformers-cpu]\n${SMALL}`);
      expect(results.verdict.reasons.filter((r) => r.rule === 'accuracy')).toEqual([]);
      const torch = results.accuracy!.rows.find((r) => r.backend === 'transformers-cpu')!;
      expect(torch.status).toBe('ok');
      expect(Math.abs(torch.deltaFraction!)).toBeLessThan(1e-6);
      expect(torch.maxAbsLogitDelta!).toBeLessThan(1e-4);
      expect(torch.top1Agreement).toBe(1);
      const backend = results.backends.find((b) => b.spec.name === 'transformers-cpu')!;
      expect(backend.session?.runtime).toBe('torch');
      expect(backend.session?.environment?.python).toBe(VENV_PYTHON);
      expect(backend.geomean?.latencyMs).toBeGreaterThan(0);
    });

    it('fails a checkpoint whose weights were perturbed by a few percent, naming it and the threshold', async () => {
      const noisy = perturbedFixture(path.join(tempDir(), 'noisy-hf'), 0.03, 0, FIXTURE_HF);
      const { results } = await run(`backends: [onnxruntime-cpu, transformers-cpu]\n${SMALL}`, { hf: noisy });
      expect(results.verdict.decision).toBe('fail');
      const reason = results.verdict.reasons.find((r) => r.rule === 'accuracy' && r.subject === 'transformers-cpu');
      expect(reason?.message).toMatch(
        /^perplexity Δ -?0\.0[1-9]\d* exceeds the fp32 threshold 0\.001 against onnxruntime-cpu/,
      );
    });
  });

  describe('a checkpoint whose weights do not fit its config.json (issue 21)', () => {
    it('transformers-cpu on a checkpoint missing layer 3 stops the run: a config error at model.hf naming the keys', async () => {
      const hf = damagedCheckpoint(FIXTURE_HF, path.join(tempDir(), 'no-layer-3'), ['transformer.h.3.']);
      await expect(run(`backends: [onnxruntime-cpu, transformers-cpu]\n${SMALL}`, { hf })).rejects.toThrow(
        /^config error: .*tr118\.yml:\d+:\d+: model\.hf: .*no-layer-3: 12 weights config\.json's architecture needs are missing from the weights file \(transformer\.h\.3\./,
      );
    });

    it('an unexpected tensor in the weights file: the same stop, naming it', async () => {
      const hf = damagedCheckpoint(FIXTURE_HF, path.join(tempDir(), 'extra'), [], ['extra.weight']);
      await expect(run(`backends: [onnxruntime-cpu, transformers-cpu]\n${SMALL}`, { hf })).rejects.toThrow(
        /model\.hf: .*extra: 1 weights in the file are not used by the architecture \(extra\.weight\)/,
      );
    });

    it('a base checkpoint missing a layer: the config error names compare.base_hf', async () => {
      const base = damagedCheckpoint(FIXTURE_HF, path.join(tempDir(), 'base-no-layer-3'), ['transformer.h.3.']);
      const body = `backends: [transformers-cpu]\n${SMALL.replace('reference: onnxruntime-cpu', 'parity: { enabled: false }')}compare: { base_hf: ${base} }\n`;
      await expect(run(body)).rejects.toThrow(/^config error: .*tr118\.yml:\d+:\d+: compare\.base_hf: .*12 weights/);
    });
  });

  describe('same-run A/B of two checkpoints in one worker', () => {
    it('pairs the passes and gates the candidate checkpoint against the base checkpoint', async () => {
      const noisyBase = perturbedFixture(path.join(tempDir(), 'noisy-base'), 0.03, 0, FIXTURE_HF);
      const body = `backends: [transformers-cpu]\n${SMALL.replace('reference: onnxruntime-cpu', 'parity: { enabled: false }')}compare: { base_hf: ${noisyBase} }\n`;
      const { results } = await run(body);
      expect(results.comparison?.mode).toBe('same-run');
      expect(results.comparison?.cells.map((c) => c.ratio !== null)).toEqual([true, true]);
      expect(results.sameRunBase?.model.path).toBe(noisyBase);
      const againstBase = results.comparison!.accuracy.find((a) => a.backend === 'transformers-cpu')!;
      expect(againstBase.decision).toBe('fail');
      expect(results.verdict.decision).toBe('fail');
    });

    it('a base checkpoint the worker cannot load stops the run with a usage error naming compare.base_hf', async () => {
      const broken = path.join(tempDir(), 'broken-base');
      cpSync(FIXTURE_HF, broken, { recursive: true });
      writeFileSync(path.join(broken, 'model.safetensors'), 'not a safetensors file');
      const body = `backends: [transformers-cpu]\n${SMALL.replace('reference: onnxruntime-cpu', 'parity: { enabled: false }')}compare: { base_hf: ${broken} }\n`;
      await expect(run(body)).rejects.toThrow(
        /^config error: .*tr118\.yml:\d+:\d+: compare\.base_hf: backend transformers-cpu could not load the base checkpoint .*broken-base: base checkpoint/,
      );
    });
  });

  describe('what cannot run here with torch installed is unavailable or degraded, never a number under a wrong name', () => {
    it('a CUDA device without a usable GPU: unavailable, never a CPU number under a GPU name', async () => {
      process.env.CUDA_VISIBLE_DEVICES = '';
      const { results } = await run(`backends: [onnxruntime-cpu, transformers-gpu]\n${SMALL}`);
      const gpu = results.backends.find((b) => b.spec.name === 'transformers-gpu')!;
      expect(gpu.status).toBe('unavailable');
      expect(gpu.reason).toMatch(/^CUDA is not available to torch/);
      expect(results.cells.filter((c) => c.backend === 'transformers-gpu').every((c) => c.stats === null)).toBe(true);
    });

    it('a torch.compile that fails: degraded with the compiler error, not an eager run under a compile name', async () => {
      // Inductor compiles C++ for the CPU; without a compiler the compile fails, as it did on the seed's machine.
      process.env.CXX = '/nonexistent/c++';
      process.env.CC = '/nonexistent/cc';
      const body = `backends:\n  - onnxruntime-cpu\n  - { name: pt-compiled, engine: pytorch, device: cpu, compile: default }\n${SMALL}`;
      const { results } = await run(body);
      const compiled = results.backends.find((b) => b.spec.name === 'pt-compiled')!;
      expect(compiled.status).toBe('degraded');
      expect(compiled.reason).toMatch(/^torch\.compile\(mode=default\) failed: .*C\+\+ compiler/);
      expect(results.cells.filter((c) => c.backend === 'pt-compiled').every((c) => c.stats === null)).toBe(true);
      expect(results.verdict.decision).toBe('fail');
    });
  });
});
