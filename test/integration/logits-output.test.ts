/**
 * The logits are found by name (model.logits_output), never by position: copies of the fixture with other graph
 * outputs, run through `tr118 run` as a user would.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { makeFeeds, openSession, timeForwardPasses, timePairedPasses } from '../../src/engines/onnxruntime/session.js';
import { ortCpuSpec } from '../helpers/specs.js';
import { ExitCode } from '../../src/errors.js';
import type { Results } from '../../src/results/schema.js';
import { FIXTURE_MODEL, FIXTURE_TOKENS, ROOT, tempDir } from '../helpers/fixture.js';
import { rewiredFixture } from '../helpers/python.js';
import { runProcess } from '../helpers/run.js';
import { cliArgs } from '../helpers/cli.js';

async function tr118(args: string[]) {
  const r = await runProcess(process.execPath, cliArgs(args), {
    cwd: ROOT,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A small run of `model` on onnxruntime-cpu. */
function config(dir: string, name: string, model: string, logitsOutput?: string): string {
  const file = path.join(dir, `${name}.yml`);
  writeFileSync(
    file,
    [
      'model:',
      `  onnx: ${model}`,
      ...(logitsOutput ? [`  logits_output: ${logitsOutput}`] : []),
      `inputs: { tokens: ${FIXTURE_TOKENS} }`,
      'backends:',
      '  - onnxruntime-cpu',
      'scenarios: { single_micro: { batch: 1, seq_len: 8 } }',
      'repetitions: 2',
      'iterations: 2',
      'warmup: 1',
      'accuracy: { max_tokens: 300, window: 128, stride: 64 }',
      '',
    ].join('\n'),
  );
  return file;
}

function perplexity(out: string): number | null | undefined {
  const results = JSON.parse(readFileSync(path.join(out, 'results.json'), 'utf8')) as Results;
  return results.accuracy?.rows.find((r) => r.backend === 'onnxruntime-cpu')?.perplexity;
}

describe('model.logits_output: the logits are read by name', () => {
  let dir: string;
  /** The fixture's own perplexity under the same config. */
  let fixturePerplexity: number;
  beforeAll(async () => {
    dir = tempDir();
    const out = path.join(dir, 'fixture');
    const r = await tr118(['run', '--config', config(dir, 'fixture', FIXTURE_MODEL), '--out', out, '--quiet']);
    expect(r.code).toBe(ExitCode.pass);
    fixturePerplexity = perplexity(out)!;
    expect(fixturePerplexity).toBeGreaterThan(10);
    expect(fixturePerplexity).toBeLessThan(200);
  });

  it('a model with an extra output before logits scores the same perplexity as the fixture', async () => {
    const model = rewiredFixture(path.join(dir, 'extra-first.onnx'), 'extra-first');
    const out = path.join(dir, 'extra-first');
    const r = await tr118(['run', '--config', config(dir, 'extra-first', model), '--out', out, '--quiet']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(ExitCode.pass);
    // The same logits, the same perplexity: the hidden state read as logits gave a wrong one, and a pass.
    expect(Math.abs(perplexity(out)! / fixturePerplexity - 1)).toBeLessThan(1e-6);
  });

  it('a model whose only output is not named logits: exit 2 naming the key and the outputs it has', async () => {
    const model = rewiredFixture(path.join(dir, 'renamed.onnx'), 'renamed', 'scores');
    const file = config(dir, 'renamed', model);
    const r = await tr118(['run', '--config', file, '--out', path.join(dir, 'renamed'), '--quiet']);
    expect(r.code).toBe(ExitCode.usage);
    expect(r.stderr.trim()).toBe(
      `tr118: config error: ${file}:2:3: model.logits_output: ${model} has no output named "logits" ` +
        '(its outputs: "scores"); set model.logits_output to the one that holds the logits [batch, seq, vocab]',
    );
    // It fails at open time: nothing was measured first (a wall-clock bound here measured the machine instead).
    const raw = path.join(dir, 'renamed', 'results.jsonl');
    expect(existsSync(raw) ? readFileSync(raw, 'utf8') : '').not.toContain('"kind":"run"');

    const named = path.join(dir, 'renamed-named');
    const ok = await tr118(['run', '--config', config(dir, 'named', model, 'scores'), '--out', named, '--quiet']);
    expect(ok.code).toBe(ExitCode.pass);
    expect(Math.abs(perplexity(named)! / fixturePerplexity - 1)).toBeLessThan(1e-6);
  });

  it('an output named logits of the wrong shape degrades the backend, naming the shape', async () => {
    const model = rewiredFixture(path.join(dir, 'flat.onnx'), 'flat');
    const out = path.join(dir, 'flat');
    const r = await tr118(['run', '--config', config(dir, 'flat', model), '--out', out, '--quiet']);
    expect(r.code).toBe(ExitCode.gateFailed);
    const results = JSON.parse(readFileSync(path.join(out, 'results.json'), 'utf8')) as Results;
    const cell = results.cells.find((c) => c.backend === 'onnxruntime-cpu');
    expect(cell?.status).toBe('degraded');
    expect(cell?.firstReason).toBe(
      'the logits output "logits" has shape [8, 4096]; expected [batch, seq, vocab] = [1, 8, 4096] for a 1×8 input ' +
        '(model.logits_output names the output that holds them)',
    );
    const row = results.accuracy?.rows.find((a) => a.backend === 'onnxruntime-cpu');
    expect(row?.perplexity).toBeNull();
    expect(row?.error).toContain('has shape [128, 4096]; expected [batch, seq, vocab] = [1, 128, 4096]');
  });
});

describe('the timer fetches only the logits output', () => {
  it('times the same work for a model with an extra output: session.run is asked for logits alone', async () => {
    const model = rewiredFixture(path.join(tempDir(), 'extra-first.onnx'), 'extra-first');
    const spec = ortCpuSpec(model);
    const candidate = await openSession(model, spec);
    const base = await openSession(model, spec, true);
    expect(candidate.session.outputNames).toEqual(['last_hidden_state', 'logits']);
    expect(candidate.info.vocabSize).toBe(4096);
    const ids = (JSON.parse(readFileSync(FIXTURE_TOKENS, 'utf8')) as number[]).slice(0, 16);
    const feeds = makeFeeds(candidate.session, 2, 8, ids, new Array<number>(16).fill(1));
    const runs = [vi.spyOn(candidate.session, 'run'), vi.spyOn(base.session, 'run')];
    const plain = await timeForwardPasses(candidate, feeds, 1, 2);
    const paired = await timePairedPasses(candidate, base, feeds, 1, 2, 'base');
    expect(plain.outputShape).toEqual([2, 8, 4096]);
    expect(paired.outputShape).toEqual([2, 8, 4096]);
    for (const run of runs) {
      expect(run.mock.calls.length).toBeGreaterThan(0);
      for (const call of run.mock.calls) expect(call.slice(1)).toEqual([['logits']]);
    }
    await candidate.session.release();
    await base.session.release();
  });
});
