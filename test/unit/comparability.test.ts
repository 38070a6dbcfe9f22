/**
 * Comparability comes from what each engine family declares (engines/<family>/ comparability): for every family,
 * changing any one declared field makes a stored baseline's cells incomparable, naming that field; the same setup
 * stays comparable. A case per declared field is required: a family that declares a new field without a case here
 * fails the coverage check.
 */
import { describe, expect, it } from 'vitest';
import type { SessionInfo } from '../../src/backends/protocol.js';
import type { ArtifactRecord } from '../../src/engines/family.js';
import type { VariantRecord } from '../../src/engines/onnxruntime/variant.js';
import { FAMILIES, type BackendSpec } from '../../src/engines/registry.js';
import type { EngineRecord } from '../../src/engines/tensorrt/prepare.js';
import { compareResults, type ComparableResults, type CompareOptions } from '../../src/gate/compare.js';
import { cellFingerprint, fingerprintDifferences, type CellContext } from '../../src/gate/fingerprint.js';
import { gpuStateOf, type GpuReading, type GpuSnapshot } from '../../src/env/gpu-state.js';
import { specOf } from '../helpers/specs.js';
import { TEST_AT, TEST_ENV } from '../helpers/results.js';

const session = (environment: Record<string, string>, runtimeVersion: string): SessionInfo => ({
  protocolVersion: 1,
  runtime: 'r',
  runtimeVersion,
  providers: [],
  inputNames: ['input_ids'],
  outputNames: ['logits'],
  openMs: 1,
  environment,
});

const ENGINE: EngineRecord = {
  backend: 'tensorrt-fp16',
  side: 'candidate',
  precision: 'fp16',
  onnxPath: '/m.onnx',
  onnxSha256: 'a'.repeat(64),
  enginePath: '/cache/model.engine',
  cache: 'hit',
  key: 'b'.repeat(64),
  buildMs: 1000,
  bytes: 10,
  tensorrtVersion: '10.13.3.9',
  computeCapability: '9.0',
  gpu: 'NVIDIA H200',
  precisionPath: 'tensorrt10-builder-flag-fp16',
  profile: { min: [1, 8], opt: [4, 128], max: [4, 512] },
  builder: { workspaceBytes: 8 * 2 ** 30 },
  corrupt: null,
};

/** What deriving onnxruntime-cpu-int8's file records (engines/onnxruntime/variant.ts). */
const INT8_VARIANT: VariantRecord = {
  backend: 'onnxruntime-cpu-int8',
  side: 'candidate',
  transform: 'int8-dynamic',
  sourcePath: '/m.onnx',
  sourceSha256: 'a'.repeat(64),
  variantPath: '/cache/model.int8.onnx',
  cache: 'hit',
  key: 'c'.repeat(64),
  buildMs: 70,
  bytes: 10,
  tool: 'onnxruntime 1.32.0 quantize_dynamic (MatMul, QInt8)',
  corrupt: null,
};

interface Setup {
  readonly spec: BackendSpec;
  readonly session: SessionInfo;
  readonly artifact?: ArtifactRecord;
}

