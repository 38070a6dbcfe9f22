import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfigFile, parseConfig } from '../../src/config/load.js';
import { UsageError } from '../../src/errors.js';
import { fixturePath } from '../../src/paths.js';

/** A family's own field of a resolved backend (the spec is a union of the families' specs). */
const field = (spec: object, key: string): unknown => (spec as Record<string, unknown>)[key];

const GOOD = `model:
  onnx: model.onnx
  context_tokens: 512
backends:
  - onnxruntime-cpu
scenarios:
  single_micro: { batch: 1, seq_len: 8 }
  batch_short: { batch: 4, seq_len: 32 }
`;

function parse(text: string) {
  return parseConfig(text, 'tr118.yml', '/repo');
}

function errorOf(text: string): string {
  try {
    parse(text);
  } catch (error) {
    expect(error).toBeInstanceOf(UsageError);
    return (error as Error).message;
  }
  throw new Error('expected a config error');
}

describe('parseConfig: a good config', () => {
  it('applies the documented defaults and resolves paths against the config folder', () => {
    const c = parse(GOOD);
    expect(c.model.onnxPath).toBe('/repo/model.onnx');
    expect(c.model.name).toBe('model.onnx');
    expect(c.repetitions).toBe(10);
    expect(c.warmup).toBe(3);
    expect(c.iterations).toBe(40);
    expect(c.timeoutSeconds).toBe(120);
    expect(c.unavailableBackend).toBe('warn');
    expect(c.accuracy).toMatchObject({ enabled: true, maxTokens: 4096, windowTokens: 256, strideTokens: 128 });
    expect(c.thresholds.perplexityDeltaFraction).toEqual({ fp32: 0.001, fp16: 0.005, bf16: 0.01, int8: 0.02 });
    expect(c.scenarios).toEqual([
      { name: 'single_micro', batch: 1, seqLen: 8 },
      { name: 'batch_short', batch: 4, seqLen: 32 },
    ]);
    expect(c.backends[0]).toMatchObject({
      name: 'onnxruntime-cpu',
      engine: 'onnxruntime',
      provider: 'cpu',
      precision: 'fp32',
    });
  });

  it('stops sequentially within 120 s by default; stopping: fixed and max_seconds say otherwise', () => {
    expect(parse(GOOD).stopping).toEqual({ mode: 'sequential', maxSeconds: 120 });
    expect(parse(`${GOOD}stopping: fixed\nmax_seconds: 30\n`).stopping).toEqual({ mode: 'fixed', maxSeconds: 30 });
    // Optional in the raw config, so existing configs hash as before.
    expect(parse(GOOD).raw).not.toHaveProperty('stopping');
  });

  it('under sequential stopping a same-run A/B looks every 20 passes within the same budget of passes', () => {
    const ab = `${GOOD}compare: { base_model: main.onnx }\n`;
    // The config's 10 × 40 passes per cell, in 20 looks of 20.
    expect(parse(ab)).toMatchObject({ repetitions: 20, iterations: 20 });
    expect(parse(`${ab}look_iterations: 10\n`)).toMatchObject({ repetitions: 40, iterations: 10 });
    // A remainder rounds the repetitions up: 10 × 40 in looks of 30 is 14 looks (420 passes).
    expect(parse(`${ab}look_iterations: 30\n`)).toMatchObject({ repetitions: 14, iterations: 30 });
    // A look never exceeds a repetition of the config.
    expect(parse(`${ab}iterations: 12\n`)).toMatchObject({ repetitions: 10, iterations: 12 });
    // Fixed runs, stored baselines and runs without a base keep the config's repetitions and passes exactly.
    expect(parse(`${ab}stopping: fixed\nlook_iterations: 10\n`)).toMatchObject({ repetitions: 10, iterations: 40 });
    expect(parse(`${GOOD}look_iterations: 10\n`)).toMatchObject({ repetitions: 10, iterations: 40 });
    expect(parse(`${GOOD}compare: { baseline: b.json }\n`)).toMatchObject({ repetitions: 10, iterations: 40 });
    // Optional in the raw config, so existing configs hash as before.
    expect(parse(ab).raw).not.toHaveProperty('look_iterations');
  });

  it('fills every omitted section of the raw config (hashed into the manifest) with its defaults, once', () => {
    const defaults = {
      accuracy: {
        enabled: true,
        max_tokens: 4096,
        window: 256,
        stride: 128,
        parity: { enabled: true, batch: 2, seq_len: 64 },
      },
      thresholds: {
        perplexity_delta_fraction: { fp32: 0.001, fp16: 0.005, bf16: 0.01, int8: 0.02 },
        max_degraded_rate: 0,
        latency: {
          fail_fraction: 0.05,
          warn_fraction: 0.03,
          min_effect_ms: 0.02,
          confidence: 0.95,
          between_runs_fraction: 0.1,
        },
        max_degraded_rate_increase: 0,
      },
      limits: {},
      compare: {
        allow_environment_change: false,
        missing_cell: 'warn',
        stored_regression: 'warn',
        on_bad_baseline: 'error',
      },
    };
    const raw = parse(GOOD).raw;
    expect({ accuracy: raw.accuracy, thresholds: raw.thresholds, limits: raw.limits, compare: raw.compare }).toEqual(
      defaults,
    );
    // A section given in part gets the other keys' defaults, down to the nested ones.
    const partial = parse(
      `${GOOD}accuracy: { parity: { batch: 1 } }\nthresholds: { latency: { fail_fraction: 0.1 } }\n`,
    );
    expect(partial.raw.accuracy).toEqual({ ...defaults.accuracy, parity: { enabled: true, batch: 1, seq_len: 64 } });
    expect(partial.raw.thresholds).toEqual({
      ...defaults.thresholds,
      latency: { ...defaults.thresholds.latency, fail_fraction: 0.1 },
    });
  });

  it('report.baseline_backend names the backend the speed-up answer is measured against; absent, nothing is added', () => {
    const two = GOOD.replace(
      '  - onnxruntime-cpu\n',
      '  - onnxruntime-cpu\n  - { name: ort-1t, engine: onnxruntime, intra_op_threads: 1 }\n',
    );
    expect(parse(`${two}report: { baseline_backend: ort-1t }\n`).report).toEqual({
      baselineBackend: 'ort-1t',
    });
    const plain = parse(GOOD);
    expect(plain.report).toEqual({ baselineBackend: undefined });
    // The raw config is hashed into the manifest: a config without the key hashes as before.
    expect('report' in plain.raw).toBe(false);
  });

  it('expands the seed backend names and object overrides', () => {
    const c = parse(
      `${GOOD.replace('  - onnxruntime-cpu\n', '  - onnxruntime-gpu\n  - tensorrt-fp16\n  - { name: ort-1t, engine: onnxruntime, intra_op_threads: 1, graph_optimization: basic }\n')}`,
    );
    expect(c.backends.map((b) => [b.name, b.engine, field(b, 'provider'), b.precision])).toEqual([
      ['onnxruntime-gpu', 'onnxruntime', 'cuda', 'fp32'],
      ['tensorrt-fp16', 'tensorrt', undefined, 'fp16'],
      ['ort-1t', 'onnxruntime', 'cpu', 'fp32'],
    ]);
    expect(c.backends[2]).toMatchObject({ intraOpThreads: 1, graphOptimization: 'basic' });
  });

  it('reads the logits from the output named model.logits_output (default "logits"), for every backend', () => {
    expect(parse(GOOD).model.logitsOutput).toBe('logits');
    expect(parse(GOOD).backends[0]?.logitsOutput).toBe('logits');
    const c = parse(
      GOOD.replace('context_tokens: 512', 'context_tokens: 512\n  logits_output: scores').replace(
        '  - onnxruntime-cpu\n',
        '  - onnxruntime-cpu\n  - { name: other, engine: onnxruntime, model: other.onnx }\n',
      ),
    );
    expect(c.model.logitsOutput).toBe('scores');
    expect(c.backends.map((b) => b.logitsOutput)).toEqual(['scores', 'scores']);
    // Not defaulted into the raw config, which is hashed into the manifest: existing configs keep their hash.
    expect(parse(GOOD).raw.model).not.toHaveProperty('logits_output');
  });

  it('cuts scenario rows from inputs.tokens, else from the evaluation tokens, else from the fixture ids', () => {
    expect(parse(`${GOOD}inputs: { tokens: ids.json }\n`).inputTokens).toEqual({
      from: 'inputs.tokens',
      path: '/repo/ids.json',
    });
    expect(parse(`${GOOD}accuracy: { tokens: eval.json }\n`).inputTokens).toEqual({ from: 'accuracy' });
    expect(parse(`${GOOD}accuracy: { text: eval.txt, tokenizer: bytes }\n`).inputTokens).toEqual({ from: 'accuracy' });
    const fixture = parse(GOOD);
    expect(fixture.inputTokens).toEqual({ from: 'fixture', path: fixturePath('heldout.tokens.json') });
    // …and the evaluation then defaults to those same ids
    expect(fixture.accuracy.source).toEqual({ kind: 'tokens', path: (fixture.inputTokens as { path: string }).path });
  });

  it('exports model.hf when model.onnx is absent (defaults), or as model.export says', () => {
    const implicit = parse(GOOD.replace('  onnx: model.onnx\n', '  hf: ckpt\n'));
    // torch's own exporter by default (issue 22), at its opset 18
    expect(implicit.model.export).toEqual({ exporter: 'dynamo', opset: 18, dynamic: true, int32Inputs: false });
    expect(implicit.model.onnxPath).toBe('');
    expect(implicit.model.name).toBe('ckpt');
    expect(implicit.backends[0]?.modelPath).toBe('');
    const explicit = parse(
      GOOD.replace('  onnx: model.onnx\n', '  hf: ckpt\n  export: { opset: 18, dynamic: false, int32_inputs: true }\n'),
    );
    expect(explicit.model.export).toEqual({ exporter: 'dynamo', opset: 18, dynamic: false, int32Inputs: true });
    // TorchScript, for torches that need it, at its own opset unless one is given
    const legacy = parse(GOOD.replace('  onnx: model.onnx\n', '  hf: ckpt\n  export: { exporter: torchscript }\n'));
    expect(legacy.model.export).toEqual({ exporter: 'torchscript', opset: 17, dynamic: true, int32Inputs: false });
    expect(parse(GOOD).model.export).toBeUndefined();
  });

  it('runs ONNX Runtime on a GPU in the Python worker by default, on the CPU from Node; worker overrides either', () => {
    const c = parse(
      GOOD.replace(
        '- onnxruntime-cpu',
        '- onnxruntime-cpu\n  - onnxruntime-cuda\n  - onnxruntime-tensorrt\n  - { name: cuda-node, provider: cuda, engine: onnxruntime, worker: node }\n  - { name: cpu-py, engine: onnxruntime, worker: python }',
      ),
    );
    expect(c.backends.map((b) => [b.name, field(b, 'provider'), field(b, 'worker')])).toEqual([
      ['onnxruntime-cpu', 'cpu', 'node'],
      ['onnxruntime-cuda', 'cuda', 'python'],
      ['onnxruntime-tensorrt', 'tensorrt', 'python'],
      ['cuda-node', 'cuda', 'node'],
      ['cpu-py', 'cpu', 'python'],
    ]);
  });

  it('resolves the pytorch presets and object form: device, dtype as precision, compile, the checkpoint folder', () => {
    const c = parse(
      GOOD.replace('context_tokens: 512', 'context_tokens: 512\n  hf: ckpt').replace(
        '- onnxruntime-cpu',
        '- transformers-cpu\n  - transformers-gpu-compile\n  - { name: pt-bf16, engine: pytorch, device: cuda, dtype: bf16, compile: max-autotune, model: other-ckpt, attention: eager }',
      ),
    );
    expect(c.model.hfPath).toBe('/repo/ckpt');
    expect(
      c.backends.map((b) => [
        b.name,
        b.engine,
        field(b, 'device'),
        b.precision,
        field(b, 'compile'),
        field(b, 'checkpointPath'),
        field(b, 'attention'),
      ]),
    ).toEqual([
      ['transformers-cpu', 'pytorch', 'cpu', 'fp32', 'off', '/repo/ckpt', undefined],
      ['transformers-gpu-compile', 'pytorch', 'cuda', 'fp32', 'default', '/repo/ckpt', undefined],
      ['pt-bf16', 'pytorch', 'cuda', 'bf16', 'max-autotune', '/repo/other-ckpt', 'eager'],
    ]);
    expect(c.backends.every((b) => field(b, 'provider') === undefined && field(b, 'trustPickle') === false)).toBe(true);
    expect(c.thresholds.perplexityDeltaFraction.bf16).toBe(0.01);
    const ab = parse(
      `${GOOD.replace('context_tokens: 512', 'context_tokens: 512\n  hf: ckpt').replace('- onnxruntime-cpu', '- transformers-cpu')}compare: { base_hf: main-ckpt }\n`,
    );
    expect(ab.compare.baseHfPath).toBe('/repo/main-ckpt');
  });

  it('--model replaces model.onnx, relative to the working directory', () => {
    const c = parseConfig(GOOD, 'tr118.yml', '/repo', { modelPath: 'other.onnx' });
    expect(c.model.onnxPath).toBe(path.resolve('other.onnx'));
  });
});

