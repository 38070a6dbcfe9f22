import { createHash } from 'node:crypto';
import { appendFileSync, cpSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { engineKey, type EngineKeyInputs } from '../../src/engines/tensorrt/key.js';
import { exportKey, type ExportKeyInputs } from '../../src/model/export-key.js';
import { checkCheckpoint, checkpointFileDigests } from '../../src/model/checkpoint.js';
import { canonicalJson } from '../../src/hash.js';
import { FIXTURE_HF, tempDir } from '../helpers/fixture.js';

const FILES = [
  { path: 'config.json', sha256: 'a'.repeat(64), bytes: 700 },
  { path: 'model-00001-of-00002.safetensors', sha256: 'b'.repeat(64), bytes: 1000 },
  { path: 'model-00002-of-00002.safetensors', sha256: 'c'.repeat(64), bytes: 900 },
];
const EXPORT: ExportKeyInputs = {
  checkpointFiles: FILES,
  settings: { opset: 17, dynamic: true, int32Inputs: false, exporter: 'torchscript', allowedWeightDifferences: [] },
  versions: { torch: '2.11.0', transformers: '5.17.0', onnx: '1.19.0' },
};
const ENGINE: EngineKeyInputs = {
  onnxSha256: 'd'.repeat(64),
  tensorrtVersion: '10.13.0',
  computeCapability: '9.0',
  precisionPath: 'fp16-builder-flag',
  profiles: [
    { input: 'input_ids', min: [1, 1], opt: [4, 128], max: [8, 512] },
    { input: 'attention_mask', min: [1, 1], opt: [4, 128], max: [8, 512] },
  ],
  builder: { workspaceMiB: 4096, optimizationLevel: 3 },
};

describe('artifact keys', () => {
  it('a key is the sha256 of the canonical JSON of its inputs, which are kept for key.json', () => {
    const k = exportKey(EXPORT);
    expect(k.key).toBe(createHash('sha256').update(canonicalJson(k.inputs)).digest('hex'));
    expect(k.inputs).toMatchObject({ kind: 'onnx-export', schema: 1, settings: { opset: 17 } });
    expect(canonicalJson(k.inputs)).not.toMatch(/\s/);
    expect(engineKey(ENGINE).inputs).toMatchObject({ kind: 'tensorrt-engine', computeCapability: '9.0' });
  });

  it('the order files or profiles were listed in does not change a key', () => {
    expect(exportKey({ ...EXPORT, checkpointFiles: [...FILES].reverse() }).key).toBe(exportKey(EXPORT).key);
    const allowing = (patterns: string[]) => ({
      ...EXPORT,
      settings: { ...EXPORT.settings, allowedWeightDifferences: patterns },
    });
    expect(exportKey(allowing(['b.*', 'a'])).key).toBe(exportKey(allowing(['a', 'b.*'])).key);
    expect(engineKey({ ...ENGINE, profiles: [...ENGINE.profiles].reverse() }).key).toBe(engineKey(ENGINE).key);
    expect(engineKey({ ...ENGINE, builder: { optimizationLevel: 3, workspaceMiB: 4096 } }).key).toBe(
      engineKey(ENGINE).key,
    );
  });

  const EXPORT_CHANGES: readonly [string, ExportKeyInputs][] = [
    ['a weight file', { ...EXPORT, checkpointFiles: [FILES[0]!, { ...FILES[1]!, sha256: 'e'.repeat(64) }, FILES[2]!] }],
    ['a file dropped', { ...EXPORT, checkpointFiles: FILES.slice(0, 2) }],
    ['the opset', { ...EXPORT, settings: { ...EXPORT.settings, opset: 18 } }],
    ['dynamic axes', { ...EXPORT, settings: { ...EXPORT.settings, dynamic: false } }],
    ['int32 inputs', { ...EXPORT, settings: { ...EXPORT.settings, int32Inputs: true } }],
    ['the exporter', { ...EXPORT, settings: { ...EXPORT.settings, exporter: 'dynamo' } }],
    [
      'the weight differences allowed',
      { ...EXPORT, settings: { ...EXPORT.settings, allowedWeightDifferences: ['lm_head.weight'] } },
    ],
    ['the torch version', { ...EXPORT, versions: { ...EXPORT.versions, torch: '2.11.1' } }],
    ['the transformers version', { ...EXPORT, versions: { ...EXPORT.versions, transformers: '5.18.0' } }],
    ['the onnx version', { ...EXPORT, versions: { ...EXPORT.versions, onnx: '1.20.0' } }],
  ];
  it.each(EXPORT_CHANGES)('the export key changes with %s', (_, changed) => {
    expect(exportKey(changed).key).not.toBe(exportKey(EXPORT).key);
  });

  const ENGINE_CHANGES: readonly [string, EngineKeyInputs][] = [
    ['the ONNX file', { ...ENGINE, onnxSha256: 'f'.repeat(64) }],
    ['the TensorRT version', { ...ENGINE, tensorrtVersion: '11.0.0' }],
    ['the compute capability', { ...ENGINE, computeCapability: '8.9' }],
    ['the precision path', { ...ENGINE, precisionPath: 'fp16-strongly-typed' }],
    ["a profile's max", { ...ENGINE, profiles: [ENGINE.profiles[0]!, { ...ENGINE.profiles[1]!, max: [8, 1024] }] }],
    ["a profile's opt", { ...ENGINE, profiles: [{ ...ENGINE.profiles[0]!, opt: [2, 128] }, ENGINE.profiles[1]!] }],
    ['a builder setting', { ...ENGINE, builder: { ...ENGINE.builder, workspaceMiB: 8192 } }],
  ];
  it.each(ENGINE_CHANGES)('the engine key changes with %s', (_, changed) => {
    expect(engineKey(changed).key).not.toBe(engineKey(ENGINE).key);
  });

  it('on a real checkpoint: a changed weight byte changes the key; a tokenizer file beside it does not', async () => {
    const dir = tempDir();
    cpSync(FIXTURE_HF, dir, { recursive: true });
    const keyOf = async () =>
      exportKey({ ...EXPORT, checkpointFiles: await checkpointFileDigests(dir, checkCheckpoint(dir, 'test', false)) })
        .key;
    const before = await keyOf();
    writeFileSync(path.join(dir, 'tokenizer.json'), '{"changed": true}');
    writeFileSync(path.join(dir, 'generation_config.json'), '{}');
    expect(await keyOf()).toBe(before);
    appendFileSync(path.join(dir, 'model.safetensors'), Buffer.from([0]));
    expect(await keyOf()).not.toBe(before);
  });
});