/** Per family: the base setup, and for each declared field one change of what drives it. */
const CASES: Record<string, { base: Setup; changes: Record<string, (s: Setup) => Setup> }> = {
  onnxruntime: {
    base: { spec: specOf('onnxruntime-cpu', '/m.onnx'), session: session({}, '1.30.0') },
    changes: {
      onnxruntimeVersion: (s) => ({ ...s, session: { ...s.session, runtimeVersion: '1.31.0' } }),
      provider: (s) => ({ ...s, spec: { ...s.spec, provider: 'cuda' } as BackendSpec }),
      worker: (s) => ({ ...s, spec: { ...s.spec, worker: 'python' } as BackendSpec }),
      precision: (s) => ({ ...s, spec: { ...s.spec, precision: 'fp16' } }),
      intraOpThreads: (s) => ({ ...s, spec: { ...s.spec, intraOpThreads: 1 } }),
      interOpThreads: (s) => ({ ...s, spec: { ...s.spec, interOpThreads: 1 } }),
      graphOptimization: (s) => ({ ...s, spec: { ...s.spec, graphOptimization: 'basic' } as BackendSpec }),
      // Declared only for a derived file: against the file as given, each is a field only one side has.
      variant: (s) => ({ ...s, spec: { ...s.spec, variant: 'int8-dynamic', precision: 'int8' } as BackendSpec }),
      variantTool: (s) => ({ ...s, artifact: INT8_VARIANT }),
      // ONNX Runtime's transformer fusions: another graph of the same weights (issue 22).
      optimize: (s) => ({ ...s, spec: { ...s.spec, optimize: 'transformers' } as BackendSpec }),
    },
  },
  pytorch: {
    base: {
      spec: specOf('transformers-gpu', '/m.onnx', '/hf'),
      session: session(
        {
          torch: '2.11.0',
          transformers: '5.17.0',
          cuda: '13.0',
          cudnn: '91900',
          attention: 'sdpa',
          tf32: 'matmul False, cudnn True',
        },
        '2.11.0',
      ),
    },
    changes: {
      torchVersion: (s) => ({
        ...s,
        session: { ...s.session, environment: { ...s.session.environment, torch: '2.12.0' } },
      }),
      transformersVersion: (s) => ({
        ...s,
        session: { ...s.session, environment: { ...s.session.environment, transformers: '5.18.0' } },
      }),
      device: (s) => ({ ...s, spec: { ...s.spec, device: 'cpu' } as BackendSpec }),
      cudaVersion: (s) => ({
        ...s,
        session: { ...s.session, environment: { ...s.session.environment, cuda: '12.8' } },
      }),
      cudnnVersion: (s) => ({ ...s, session: { ...s.session, environment: { ...s.session.environment, cudnn: '1' } } }),
      dtype: (s) => ({ ...s, spec: { ...s.spec, precision: 'bf16' } }),
      compile: (s) => ({ ...s, spec: { ...s.spec, compile: 'max-autotune' } as BackendSpec }),
      // Declared only for a compiled backend: what shape of graphs its worker compiled.
      compileShapes: (s) => ({
        ...s,
        spec: { ...s.spec, compile: 'default' } as BackendSpec,
        session: { ...s.session, compileMs: 10, compileShapes: 'dynamic-sequence' },
      }),
      intraOpThreads: (s) => ({ ...s, spec: { ...s.spec, intraOpThreads: 4 } }),
      interOpThreads: (s) => ({ ...s, spec: { ...s.spec, interOpThreads: 4 } }),
      attention: (s) => ({
        ...s,
        spec: { ...s.spec, attention: 'eager' } as BackendSpec,
        session: { ...s.session, environment: { ...s.session.environment, attention: 'eager' } },
      }),
      tf32: (s) => ({
        ...s,
        session: { ...s.session, environment: { ...s.session.environment, tf32: 'matmul True, cudnn True' } },
      }),
    },
  },
  tensorrt: {
    base: { spec: specOf('tensorrt-fp16', '/m.onnx'), session: session({}, '10.13.3.9'), artifact: ENGINE },
    changes: {
      tensorrtVersion: (s) => ({ ...s, artifact: { ...ENGINE, tensorrtVersion: '11.4.0.106' } as ArtifactRecord }),
      precision: (s) => ({ ...s, spec: { ...s.spec, precision: 'int8' } }),
      precisionPath: (s) => ({
        ...s,
        artifact: { ...ENGINE, precisionPath: 'tensorrt11-strongly-typed-fp16' } as ArtifactRecord,
      }),
      profile: (s) => ({
        ...s,
        artifact: { ...ENGINE, profile: { ...ENGINE.profile, opt: [1, 128] } } as ArtifactRecord,
      }),
      builder: (s) => ({ ...s, artifact: { ...ENGINE, builder: { workspaceBytes: 2 ** 30 } } as ArtifactRecord }),
    },
  },
};

const cell = (setup: Setup): CellContext => ({
  batch: 1,
  seqLen: 8,
  warmup: 3,
  iterations: 40,
  timing: 'plain',
  session: setup.session,
  artifact: setup.artifact,
});