// Each bad config: what to change, and what the one-line message must contain (key path, line, expectation).
const BAD: readonly { name: string; text: string; expect: readonly (string | RegExp)[] }[] = [
  { name: 'YAML syntax error', text: 'model:\n  onnx: [unclosed\n', expect: ['tr118.yml:', 'YAML syntax error'] },
  { name: 'not a mapping', text: '- just\n- a list\n', expect: ['(top level)', 'expected a mapping'] },
  {
    name: 'missing model',
    text: GOOD.replace('model:\n  onnx: model.onnx\n  context_tokens: 512\n', ''),
    expect: ['tr118.yml:1:1: model: required key is missing (expected a mapping)'],
  },
  {
    name: 'model.logits_output empty',
    text: GOOD.replace('context_tokens: 512', 'context_tokens: 512\n  logits_output: ""'),
    expect: ['tr118.yml:4:18', 'model.logits_output', 'expected a non-empty string', 'got ""'],
  },
  {
    name: 'model.logits_output a list',
    text: GOOD.replace('context_tokens: 512', 'context_tokens: 512\n  logits_output: [hidden, logits]'),
    expect: ['model.logits_output', 'expected a string', 'got a list'],
  },
  {
    name: 'model.onnx wrong type',
    text: GOOD.replace('onnx: model.onnx', 'onnx: 42'),
    expect: ['tr118.yml:2:9', 'model.onnx', 'expected a string', 'got 42'],
  },
  {
    name: 'unknown top-level key',
    text: `${GOOD}repetitons: 3\n`,
    expect: ['tr118.yml:9:1', 'repetitons', 'unknown key', 'repetitions'],
  },
  {
    name: 'unknown nested key',
    text: GOOD.replace('{ batch: 1, seq_len: 8 }', '{ batch: 1, seqlen: 8 }'),
    expect: ['scenarios.single_micro.seqlen', 'unknown key', 'seq_len'],
  },
  {
    name: 'batch 0',
    text: GOOD.replace('batch: 1,', 'batch: 0,'),
    expect: ['tr118.yml:7:', 'scenarios.single_micro.batch', '≥ 1', 'got 0'],
  },
  {
    name: 'fractional seq_len',
    text: GOOD.replace('seq_len: 8', 'seq_len: 8.5'),
    expect: ['scenarios.single_micro.seq_len', 'integer', 'got 8.5'],
  },
  {
    name: 'unknown backend',
    text: GOOD.replace('- onnxruntime-cpu', '- onnxruntime-tpu'),
    expect: ['tr118.yml:5:5', 'backends[0]', 'unknown backend "onnxruntime-tpu"', 'onnxruntime-cpu'],
  },
  {
    name: 'empty backends',
    text: GOOD.replace('  - onnxruntime-cpu\n', '').replace('backends:', 'backends: []'),
    expect: ['backends', 'at least 1'],
  },
  {
    name: 'duplicate backend',
    text: GOOD.replace('- onnxruntime-cpu', '- onnxruntime-cpu\n  - onnxruntime-cpu'),
    expect: ['backends[1]', 'duplicate backend name'],
  },
  {
    name: 'bad provider',
    text: GOOD.replace('- onnxruntime-cpu', '- { name: x, engine: onnxruntime, provider: rocm }'),
    expect: ['backends[0].provider', 'expected one of "cpu", "cuda", "tensorrt"', 'got "rocm"'],
  },
  {
    name: 'attention on a non-pytorch engine',
    text: GOOD.replace('- onnxruntime-cpu', '- { name: onnxruntime-cpu, attention: eager }'),
    expect: ['backends[0].attention', 'only to engine pytorch', 'uses engine onnxruntime'],
  },
  {
    name: 'an attention transformers does not have',
    text: GOOD.replace('context_tokens: 512', 'context_tokens: 512\n  hf: ckpt').replace(
      '- onnxruntime-cpu',
      '- { name: transformers-cpu, attention: flash }',
    ),
    expect: ['backends[0].attention', 'sdpa', 'eager', 'got "flash"'],
  },
  {
    name: 'provider on a non-ORT engine',
    text: GOOD.replace('- onnxruntime-cpu', '- { name: tensorrt-fp16, provider: cuda }'),
    expect: ['backends[0].provider', 'only to engine onnxruntime'],
  },
  {
    name: 'new backend without engine',
    text: GOOD.replace('- onnxruntime-cpu', '- { name: mine }'),
    expect: ['backends[0].engine', 'needs an engine'],
  },
  { name: 'repetitions negative', text: `${GOOD}repetitions: -1\n`, expect: ['repetitions', '≥ 1', 'got -1'] },
  { name: 'timeout_s zero', text: `${GOOD}timeout_s: 0\n`, expect: ['timeout_s', '> 0', 'got 0'] },
  {
    name: 'timeout_s a string',
    text: `${GOOD}timeout_s: soon\n`,
    expect: ['timeout_s', 'expected a number', 'got "soon"'],
  },
  {
    name: 'stride longer than window',
    text: `${GOOD}accuracy: { window: 64, stride: 128 }\n`,
    expect: ['accuracy.stride', 'at most accuracy.window (64)', 'got 128'],
  },
  {
    name: 'window past the model context',
    text: `${GOOD}accuracy: { window: 1024, stride: 128 }\n`,
    expect: ['accuracy.window', 'model.context_tokens (512)'],
  },
  {
    name: 'scenario past the model context',
    text: GOOD.replace('seq_len: 32', 'seq_len: 1024'),
    expect: ['scenarios.batch_short.seq_len', 'model.context_tokens (512)', 'got 1024'],
  },
  {
    name: 'reference not a backend',
    text: `${GOOD}accuracy: { reference: tensorrt-fp32 }\n`,
    expect: ['accuracy.reference', 'onnxruntime-cpu', 'got "tensorrt-fp32"'],
  },
  {
    name: 'report baseline backend not a backend',
    text: `${GOOD}report: { baseline_backend: transformers-cpu }\n`,
    expect: ['report.baseline_backend', 'onnxruntime-cpu', 'got "transformers-cpu"'],
  },
  {
    name: 'report key misspelt',
    text: `${GOOD}report: { baseline: onnxruntime-cpu }\n`,
    expect: ['report.baseline', 'unknown key', 'baseline_backend'],
  },
  {
    name: 'threshold negative',
    text: `${GOOD}thresholds: { perplexity_delta_fraction: { fp16: -0.1 } }\n`,
    expect: ['thresholds.perplexity_delta_fraction.fp16', '≥ 0'],
  },
  {
    name: 'degraded rate above 1',
    text: `${GOOD}thresholds: { max_degraded_rate: 2 }\n`,
    expect: ['thresholds.max_degraded_rate', '≤ 1', 'got 2'],
  },
  { name: 'duplicate key', text: `${GOOD}repetitions: 3\nrepetitions: 4\n`, expect: ['YAML syntax error', /unique/i] },
  {
    name: 'scenarios empty',
    text: GOOD.replace(/scenarios:\n.*\n.*\n/, 'scenarios: {}\n'),
    expect: ['scenarios', 'at least one scenario'],
  },
  {
    name: 'text and tokens both',
    text: `${GOOD}accuracy: { text: a.txt, tokenizer: bytes, tokens: a.json }\n`,
    expect: ['accuracy.text', 'either accuracy.text', 'not both'],
  },
  {
    name: 'text without tokenizer',
    text: `${GOOD}accuracy: { text: a.txt }\n`,
    expect: ['accuracy.tokenizer', 'required with accuracy.text'],
  },
  {
    name: 'tokenizer without text',
    text: `${GOOD}accuracy: { tokenizer: bytes }\n`,
    expect: ['accuracy.tokenizer', 'applies only to accuracy.text'],
  },
  {
    name: 'parity probe past the context',
    text: `${GOOD}accuracy: { parity: { seq_len: 600 } }\n`,
    expect: ['accuracy.parity.seq_len', 'model.context_tokens (512)', 'got 600'],
  },
  {
    name: 'top-1 agreement above 1',
    text: `${GOOD}thresholds: { parity: { min_top1_agreement: 1.5 } }\n`,
    expect: ['thresholds.parity.min_top1_agreement', '≤ 1', 'got 1.5'],
  },
  // Bounds (schema.ts LIMITS): generous, finite; a typo such as 1e12 is refused instead of running until killed.
  {
    name: 'repetitions 1e12',
    text: `${GOOD}repetitions: 1e12\n`,
    expect: ['tr118.yml:9:14', 'repetitions', '≤ 1000', 'got 1000000000000'],
  },
  { name: 'warmup past its bound', text: `${GOOD}warmup: 1000000\n`, expect: ['warmup', '≤ 10000', 'got 1000000'] },
  {
    name: 'iterations past their bound',
    text: `${GOOD}iterations: 1e9\n`,
    expect: ['iterations', '≤ 100000', 'got 1000000000'],
  },
  {
    name: 'batch past its bound',
    text: GOOD.replace('batch: 4,', 'batch: 100000,'),
    expect: ['scenarios.batch_short.batch', '≤ 4096', 'got 100000'],
  },
  {
    name: 'seq_len past its bound',
    text: GOOD.replace('seq_len: 32', 'seq_len: 1e9'),
    expect: ['scenarios.batch_short.seq_len', '≤ 1048576', 'got 1000000000'],
  },
  {
    name: 'context_tokens past its bound',
    text: GOOD.replace('context_tokens: 512', 'context_tokens: 1e9'),
    expect: ['model.context_tokens', '≤ 1048576'],
  },
  { name: 'timeout_s past a day', text: `${GOOD}timeout_s: 1e9\n`, expect: ['timeout_s', '≤ 86400', 'got 1000000000'] },
  {
    name: 'accuracy.max_tokens past its bound',
    text: `${GOOD}accuracy: { max_tokens: 1e12 }\n`,
    expect: ['accuracy.max_tokens', '≤ 100000000'],
  },
  {
    name: 'accuracy.window past its bound',
    text: `${GOOD}accuracy: { window: 1e9 }\n`,
    expect: ['accuracy.window', '≤ 1048576'],
  },
  {
    name: 'parity probe batch past its bound',
    text: `${GOOD}accuracy: { parity: { batch: 1e6 } }\n`,
    expect: ['accuracy.parity.batch', '≤ 4096'],
  },
  { name: 'seed past 32 bits', text: `${GOOD}seed: 1e12\n`, expect: ['seed', '≤ 4294967295', 'got 1000000000000'] },
  {
    name: 'intra_op_threads past its bound',
    text: GOOD.replace('- onnxruntime-cpu', '- { name: a, engine: onnxruntime, intra_op_threads: 1e6 }'),
    expect: ['backends[0].intra_op_threads', '≤ 1024'],
  },
  {
    name: 'memory budget zero',
    text: `${GOOD}limits: { memory_budget_mib: 0 }\n`,
    expect: ['limits.memory_budget_mib', '> 0', 'got 0'],
  },
  {
    name: 'memory budget not a number',
    text: `${GOOD}limits: { memory_budget_mib: lots }\n`,
    expect: ['limits.memory_budget_mib', 'expected a number', 'got "lots"'],
  },
  {
    name: 'unknown key under limits',
    text: `${GOOD}limits: { memory_mib: 100 }\n`,
    expect: ['limits.memory_mib', 'unknown key; expected one of memory_budget_mib'],
  },
  {
    name: 'unknown key in a backend object',
    text: GOOD.replace('- onnxruntime-cpu', '- { name: a, engine: onnxruntime, threads: 1 }'),
    expect: ['tr118.yml:5:', 'backends[0].threads', 'unknown key; expected one of name, engine, provider'],
  },
  {
    name: 'YAML alias bomb (billion laughs)',
    text: `${GOOD}x: &x [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n${'abcdefgh'
      .split('')
      .map((k, i) => `${k}: &${k} [${new Array(9).fill(i === 0 ? '*x' : `*${'abcdefgh'[i - 1]}`).join(', ')}]`)
      .join('\n')}\n`,
    expect: [
      /^config error: tr118\.yml:1[3-9]:\d+: YAML aliases expand the config past 10000 nodes here \(an alias bomb\?\)/,
    ],
  },
  {
    name: 'recursive YAML alias',
    text: `${GOOD}loop: &loop [1, *loop]\n`,
    expect: ['tr118.yml:9:', 'YAML aliases expand the config past 10000 nodes'],
  },
  {
    name: 'unavailable_backend neither warn nor fail',
    text: `${GOOD}unavailable_backend: ignore\n`,
    expect: ['tr118.yml:9:', 'unavailable_backend', 'warn', 'fail', 'got "ignore"'],
  },
  {
    name: 'bad scenario name',
    text: GOOD.replace('single_micro:', '"Single Micro":'),
    expect: ['scenarios', 'lower-case'],
  },
  {
    name: 'a pytorch backend without model.hf',
    text: GOOD.replace('- onnxruntime-cpu', '- onnxruntime-cpu\n  - transformers-cpu'),
    expect: [
      'tr118.yml:2:3: model.hf: required by backend "transformers-cpu" (engine pytorch, at backends[1])',
      'Hugging Face checkpoint folder',
    ],
  },
  {
    name: 'device on an onnxruntime backend',
    text: GOOD.replace('- onnxruntime-cpu', '- { name: onnxruntime-cpu, device: cuda }'),
    expect: ['backends[0].device', 'applies only to engine pytorch', 'uses engine onnxruntime'],
  },
  {
    name: 'compile on an onnxruntime backend',
    text: GOOD.replace('- onnxruntime-cpu', '- { name: onnxruntime-cpu, compile: default }'),
    expect: ['backends[0].compile', 'applies only to engine pytorch'],
  },
  {
    name: 'provider on a pytorch backend',
    text: `${GOOD.replace('context_tokens: 512', 'context_tokens: 512\n  hf: hf').replace('- onnxruntime-cpu', '- { name: transformers-gpu, provider: cuda }')}`,
    expect: ['backends[0].provider', 'applies only to engine onnxruntime', 'uses engine pytorch'],
  },
  {
    name: 'neither model.onnx nor model.hf',
    text: GOOD.replace('  onnx: model.onnx\n', ''),
    expect: ['model', 'expected model.onnx (the ONNX file to measure) or model.hf'],
  },
  {
    name: 'model.export and model.onnx both',
    text: GOOD.replace('  onnx: model.onnx\n', '  onnx: model.onnx\n  hf: ckpt\n  export: { opset: 18 }\n'),
    expect: ['model.export', 'keep one of them'],
  },
  {
    name: 'model.export without model.hf',
    text: GOOD.replace('  onnx: model.onnx\n', '  export: { opset: 18 }\n'),
    expect: ['model.export needs model.hf'],
  },
  {
    name: 'an exporter torch does not have',
    text: GOOD.replace('  onnx: model.onnx\n', '  hf: ckpt\n  export: { exporter: jit }\n'),
    expect: ['model.export.exporter'],
  },
  {
    name: 'an export opset out of range',
    text: GOOD.replace('  onnx: model.onnx\n', '  hf: ckpt\n  export: { opset: 3 }\n'),
    expect: ['model.export.opset'],
  },
  {
    name: 'worker on a pytorch backend',
    text: `${GOOD.replace('context_tokens: 512', 'context_tokens: 512\n  hf: hf').replace('- onnxruntime-cpu', '- { name: transformers-gpu, worker: python }')}`,
    expect: ['backends[0].worker', 'applies only to engine onnxruntime', 'uses engine pytorch'],
  },
  {
    name: 'an unknown onnxruntime worker',
    text: GOOD.replace('- onnxruntime-cpu', '- { name: onnxruntime-cpu, worker: rust }'),
    expect: ['backends[0].worker', 'node', 'python'],
  },
  {
    name: 'precision on a pytorch backend (dtype is its precision)',
    text: GOOD.replace('context_tokens: 512', 'context_tokens: 512\n  hf: hf').replace(
      '- onnxruntime-cpu',
      '- { name: pt, engine: pytorch, precision: fp16 }',
    ),
    expect: ['backends[0].precision', 'write dtype: fp16'],
  },
  {
    name: 'an unknown compile mode',
    text: GOOD.replace('- onnxruntime-cpu', '- { name: pt, engine: pytorch, compile: fast }'),
    expect: ['backends[0].compile', '"off", "default", "reduce-overhead", "max-autotune"', 'got "fast"'],
  },
  {
    name: 'a dtype torch is not asked for here',
    text: GOOD.replace('- onnxruntime-cpu', '- { name: pt, engine: pytorch, dtype: int8 }'),
    expect: ['backends[0].dtype', '"fp32", "fp16", "bf16"', 'got "int8"'],
  },
  {
    name: 'same-run A/B with a pytorch backend but no base checkpoint',
    text: `${GOOD.replace('context_tokens: 512', 'context_tokens: 512\n  hf: hf').replace('- onnxruntime-cpu', '- onnxruntime-cpu\n  - transformers-cpu')}compare: { base_model: main.onnx }\n`,
    expect: ['compare.base_hf', 'backend "transformers-cpu" (engine pytorch) needs compare.base_hf'],
  },
  {
    name: 'same-run A/B with an onnxruntime backend but only a base checkpoint',
    text: `${GOOD.replace('context_tokens: 512', 'context_tokens: 512\n  hf: hf')}compare: { base_hf: main-hf }\n`,
    expect: ['compare.base_model', 'backend "onnxruntime-cpu" (engine onnxruntime) needs compare.base_model'],
  },
  {
    name: 'same-run A/B with a tensorrt backend but only a base checkpoint (its base engine is built from an ONNX file)',
    text: `${GOOD.replace('context_tokens: 512', 'context_tokens: 512\n  hf: hf').replace('- onnxruntime-cpu', '- tensorrt-fp16\n  - transformers-cpu')}compare: { base_hf: main-hf }\n`,
    expect: ['compare.base_model', 'backend "tensorrt-fp16" (engine tensorrt) needs compare.base_model'],
  },
  {
    name: 'a base checkpoint and a stored baseline at once',
    text: `${GOOD}compare: { base_hf: main-hf, baseline: b.json }\n`,
    expect: ['compare.baseline', 'either compare.base_hf (same-run A/B) or compare.baseline'],
  },
  {
    name: 'trust_pickle not a boolean',
    text: GOOD.replace('context_tokens: 512', 'context_tokens: 512\n  trust_pickle: yes please'),
    expect: ['model.trust_pickle', 'expected true or false'],
  },
  {
    name: 'stopping neither sequential nor fixed',
    text: `${GOOD}stopping: adaptive\n`,
    expect: ['stopping', /sequential|fixed/],
  },
  {
    name: 'max_seconds not positive',
    text: `${GOOD}max_seconds: 0\n`,
    expect: ['max_seconds'],
  },
  {
    name: 'look_iterations not a positive integer',
    text: `${GOOD}look_iterations: 0.5\n`,
    expect: ['look_iterations', 'expected an integer'],
  },
  {
    name: 'look_iterations so small that the budget is more repetitions than the limit',
    text: `${GOOD}compare: { base_model: main.onnx }\nrepetitions: 1000\nlook_iterations: 1\n`,
    expect: ['look_iterations', '40000 repetitions, above the limit of 1000', 'expected a larger look_iterations'],
  },
  {
    name: 'allowed_weight_differences a string, not a list',
    text: GOOD.replace('context_tokens: 512', 'context_tokens: 512\n  allowed_weight_differences: lm_head.weight'),
    expect: ['model.allowed_weight_differences', 'expected a list; got "lm_head.weight"'],
  },
];

