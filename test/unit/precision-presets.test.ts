/** The precision variants' presets and config keys (issue 22): what they resolve to, and what is refused. */
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { UsageError } from '../../src/errors.js';
import { toolOf, variantKey } from '../../src/engines/onnxruntime/variant.js';

const config = (backends: string) =>
  `model:\n  onnx: model.onnx\n  hf: ckpt\n  context_tokens: 512\nbackends:\n${backends}scenarios:\n  s: { batch: 1, seq_len: 8 }\n`;
const parse = (backends: string) => parseConfig(config(backends), 'tr118.yml', '/repo');

describe('precision variant presets', () => {
  it('onnxruntime-cpu-int8 and onnxruntime-cuda-fp16 run a derived file at their precision; transformers-gpu-bf16 loads bf16', () => {
    const backends = parse(
      '  - onnxruntime-cpu\n  - onnxruntime-cpu-int8\n  - onnxruntime-cuda-fp16\n  - transformers-gpu-bf16\n',
    ).backends as unknown as Record<string, unknown>[];
    expect(backends[0]).not.toHaveProperty('variant');
    expect(backends[0]).toMatchObject({ precision: 'fp32' });
    expect(backends[1]).toMatchObject({ provider: 'cpu', variant: 'int8-dynamic', precision: 'int8', worker: 'node' });
    expect(backends[2]).toMatchObject({ provider: 'cuda', variant: 'fp16', precision: 'fp16', worker: 'python' });
    expect(backends[3]).toMatchObject({ engine: 'pytorch', device: 'cuda', precision: 'bf16' });
  });

  it('a variant written by hand takes its precision; a precision that contradicts it is refused naming the key', () => {
    const own = parse('  - { name: q, engine: onnxruntime, variant: int8-dynamic }\n').backends[0];
    expect(own).toMatchObject({ variant: 'int8-dynamic', precision: 'int8' });
    expect(() => parse('  - { name: q, engine: onnxruntime, variant: int8-dynamic, precision: fp16 }\n')).toThrow(
      UsageError,
    );
    expect(() => parse('  - { name: q, engine: onnxruntime, variant: int8-dynamic, precision: fp16 }\n')).toThrow(
      /backends\[0\]\.precision.*variant int8-dynamic runs at int8/,
    );
    expect(() => parse('  - { name: q, engine: onnxruntime, variant: int4 }\n')).toThrow(/backends\[0\]\.variant/);
  });
});

describe('the variant key', () => {
  const base = {
    sourceSha256: 'a'.repeat(64),
    transform: 'int8-dynamic',
    versions: { onnxruntime: '1.32.0', onnx: '1.23.2' },
  } as const;
  it.each([
    ['the fp32 file', { ...base, sourceSha256: 'b'.repeat(64) }],
    ['the transform', { ...base, transform: 'fp16' as const }],
    ["onnxruntime's version", { ...base, versions: { ...base.versions, onnxruntime: '1.33.0' } }],
    ["onnx's version", { ...base, versions: { ...base.versions, onnx: '1.24.0' } }],
  ])('changes with %s', (_name, other) => {
    expect(variantKey(other).key).not.toBe(variantKey(base).key);
  });
  it('is the same for the same inputs, and the tool is named with its version', () => {
    expect(variantKey({ ...base }).key).toBe(variantKey(base).key);
    expect(toolOf('fp16', base.versions)).toBe('onnxruntime 1.32.0 convert_float_to_float16 (keep_io_types)');
  });
});