/** One cell of `setup`'s backend, with the same passes on both sides. */
function results(setup: Setup): ComparableResults {
  return {
    schemaVersion: 1,
    startedAt: TEST_AT,
    model: { name: 'm', sha256: 'abc' },
    cells: [
      {
        backend: setup.spec.name,
        scenario: 's',
        batch: 1,
        seqLen: 8,
        realTokens: 8,
        status: 'ok',
        runs: 3,
        degradedRuns: 0,
        degradedRate: 0,
        repetitionLatenciesMs: [
          [10, 10.1, 9.9],
          [10, 10.2, 9.8],
          [10.1, 10, 9.9],
        ],
        fingerprint: cellFingerprint(TEST_ENV, setup.spec, cell(setup)),
      },
    ],
    accuracy: null,
  };
}

const OPTIONS: CompareOptions = {
  mode: 'stored',
  latency: { failFraction: 0.05, warnFraction: 0.03, minEffectMs: 0.02, confidence: 0.95, betweenRunsFraction: 0.1 },
  perplexityDeltaFraction: { fp32: 0.001, fp16: 0.005, bf16: 0.01, int8: 0.02 },
  maxDegradedRateIncrease: 0,
  allowEnvironmentChange: false,
  missingCell: 'warn',
  seed: 1,
};

