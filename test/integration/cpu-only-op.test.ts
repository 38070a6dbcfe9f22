/**
 * The cpu-only-op model (native/ fixture role) runs under the Node worker's ONNX Runtime session code on the CPU, as
 * it does under the Python worker (native/tests/test_ort.py): the GPU placement tests can rely on it opening.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  makeFeeds,
  openSession,
  sessionLogits,
  sessionPerplexity,
  timeForwardPasses,
} from '../../src/engines/onnxruntime/session.js';
import { ortCpuSpec } from '../helpers/specs.js';
import { FIXTURE_TOKENS, tempDir } from '../helpers/fixture.js';
import { cpuOnlyOpModel } from '../helpers/python.js';

describe('the cpu-only-op model', () => {
  it('opens, runs and scores on onnxruntime-node (CPU)', async () => {
    const model = cpuOnlyOpModel(path.join(tempDir(), 'cpu-only-op.onnx'));
    const spec = ortCpuSpec(model);
    const opened = await openSession(model, spec);
    expect(opened.info.inputNames).toEqual(['input_ids', 'attention_mask']);
    expect(opened.info.vocabSize).toBe(4096);
    const tokens = JSON.parse(readFileSync(FIXTURE_TOKENS, 'utf8')) as number[];
    const feeds = makeFeeds(opened.session, 2, 8, tokens.slice(0, 16), new Array<number>(16).fill(1));
    const timed = await timeForwardPasses(opened, feeds, 1, 2);
    expect(timed.outputShape).toEqual([2, 8, 4096]);
    expect(timed.latenciesMs).toHaveLength(2);
    const { logits, dims } = await sessionLogits(opened, 1, 8, tokens.slice(0, 8));
    expect(dims).toEqual([1, 8, 4096]);
    expect(logits.every(Number.isFinite)).toBe(true);
    const scored = await sessionPerplexity(opened, tokens.slice(0, 200), 64, 32);
    expect(scored.scoredTokens).toBe(199);
    expect(Number.isFinite(scored.nllSum)).toBe(true);
    await opened.session.release();
  });
});