describe('parseConfig: bad configs give one clear message', () => {
  it.each(BAD)('$name', ({ text, expect: parts }) => {
    const message = errorOf(text);
    expect(message.startsWith('config error: tr118.yml')).toBe(true);
    expect(message).not.toMatch(/\n\s+at /); // no stack trace
    for (const part of parts) {
      if (typeof part === 'string') expect(message).toContain(part);
      else expect(message).toMatch(part);
    }
  });
});

describe('parseConfig: YAML aliases of a real size are fine', () => {
  it('expands a shared mapping used by several backends', () => {
    const c = parse(
      GOOD.replace(
        '  - onnxruntime-cpu\n',
        '  - { name: a, engine: onnxruntime, intra_op_threads: &one 1 }\n  - { name: b, engine: onnxruntime, intra_op_threads: *one }\n',
      ),
    );
    expect(c.backends.map((b) => [b.name, b.intraOpThreads])).toEqual([
      ['a', 1],
      ['b', 1],
    ]);
  });
});

describe('loadConfigFile', () => {
  it('names a missing config file', () => {
    expect(() => loadConfigFile('/nonexistent/tr118.yml')).toThrow(
      'config error: /nonexistent/tr118.yml: cannot read the config file: no such file',
    );
  });

  it('names a directory given as config', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'tr118-'));
    expect(() => loadConfigFile(dir)).toThrow(/is a directory/);
  });

  it('reads a file and resolves paths against its folder', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'tr118-'));
    writeFileSync(path.join(dir, 'c.yml'), GOOD);
    expect(loadConfigFile(path.join(dir, 'c.yml')).model.onnxPath).toBe(path.join(dir, 'model.onnx'));
  });
});