describe('comparability is what each engine family declares', () => {
  it('every family has cases, and every field it declares has one', () => {
    expect(Object.keys(CASES).sort()).toEqual(FAMILIES.map((f) => f.name).sort());
    for (const family of FAMILIES) {
      const { base, changes } = CASES[family.name]!;
      const declaredBy = (s: Setup) => Object.keys(family.comparability(s.spec, s.session, s.artifact));
      // Some fields are declared only in some setups (ONNX Runtime's worker when it is python; CUDA's version on a
      // GPU): the base's and the changed setups' fields together.
      const declared = new Set([...declaredBy(base), ...Object.values(changes).flatMap((c) => declaredBy(c(base)))]);
      expect(Object.keys(changes).sort(), family.name).toEqual([...declared].sort());
    }
  });

  describe.each(Object.entries(CASES))('%s', (_family, { base, changes }) => {
    it('the same setup is comparable: one fingerprint, a latency decision', () => {
      const comparison = compareResults(results(base), results(base), 'base', OPTIONS);
      expect(comparison.cells[0]!.decision).not.toBe('incomparable');
      expect(comparison.cells[0]!.differences).toEqual([]);
    });

    it.each(Object.keys(changes))('a different %s: incomparable, naming it', (field) => {
      const changed = changes[field]!(base);
      const before = cellFingerprint(TEST_ENV, base.spec, cell(base));
      const after = cellFingerprint(TEST_ENV, changed.spec, cell(changed));
      expect(after.hash).not.toBe(before.hash);
      expect(fingerprintDifferences(before, after).map((d) => d.split(':')[0])).toContain(field);
      const comparison = compareResults(results(base), results(changed), 'base', OPTIONS);
      expect(comparison.cells[0]!.decision).toBe('incomparable');
      expect(comparison.cells[0]!.reason).toContain(`${field}: `);
    });
  });

  it("a compiled backend's baseline from a worker that left graph shapes to torch is not compared with a dynamic-sequence one", () => {
    // Before COMPILE_SHAPES, the probe's 1x8 graph was static and later shapes ran torch's automatic dynamic graphs.
    const before: Setup = {
      spec: { ...CASES.pytorch!.base.spec, compile: 'default' } as BackendSpec,
      session: { ...CASES.pytorch!.base.session, compileMs: 10 },
    };
    const after: Setup = { ...before, session: { ...before.session, compileShapes: 'dynamic-sequence' } };
    expect(compareResults(results(after), results(after), 'base', OPTIONS).cells[0]!.decision).not.toBe('incomparable');
    const comparison = compareResults(results(before), results(after), 'base', OPTIONS);
    expect(comparison.cells[0]!.decision).toBe('incomparable');
    expect(comparison.cells[0]!.reason).toMatch(/compileShapes: "" → "dynamic-sequence"/);
  });

  it('a baseline of transformers-cpu (eager) is not compared with a same-named backend that compiles on a GPU', () => {
    const eager: Setup = {
      spec: specOf('transformers-cpu', '/m.onnx', '/hf'),
      session: session({ torch: '2.11.0', transformers: '5.17.0' }, '2.11.0'),
    };
    const compiled: Setup = {
      ...eager,
      spec: { ...eager.spec, device: 'cuda', compile: 'max-autotune' } as BackendSpec,
      session: session({ torch: '2.11.0', transformers: '5.17.0', cuda: '13.0', cudnn: '91900' }, '2.11.0'),
    };
    const comparison = compareResults(results(eager), results(compiled), 'base', OPTIONS);
    expect(comparison.cells[0]!.decision).toBe('incomparable');
    expect(comparison.cells[0]!.reason).toMatch(/device: "cpu" → "cuda"/);
    expect(comparison.cells[0]!.reason).toMatch(/compile: "off" → "max-autotune"/);
  });

  it.each([
    [
      'variant',
      (s: Setup): Setup => ({
        ...s,
        spec: { ...s.spec, variant: 'fp16', precision: 'fp16' } as BackendSpec,
        artifact: {
          ...INT8_VARIANT,
          transform: 'fp16',
          tool: 'onnxruntime 1.32.0 convert_float_to_float16',
        } as ArtifactRecord,
      }),
    ],
    [
      'variantTool',
      (s: Setup): Setup => ({
        ...s,
        artifact: { ...INT8_VARIANT, tool: 'onnxruntime 1.33.0 quantize_dynamic (MatMul, QInt8)' } as ArtifactRecord,
      }),
    ],
  ])('two derived ONNX Runtime files: a different %s is incomparable, naming it', (field, change) => {
    const int8: Setup = {
      spec: specOf('onnxruntime-cpu-int8', '/m.onnx'),
      session: session({}, '1.32.0'),
      artifact: INT8_VARIANT,
    };
    expect(compareResults(results(int8), results(int8), 'base', OPTIONS).cells[0]!.decision).not.toBe('incomparable');
    const comparison = compareResults(results(int8), results(change(int8)), 'base', OPTIONS);
    expect(comparison.cells[0]!.decision).toBe('incomparable');
    expect(comparison.cells[0]!.reason).toContain(`${field}: `);
  });

  it('a field only one side has is a difference too (another family, or a newer tr118)', () => {
    const ort = cellFingerprint(TEST_ENV, CASES.onnxruntime!.base.spec, cell(CASES.onnxruntime!.base));
    const torch = cellFingerprint(TEST_ENV, CASES.pytorch!.base.spec, cell(CASES.pytorch!.base));
    const fields = fingerprintDifferences(ort, torch).map((d) => d.split(':')[0]);
    expect(fields).toEqual(expect.arrayContaining(['engine', 'provider', 'torchVersion', 'compile']));
    expect(fingerprintDifferences(ort, torch).find((d) => d.startsWith('provider:'))).toBe('provider: "cpu" → (none)');
  });

  it("the GPUs' clocks around the matrix are notes: never in the hash, never a difference", () => {
    const h100 = (smClockMhz: number, reasons: string[]): GpuReading => ({
      index: 0,
      name: 'NVIDIA H100 80GB HBM3',
      smClockMhz,
      memoryClockMhz: 2619,
      temperatureC: 60,
      powerDrawW: 300,
      powerLimitW: 700,
      reasonsMask: '0x0000000000000000',
      reasons,
    });
    const read = (gpu: GpuReading): GpuSnapshot => ({
      at: TEST_AT,
      status: 'read',
      reason: null,
      reasonsField: 'clocks_event_reasons.active',
      gpus: [gpu],
    });
    const cool = { ...TEST_ENV, gpuState: gpuStateOf(read(h100(1980, [])), read(h100(1980, []))) };
    const hot = { ...TEST_ENV, gpuState: gpuStateOf(read(h100(1980, [])), read(h100(1410, ['sw_thermal_slowdown']))) };
    const { spec } = CASES.onnxruntime!.base;
    const plain = cellFingerprint(TEST_ENV, spec, cell(CASES.onnxruntime!.base));
    const a = cellFingerprint(cool, spec, cell(CASES.onnxruntime!.base));
    const b = cellFingerprint(hot, spec, cell(CASES.onnxruntime!.base));
    expect(plain.notes).toBeUndefined();
    expect(a.notes).toContain('GPU 0 NVIDIA H100 80GB HBM3: before SM 1980 MHz');
    expect(b.notes).toContain('after SM 1410 MHz');
    expect(new Set([plain.hash, a.hash, b.hash]).size).toBe(1);
    expect(fingerprintDifferences(a, b)).toEqual([]);
    expect(fingerprintDifferences(plain, b)).toEqual([]);
  });
});
