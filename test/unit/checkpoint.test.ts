import { chmodSync, cpSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { findPython } from '../../src/backends/native-worker.js';
import { UsageError } from '../../src/errors.js';
import { checkCheckpoint, checkpointDigest } from '../../src/model/checkpoint.js';
import { FIXTURE_HF, tempDir } from '../helpers/fixture.js';

const AT = 'tr118.yml:3:7: model.hf';

/** A folder with these files ({name: content}). */
function folder(files: Readonly<Record<string, string>>): string {
  const dir = tempDir();
  for (const [name, content] of Object.entries(files)) writeFileSync(path.join(dir, name), content);
  return dir;
}
const CAUSAL = JSON.stringify({ architectures: ['GPT2LMHeadModel'] });

/** A folder with a causal LM's config.json whose `weights` name is made by `make` (a folder, a link). */
function weightsMadeBy(weights: string, make: (file: string) => void): string {
  const dir = folder({ 'config.json': CAUSAL });
  make(path.join(dir, weights));
  return dir;
}

describe('checkpoint folders (model.hf, compare.base_hf) are checked before anything runs', () => {
  it('accepts the fixture checkpoint: config.json and its safetensors', () => {
    expect(checkCheckpoint(FIXTURE_HF, AT, false)).toEqual(['config.json', 'model.safetensors']);
  });

  const BAD: readonly [string, () => string, RegExp][] = [
    ['a folder that does not exist', () => '/nonexistent/ckpt', /does not exist$/],
    [
      'a file',
      () => path.join(folder({ 'x.bin': '' }), 'x.bin'),
      /is a file; expected a Hugging Face checkpoint folder/,
    ],
    ['no config.json', () => folder({ 'model.safetensors': '' }), /has no config\.json/],
    ['a config.json that is not JSON', () => folder({ 'config.json': '{', 'model.safetensors': '' }), /not valid JSON/],
    // Valid JSON, but not a config (issue 21: was an internal error reading `architectures` of null).
    [
      'a config.json that is null',
      () => folder({ 'config.json': 'null\n', 'model.safetensors': '' }),
      /\/config\.json holds null, not a JSON object: expected the model's config/,
    ],
    [
      'a config.json that is a list',
      () => folder({ 'config.json': '[1]', 'model.safetensors': '' }),
      /\/config\.json holds a list, not a JSON object/,
    ],
    [
      'a config.json that is a folder',
      () => {
        const dir = folder({ 'model.safetensors': '' });
        mkdirSync(path.join(dir, 'config.json'));
        return dir;
      },
      /\/config\.json is a folder, not a file$/,
    ],
    // Weights that readdir lists but nothing can read (issue 21: were internal errors, ELOOP and EISDIR).
    [
      'weights that are a loop of symbolic links',
      () => weightsMadeBy('model.safetensors', (f) => symlinkSync('model.safetensors', f)),
      /\/model\.safetensors is a loop of symbolic links \(ELOOP\); expected the weights file$/,
    ],
    [
      'weights that are a folder',
      () => weightsMadeBy('model.safetensors', (f) => mkdirSync(f)),
      /\/model\.safetensors is a folder, not a file; expected the weights file$/,
    ],
    [
      'weights that are a link to nothing',
      () => weightsMadeBy('model.safetensors', (f) => symlinkSync('gone.safetensors', f)),
      /\/model\.safetensors is a symbolic link to nothing \(→ gone\.safetensors\); expected the weights file$/,
    ],
    [
      'pickled weights that are a folder (trusted)',
      () => weightsMadeBy('pytorch_model.bin', (f) => mkdirSync(f)),
      /\/pytorch_model\.bin is a folder, not a file; expected the weights file$/,
    ],
    [
      'not a causal LM',
      () => folder({ 'config.json': JSON.stringify({ architectures: ['BertModel'] }), 'model.safetensors': '' }),
      /is not a causal language model \(config\.json architectures: BertModel\)/,
    ],
    ['no weights', () => folder({ 'config.json': CAUSAL }), /holds no weights/],
    [
      'pickled weights only',
      () => folder({ 'config.json': CAUSAL, 'pytorch_model.bin': 'x' }),
      /only pickled weights \(pytorch_model\.bin\), which can run code when loaded.*model\.trust_pickle: true/,
    ],
    [
      'weights that are a Git LFS pointer',
      () =>
        folder({
          'config.json': CAUSAL,
          'model.safetensors': 'version https://git-lfs.github.com/spec/v1\noid sha256:abc\nsize 12\n',
        }),
      /model\.safetensors is a Git LFS pointer, not the weights/,
    ],
  ];
  it.each(BAD)('refuses %s, naming the key and its line', (name, make, message) => {
    let error: unknown;
    try {
      // Trusted pickles, so that a pickled file's own faults are reached.
      checkCheckpoint(make(), AT, name.includes('(trusted)'));
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(UsageError);
    expect((error as Error).message).toMatch(new RegExp(`^config error: ${AT.replace(/\./g, '\\.')}: `));
    expect((error as Error).message).toMatch(message);
  });

  it('accepts weights reached through a symbolic link to a file', () => {
    const dir = weightsMadeBy('model.safetensors', (f) => symlinkSync(path.join(FIXTURE_HF, 'model.safetensors'), f));
    expect(checkCheckpoint(dir, AT, false)).toEqual(['config.json', 'model.safetensors']);
  });

  it('loads pickled weights only with model.trust_pickle', () => {
    expect(checkCheckpoint(folder({ 'config.json': CAUSAL, 'pytorch_model.bin': 'x' }), AT, true)).toEqual([
      'config.json',
      'pytorch_model.bin',
    ]);
  });

  it('hashes by content: a copy has the same digest, a changed weight another', async () => {
    const files = checkCheckpoint(FIXTURE_HF, AT, false);
    const original = await checkpointDigest(FIXTURE_HF, files);
    const copy = path.join(tempDir(), 'copy');
    cpSync(FIXTURE_HF, copy, { recursive: true });
    expect((await checkpointDigest(copy, files)).sha256).toBe(original.sha256);
    writeFileSync(path.join(copy, 'model.safetensors'), 'changed');
    expect((await checkpointDigest(copy, files)).sha256).not.toBe(original.sha256);
  });
});

describe('which Python runs the native worker', () => {
  const executable = (file: string): string => {
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, '#!/bin/sh\n');
    chmodSync(file, 0o755);
    return file;
  };

  it('TR118_PYTHON first; an entry that is not executable is named, not skipped', () => {
    const python = executable(path.join(tempDir(), 'py'));
    expect(findPython({ TR118_PYTHON: python, PATH: '' }, '/')).toEqual({ command: python, from: 'TR118_PYTHON' });
    expect(findPython({ TR118_PYTHON: '/nonexistent/py', PATH: '' }, '/')).toEqual({
      missing: 'TR118_PYTHON=/nonexistent/py is not an executable file',
    });
  });

  it('then a .venv in the config folder or above it, then python3 on PATH', () => {
    const project = tempDir();
    const venv = executable(path.join(project, '.venv/bin/python'));
    mkdirSync(path.join(project, 'configs/deep'), { recursive: true });
    expect(findPython({ PATH: '' }, path.join(project, 'configs/deep'))).toEqual({ command: venv, from: '.venv' });
    const bin = tempDir();
    const python3 = executable(path.join(bin, 'python3'));
    expect(findPython({ PATH: bin }, tempDir())).toEqual({ command: python3, from: 'PATH' });
    expect(findPython({ PATH: '' }, tempDir())).toEqual({
      missing: expect.stringMatching(/^no Python found/) as string,
    });
  });
});
