/**
 * `optimize: transformers` on onnxruntime backends (issue 22): how the key resolves, what the derived file's cache
 * key and tool depend on, where the model type comes from, and the report's rows for it.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { UsageError } from '../../src/errors.js';
import {
  describeModel,
  describeVariant,
  toolOf,
  variantKey,
  variantTable,
  type OptimizeRequest,
  type VariantRecord,
} from '../../src/engines/onnxruntime/variant.js';
import { ROOT, tempDir } from '../helpers/fixture.js';

const config = (backends: string) =>
  `model:\n  onnx: model.onnx\n  hf: ckpt\n  context_tokens: 512\nbackends:\n${backends}scenarios:\n  s: { batch: 1, seq_len: 8 }\n`;
const parse = (backends: string) => parseConfig(config(backends), 'tr118.yml', '/repo');

describe('the optimize key', () => {
  it('defaults to none; transformers composes with a variant and keeps its precision', () => {
    const backends = parse(
      '  - onnxruntime-cpu\n' +
        '  - { name: fused, engine: onnxruntime, optimize: transformers }\n' +
        '  - { name: fused-fp16, engine: onnxruntime, provider: cuda, variant: fp16, optimize: transformers }\n' +
        '  - { name: onnxruntime-cuda-fp16, optimize: transformers }\n',
    ).backends as unknown as Record<string, unknown>[];
    expect(backends[0]).toMatchObject({ optimize: 'none', precision: 'fp32' });
    expect(backends[1]).toMatchObject({ optimize: 'transformers', precision: 'fp32', provider: 'cpu' });
    expect(backends[1]).not.toHaveProperty('variant');
    expect(backends[2]).toMatchObject({
      optimize: 'transformers',
      variant: 'fp16',
      precision: 'fp16',
      worker: 'python',
    });
    // a preset with an override: the preset's keys under it
    expect(backends[3]).toMatchObject({ optimize: 'transformers', variant: 'fp16', provider: 'cuda' });
  });

  it('a value it does not know, or the key on another engine, is refused naming the key', () => {
    expect(() => parse('  - { name: f, engine: onnxruntime, optimize: bert }\n')).toThrow(UsageError);
    expect(() => parse('  - { name: f, engine: onnxruntime, optimize: bert }\n')).toThrow(/backends\[0\]\.optimize/);
    expect(() => parse('  - { name: t, engine: pytorch, optimize: transformers }\n')).toThrow(
      /backends\[0\]\.optimize.*applies only to engine onnxruntime/,
    );
  });
});

const GPT2: OptimizeRequest = {
  modelType: 'gpt2',
  numHeads: 12,
  hiddenSize: 768,
  useGpu: true,
  optLevel: 0,
};

describe('the derived file key with optimize', () => {
  const base = {
    sourceSha256: 'a'.repeat(64),
    transform: 'fp16',
    optimize: GPT2,
    versions: { onnxruntime: '1.32.0', onnx: '1.23.2' },
  } as const;
  it.each([
    ['no optimize (the plain variant)', { ...base, optimize: undefined }],
    ['the model type', { ...base, optimize: { ...GPT2, modelType: 'bert' } }],
    ['no model type found', { ...base, optimize: { ...GPT2, modelType: undefined } }],
    ['the head count', { ...base, optimize: { ...GPT2, numHeads: 0 } }],
    ['the width', { ...base, optimize: { ...GPT2, hiddenSize: 0 } }],
    ['use_gpu', { ...base, optimize: { ...GPT2, useGpu: false } }],
    ['the transform', { ...base, transform: undefined }],
    ["onnxruntime's version", { ...base, versions: { ...base.versions, onnxruntime: '1.33.0' } }],
  ])('changes with %s', (_name, other) => {
    expect(variantKey(other).key).not.toBe(variantKey(base).key);
  });

  it('is the same for the same inputs; a plain variant keeps the key it had before optimize existed', () => {
    expect(variantKey({ ...base, optimize: { ...GPT2 } }).key).toBe(variantKey(base).key);
    // the key of an fp16 variant made before this key existed (test/unit/precision-presets.test.ts's inputs)
    const plain = variantKey({ ...base, optimize: undefined });
    expect(plain.inputs).not.toHaveProperty('optimize');
    expect(plain.inputs).toMatchObject({ transform: 'fp16' });
  });

  it('the tool names the fusions first, then the transform', () => {
    expect(toolOf('fp16', base.versions, GPT2)).toBe(
      'onnxruntime 1.32.0 optimize_model (gpt2, opt_level 0, use_gpu) + convert_float_to_float16 (keep_io_types)',
    );
    expect(toolOf(undefined, base.versions, { ...GPT2, useGpu: false })).toBe(
      'onnxruntime 1.32.0 optimize_model (gpt2, opt_level 0)',
    );
    expect(toolOf('int8-dynamic', base.versions)).toBe('onnxruntime 1.32.0 quantize_dynamic (MatMul, QInt8)');
  });
});

describe('the model type comes from config.json', () => {
  it("the fixture's checkpoint: gpt2 with its head count and width (GPT-2's names)", () => {
    const hf = path.join(ROOT, 'fixtures/model/hf');
    expect(describeModel(path.join(ROOT, 'fixtures/model/model.onnx'), hf)).toEqual({
      modelType: 'gpt2',
      numHeads: 4,
      hiddenSize: 128,
      from: path.join(hf, 'config.json'),
    });
  });

  it("beside the ONNX file, under BERT's names; 0 (the optimizer detects them) when absent", () => {
    const dir = tempDir();
    writeFileSync(
      path.join(dir, 'config.json'),
      JSON.stringify({ model_type: 'bert', num_attention_heads: 12, hidden_size: 768 }),
    );
    expect(describeModel(path.join(dir, 'model.onnx'))).toMatchObject({
      modelType: 'bert',
      numHeads: 12,
      hiddenSize: 768,
    });
    writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ model_type: 'llama', num_attention_heads: 'x' }));
    expect(describeModel(path.join(dir, 'model.onnx'))).toMatchObject({
      modelType: 'llama',
      numHeads: 0,
      hiddenSize: 0,
    });
  });

  it('none: no config.json, not JSON, or no model_type — each says where it looked', () => {
    const dir = tempDir();
    const onnx = path.join(dir, 'model.onnx');
    expect(describeModel(onnx)).toEqual({
      modelType: null,
      numHeads: 0,
      hiddenSize: 0,
      from: `no config.json beside ${onnx} (and model.hf does not describe it)`,
    });
    const hf = path.join(dir, 'hf');
    mkdirSync(hf);
    expect(describeModel(onnx, hf).from).toBe(`model.hf (${hf}) has no config.json`);
    writeFileSync(path.join(dir, 'config.json'), '{ nope');
    expect(describeModel(onnx).from).toMatch(/config\.json is not JSON/);
    writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ architectures: ['X'] }));
    expect(describeModel(onnx)).toMatchObject({
      modelType: null,
      from: `${path.join(dir, 'config.json')} has no model_type`,
    });
  });
});

const RECORD: VariantRecord = {
  backend: 'fused-fp16',
  side: 'candidate',
  transform: 'fp16',
  optimize: 'transformers',
  fusions: { SkipLayerNormalization: 24, FastGelu: 12 },
  note: null,
  sourcePath: '/m/model.onnx',
  sourceSha256: 'a'.repeat(64),
  variantPath: '/cache/onnx-variant/k/model.onnx',
  cache: 'built',
  key: 'k',
  buildMs: 1500,
  bytes: 250e6,
  tool: toolOf('fp16', { onnxruntime: '1.32.0', onnx: '1.23.2' }, GPT2),
  corrupt: null,
};

describe("the report's rows", () => {
  it('a fusions column with the counts; "none" where nothing was fused; "—" for a plain variant', () => {
    const plain: VariantRecord = { ...RECORD, backend: 'int8', transform: 'int8-dynamic', optimize: undefined };
    delete (plain as { fusions?: unknown }).fusions;
    const unfused: VariantRecord = { ...RECORD, backend: 'fused', transform: undefined, fusions: {}, note: 'x' };
    const table = variantTable([RECORD, unfused, plain])!;
    expect(table.header).toEqual([
      'Backend',
      'side',
      'transform',
      'fusions',
      'tool',
      'MB',
      'derive s',
      'cache',
      'from',
    ]);
    expect(table.rows.map((r) => r.slice(0, 4))).toEqual([
      ['fused-fp16', 'candidate', 'transformers fusions + fp16', 'SkipLayerNormalization 24, FastGelu 12'],
      ['fused', 'candidate', 'transformers fusions', 'none'],
      ['int8', 'candidate', 'int8-dynamic', '—'],
    ]);
    // no fusions column where no backend asked for them
    expect(variantTable([plain])!.header).not.toContain('fusions');
  });

  it('the log line says what was fused', () => {
    expect(describeVariant(RECORD)).toBe(
      'fused-fp16: transformers fusions + fp16 variant of model.onnx (derived now in 1.5 s; fused SkipLayerNormalization 24, FastGelu 12)',
    );
  });
});
