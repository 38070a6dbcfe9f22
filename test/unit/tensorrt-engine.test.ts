/** The pure parts of TensorRT engine preparation (engines/tensorrt/prepare.ts): what goes into an engine's key. */
import { describe, expect, it } from 'vitest';
import type { Shape } from '../../src/engines/family.js';
import { engineProfile, precisionPath } from '../../src/engines/tensorrt/prepare.js';
import { passShapes } from '../../src/measure/plan.js';
import { loadConfigFile } from '../../src/config/load.js';
import { tempDir, writeConfig } from '../helpers/fixture.js';

describe('precision paths', () => {
  it.each([
    ['10.13.3.9', 'fp32', 'tensorrt10-builder-fp32'],
    ['10.0.1', 'fp16', 'tensorrt10-builder-flag-fp16'],
    ['10.13.3.9', 'int8', 'tensorrt10-builder-flag-int8-entropy-calibrated'],
    ['11.4.0.106', 'fp16', 'tensorrt11-strongly-typed-fp16'],
    ['12.0.0', 'int8', 'tensorrt12-strongly-typed-int8'],
    ['8.6.1', 'fp16', undefined],
    ['unknown', 'fp32', undefined],
  ] as const)('TensorRT %s, %s → %s', (version, precision, expected) => {
    expect(precisionPath(version, precision)).toBe(expected);
  });
});

describe('one optimization profile covering every shape', () => {
  it.each<[string, Shape[], Shape[], { min: Shape; opt: Shape; max: Shape }]>([
    [
      'matrix only: min/max per dimension, opt the heaviest cell',
      [
        [1, 128],
        [4, 128],
        [1, 512],
      ],
      [],
      { min: [1, 128], opt: [1, 512], max: [4, 512] },
    ],
    [
      'batch × seq ties: the longer sequence is opt',
      [
        [4, 128],
        [1, 512],
        [2, 64],
      ],
      [],
      { min: [1, 64], opt: [1, 512], max: [4, 512] },
    ],
    [
      'windows widen min and max, never opt',
      [[8, 32]],
      [
        [1, 128],
        [1, 88],
      ],
      { min: [1, 32], opt: [8, 32], max: [8, 128] },
    ],
    [
      'no scenario: opt is the heaviest other shape',
      [],
      [
        [1, 4],
        [1, 2],
      ],
      { min: [1, 2], opt: [1, 4], max: [1, 4] },
    ],
  ])('%s', (_name, timed, other, expected) => {
    const profile = engineProfile({ timed, other });
    expect(profile).toEqual(expected);
    for (const [b, s] of [...timed, ...other]) {
      expect(profile.min[0] <= b && b <= profile.max[0] && profile.min[1] <= s && s <= profile.max[1]).toBe(true);
    }
  });

  it.each<[string, Shape[]]>([
    ['nothing to cover', []],
    ['an empty shape', [[0, 128]]],
  ])('refuses %s', (_name, timed) => {
    expect(() => engineProfile({ timed, other: [] })).toThrow(/nothing to build|must be integers ≥ 1/);
  });

  it('the run’s shapes: scenarios, every perplexity window length, the parity probe', () => {
    const config = loadConfigFile(
      writeConfig(
        tempDir(),
        'backends: [tensorrt-fp16]\nscenarios:\n  a: { batch: 1, seq_len: 16 }\n  b: { batch: 2, seq_len: 32 }\n' +
          'accuracy: { max_tokens: 600, window: 128, stride: 64, parity: { batch: 3, seq_len: 8 } }\n',
      ),
    );
    // 600 tokens, window 128, stride 64: windows of 128 and a last one of 600 - 512 = 88.
    expect(passShapes(config, 600)).toEqual({
      timed: [
        [1, 16],
        [2, 32],
      ],
      other: [
        [1, 88],
        [1, 128],
        [3, 8],
      ],
    });
    expect(engineProfile(passShapes(config, 600))).toEqual({ min: [1, 8], opt: [2, 32], max: [3, 128] });
    expect(passShapes(config, 0).other).toEqual([]);
  });
});
