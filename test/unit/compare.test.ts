import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  compareResults,
  decideLatency,
  ratioDefinitions,
  type ComparableResults,
  type CompareOptions,
  type EvaluationIdentity,
} from '../../src/gate/compare.js';
import { parseConfig } from '../../src/config/load.js';
import type { LatencyThresholds } from '../../src/config/schema.js';
import { toolVersion } from '../../src/env/collect.js';
import { UsageError } from '../../src/errors.js';
import type { CellFingerprint } from '../../src/gate/fingerprint.js';
import { decide, DEFAULT_FAIL_ON, failsOn, type CellOutcome, type VerdictRules } from '../../src/gate/verdict.js';
import type { Measurement } from '../../src/measure/records.js';
import { buildResults } from '../../src/results/build.js';
import { readParts } from '../../src/results/merge.js';
import { parseResults } from '../../src/results/read.js';
import { loadBaseline, saveBaseline } from '../../src/results/store.js';
import { judge } from '../../src/results/judgement.js';
import { seededRandom } from '../../src/stats/random.js';
import { TEST_AT, TEST_ENV, validResults, writeResults } from '../helpers/results.js';

const T: LatencyThresholds = {
  failFraction: 0.05,
  warnFraction: 0.03,
  minEffectMs: 0.02,
  confidence: 0.95,
  betweenRunsFraction: 0.1,
};

/** repetitions × passes of latencies around `center`, with relative noise `noise`, reproducible. */
function reps(center: number, noise: number, seed: number, repetitions = 10, passes = 40): number[][] {
  const random = seededRandom(seed);
  return Array.from({ length: repetitions }, () =>
    Array.from({ length: passes }, () => center * (1 + noise * (random() - 0.5))),
  );
}

/** A candidate measured in the same passes as the base, scaled: same-run A/B data. */
function scaled(base: number[][], factor: number, noise: number, seed: number): number[][] {
  const random = seededRandom(seed);
  return base.map((rep) => rep.map((ms) => ms * factor * (1 + noise * (random() - 0.5))));
}

describe('decideLatency: the rules, with exact expected decisions', () => {
  const base = reps(2, 0.2, 1);
  it.each([
    { name: 'a 20% regression fails', cand: scaled(base, 1.2, 0.02, 2), paired: true, expected: 'fail' },
    { name: 'a 4% regression warns', cand: scaled(base, 1.04, 0.01, 3), paired: true, expected: 'warn' },
    {
      name: 'a 1% regression passes (significant but small)',
      cand: scaled(base, 1.01, 0.005, 4),
      paired: true,
      expected: 'pass',
    },
    {
      name: 'a 20% improvement is reported as one',
      cand: scaled(base, 0.8, 0.02, 5),
      paired: true,
      expected: 'improvement',
    },
    { name: 'the same model passes', cand: scaled(base, 1, 0.01, 6), paired: true, expected: 'pass' },
    {
      name: 'noise too wide to tell is inconclusive',
      cand: reps(2, 1.6, 7, 3, 4),
      paired: false,
      expected: 'inconclusive',
    },
  ])('$name', ({ cand, paired, expected }) => {
    const d = decideLatency(paired ? base : reps(2, 1.6, 8, 3, 4), cand, { paired, thresholds: T, seed: 9 });
    expect(d.decision).toBe(expected);
    if (expected === 'inconclusive') expect(d.reason).toMatch(/minimum detectable effect ≈ \d+\.\d%/);
  });

  it.each([
    { mode: 'same-run', paired: true, advice: '(add repetitions or iterations)' },
    { mode: 'stored', paired: false, advice: '(add repetitions, or use same-run A/B)' },
  ])('an inconclusive $mode cell advises what that mode can do: $advice', ({ paired, advice }) => {
    const d = decideLatency(reps(2, 1.6, 8, 3, 4), reps(2, 1.6, 7, 3, 4), { paired, thresholds: T, seed: 9 });
    expect(d.decision).toBe('inconclusive');
    expect(d.reason.endsWith(advice)).toBe(true);
    if (paired) expect(d.reason).not.toContain('same-run A/B');
  });

  it('never fails a change below the absolute floor, however large in percent', () => {
    const tiny = reps(0.01, 0.05, 10);
    const d = decideLatency(tiny, scaled(tiny, 1.5, 0.01, 11), { paired: true, thresholds: T, seed: 1 });
    expect(d.deltaMs).toBeLessThan(T.minEffectMs);
    expect(d.decision).toBe('pass');
    expect(d.reason).toMatch(/below the 0.02 ms floor/);
  });
});

describe('decideLatency: properties', () => {
  const arbReps = fc.array(fc.array(fc.double({ min: 0.1, max: 50, noNaN: true }), { minLength: 3, maxLength: 12 }), {
    minLength: 2,
    maxLength: 6,
  });

  it('identical samples never fail or warn', () => {
    fc.assert(
      fc.property(arbReps, fc.boolean(), fc.nat(1000), (sample, paired, seed) => {
        const d = decideLatency(sample, sample, { paired, thresholds: T, seed });
        return d.decision !== 'fail' && d.decision !== 'warn';
      }),
      { numRuns: 60 },
    );
  });

  it('scaling both sides by a constant leaves the decision unchanged (no absolute floor)', () => {
    const noFloor = { ...T, minEffectMs: 0 };
    fc.assert(
      fc.property(
        arbReps,
        fc.double({ min: 0.8, max: 1.3, noNaN: true }),
        fc.double({ min: 0.5, max: 20, noNaN: true }),
        fc.nat(1000),
        (sample, factor, k, seed) => {
          const cand = sample.map((r) => r.map((x) => x * factor));
          const a = decideLatency(sample, cand, { paired: true, thresholds: noFloor, seed });
          const b = decideLatency(
            sample.map((r) => r.map((x) => x * k)),
            cand.map((r) => r.map((x) => x * k)),
            { paired: true, thresholds: noFloor, seed },
          );
          return a.decision === b.decision;
        },
      ),
      { numRuns: 60 },
    );
  });
});

const FP: CellFingerprint = {
  cpuModel: 'cpu',
  cpuCount: 2,
  gpus: '',
  gpuDriver: '',
  nodeVersion: 'v20',
  onnxruntimeVersion: '1.30.0',
  engine: 'onnxruntime',
  provider: 'cpu',
  precision: 'fp32',
  intraOpThreads: 0,
  interOpThreads: 0,
  graphOptimization: 'all',
  batch: 1,
  seqLen: 8,
  warmup: 3,
  iterations: 40,
  timing: 'plain',
  hash: 'h1',
};

function result(
  cells: {
    scenario: string;
    reps: number[][];
    degradedRate?: number;
    fp?: Readonly<Record<string, string | number>>;
    status?: 'ok' | 'unavailable';
  }[],
  ppl = 50,
  evaluation: Partial<EvaluationIdentity> = {},
): ComparableResults {
  return {
    schemaVersion: 1,
    startedAt: '2026-11-28T00:00:00.000Z',
    model: { name: 'm', sha256: 'abc' },
    cells: cells.map((c) => ({
      backend: 'onnxruntime-cpu',
      scenario: c.scenario,
      batch: 1,
      seqLen: 8,
      realTokens: 8,
      status: c.status ?? 'ok',
      runs: 10,
      degradedRuns: Math.round((c.degradedRate ?? 0) * 10),
      degradedRate: c.degradedRate ?? 0,
      repetitionLatenciesMs: c.reps,
      fingerprint: { ...FP, ...c.fp },
    })),
    accuracy: {
      ...EVALUATION,
      ...evaluation,
      rows: [{ backend: 'onnxruntime-cpu', precision: 'fp32', perplexity: ppl }],
    },
  };
}

const EVALUATION: EvaluationIdentity = {
  evaluatedTokens: 600,
  windowTokens: 128,
  strideTokens: 64,
  tokenizer: 'ids',
  evaluatedTokensSha256: 'a'.repeat(64),
  vocabSize: 4096,
};

const OPTIONS: CompareOptions = {
  mode: 'stored',
  latency: T,
  perplexityDeltaFraction: { fp32: 0.001, fp16: 0.005, bf16: 0.01, int8: 0.02 },
  maxDegradedRateIncrease: 0,
  allowEnvironmentChange: false,
  missingCell: 'warn',
  seed: 1,
};

describe('compareResults: cells and accuracy', () => {
  const base = reps(2, 0.1, 20);
  it('names the differing fields of an incomparable cell, and neither passes nor fails it', () => {
    const c = compareResults(
      result([{ scenario: 's', reps: base }]),
      result([{ scenario: 's', reps: base, fp: { cpuModel: 'other', hash: 'h2' } }]),
      'b.json',
      OPTIONS,
    );
    expect(c.cells[0]).toMatchObject({ decision: 'incomparable', differences: ['cpuModel: "cpu" → "other"'] });
    const allowed = compareResults(
      result([{ scenario: 's', reps: base }]),
      result([{ scenario: 's', reps: base, fp: { cpuModel: 'other', hash: 'h2' } }]),
      'b.json',
      { ...OPTIONS, allowEnvironmentChange: true, latency: { ...T, betweenRunsFraction: 0 } },
    );
    expect(allowed.cells[0]!.decision).toBe('pass');
    expect(allowed.cells[0]!.differences).toEqual(['cpuModel: "cpu" → "other"']);
  });

  it('an identical stored baseline is inconclusive while between-run noise could hide a 5% slowdown', () => {
    const c = compareResults(
      result([{ scenario: 's', reps: base }]),
      result([{ scenario: 's', reps: base }]),
      'b.json',
      OPTIONS,
    );
    expect(c.cells[0]!.decision).toBe('inconclusive');
    expect(c.cells[0]!.ratio).toBe(1);
  });

  it('same-run: the paired change (what the gate uses) and the ratio of medians are both given, and named', () => {
    // Bimodal passes: the candidate is 1.4% slower pass for pass, but 2 of 40 passes per repetition moved to the
    // slow mode, which moves its median from the fast mode to the slow one.
    const base = Array.from({ length: 10 }, () => Array.from({ length: 40 }, (_, i) => (i < 21 ? 1 : 2)));
    const cand = base.map((rep) => rep.map((ms, i) => (i === 19 || i === 20 ? 2 : ms) * 1.014));
    const c = compareResults(result([{ scenario: 's', reps: base }]), result([{ scenario: 's', reps: cand }]), 'b', {
      ...OPTIONS,
      mode: 'same-run',
    }).cells[0]!;
    expect(c.ratio).toBeCloseTo(1.014, 10);
    expect(c.medianRatio).toBeCloseTo(2.028, 10);
    expect(c.deltaMs).toBeCloseTo(1.028, 10);
    expect(c.reason).toMatch(/^slower by 1\.4% \(paired, 95% CI 1\.4% … 1\.4%; medians \+102\.8%\), \+1\.028 ms: /);
    expect(ratioDefinitions('same-run').ratio).toMatch(/^the paired change the gate decides on: exp\(median/);
    expect(ratioDefinitions('same-run').medianRatio).toMatch(/^candidate median ÷ base median/);
  });

  it('stored: the ratio is the ratio of medians, so both figures agree', () => {
    const c = compareResults(
      result([{ scenario: 's', reps: reps(2, 0.1, 40) }]),
      result([{ scenario: 's', reps: reps(2.4, 0.1, 41) }]),
      'b.json',
      OPTIONS,
    ).cells[0]!;
    expect(c.ratio).toBeCloseTo(c.medianRatio!, 12);
    expect(c.reason).not.toContain('paired');
  });

  it('reports missing and new cells', () => {
    const c = compareResults(
      result([{ scenario: 'old', reps: base }]),
      result([{ scenario: 'new', reps: base }]),
      'b.json',
      OPTIONS,
    );
    expect(c.cells.map((x) => [x.scenario, x.decision])).toEqual([
      ['new', 'new'],
      ['old', 'missing'],
    ]);
  });

  it('fails a rise of the degraded rate', () => {
    const c = compareResults(
      result([{ scenario: 's', reps: base }]),
      result([{ scenario: 's', reps: base, degradedRate: 0.2 }]),
      'b.json',
      OPTIONS,
    );
    expect(c.cells[0]).toMatchObject({ decision: 'fail', reason: 'degraded runs rose from 0.0% to 20.0%' });
  });

  it('fails a candidate whose perplexity rose beyond the threshold, passes one that did not', () => {
    const worse = compareResults(
      result([{ scenario: 's', reps: base }], 50),
      result([{ scenario: 's', reps: base }], 50.5),
      'b.json',
      OPTIONS,
    );
    expect(worse.accuracy[0]).toMatchObject({ decision: 'fail' });
    const same = compareResults(
      result([{ scenario: 's', reps: base }], 50),
      result([{ scenario: 's', reps: base }], 50.01),
      'b.json',
      OPTIONS,
    );
    expect(same.accuracy[0]).toMatchObject({ decision: 'pass' });
  });

  // Issue 21: a byte-level model against a BPE baseline "improved" by 94.7%; the reverse "failed" by +1802%.
  const EVALUATION_CHANGES: readonly [string, Partial<EvaluationIdentity>, string][] = [
    [
      'other evaluation tokens',
      { evaluatedTokensSha256: 'b'.repeat(64) },
      'evaluation tokens sha256 aaaaaaaaaaaa… → bbbbbbbbbbbb…',
    ],
    ['fewer tokens', { evaluatedTokens: 300 }, 'evaluated tokens 600 → 300'],
    ['another window', { windowTokens: 256 }, 'window 128 → 256'],
    ['another stride', { strideTokens: 32 }, 'stride 64 → 32'],
    ['another tokenizer', { tokenizer: 'bytes' }, 'tokenizer ids → bytes'],
    ['another vocabulary', { vocabSize: 256 }, 'vocabulary 4096 → 256'],
    [
      'no digest (an older baseline)',
      { evaluatedTokensSha256: undefined },
      'records no digest of its evaluation tokens',
    ],
  ];
  it.each(EVALUATION_CHANGES)(
    'a perplexity scored on %s is incomparable, naming what differs: never a pass or a fail',
    (_, change, named) => {
      for (const ppl of [3.49, 65.92, 50]) {
        const c = compareResults(
          result([{ scenario: 's', reps: base }], 50),
          result([{ scenario: 's', reps: base }], ppl, change),
          'b.json',
          OPTIONS,
        );
        expect(c.accuracy[0]).toMatchObject({ decision: 'incomparable' });
        expect(c.accuracy[0]!.reason).toContain(named);
        const v = decide({ cells: [], accuracy: null }, RULES, { comparison: c });
        expect(v.reasons.find((r) => r.rule === 'accuracy')).toMatchObject({ decision: 'inconclusive' });
        expect(v.decision).not.toBe('pass');
        expect(v.decision).not.toBe('fail');
      }
    },
  );

  it('the same evaluation with an unknown vocabulary on one side is compared (unknown is not a difference)', () => {
    const c = compareResults(
      result([{ scenario: 's', reps: base }], 50),
      result([{ scenario: 's', reps: base }], 50.5, { vocabSize: null }),
      'b.json',
      OPTIONS,
    );
    expect(c.accuracy[0]).toMatchObject({ decision: 'fail' });
  });
});

/** The verdict rules of the documented defaults (compare.stored_regression varies per test). */
const RULES: VerdictRules = {
  maxDegradedRate: 0,
  missingCell: 'warn',
  storedRegression: 'warn',
  unavailableBackend: 'warn',
};

describe('the verdict from a comparison', () => {
  const base = reps(2, 0.05, 30);
  const slower = reps(3, 0.05, 31);
  const cellsOf = (r: ComparableResults): CellOutcome[] =>
    r.cells.map((c) => ({
      ...{ backend: c.backend, scenario: c.scenario, status: 'ok', runs: 10, degradedRuns: 0, firstReason: null },
    }));

  it('a stored-baseline regression warns by default and fails when compare.stored_regression is fail', () => {
    const cand = result([{ scenario: 's', reps: slower }]);
    const comparison = compareResults(result([{ scenario: 's', reps: base }]), cand, 'b.json', OPTIONS);
    expect(comparison.cells[0]!.decision).toBe('fail');
    const subject = { cells: cellsOf(cand), accuracy: null };
    expect(decide(subject, { ...RULES, storedRegression: 'warn' }, { comparison }).decision).toBe('warn');
    expect(decide(subject, { ...RULES, storedRegression: 'fail' }, { comparison }).decision).toBe('fail');
  });

  it('a same-run regression fails, and the basis says which mode the verdict rests on', () => {
    const cand = result([{ scenario: 's', reps: scaled(base, 1.5, 0.01, 32) }]);
    const comparison = compareResults(result([{ scenario: 's', reps: base }]), cand, 'base.onnx', {
      ...OPTIONS,
      mode: 'same-run',
    });
    const v = decide({ cells: cellsOf(cand), accuracy: null }, { ...RULES, storedRegression: 'warn' }, { comparison });
    expect(v.decision).toBe('fail');
    expect(v.basis).toMatch(/^same-run A\/B against the base model base\.onnx/);
  });
});

describe('the verdict: a stored baseline that cannot tell counts no worse than compare.stored_regression', () => {
  const base = reps(2, 0.1, 20);
  const cand = result([{ scenario: 's', reps: base }]);
  const cells = cand.cells.map((c) => ({ ...c, firstReason: null }));
  it.each([
    { mode: 'stored', storedRegression: 'warn', expected: 'warn' },
    { mode: 'stored', storedRegression: 'fail', expected: 'inconclusive' },
    { mode: 'same-run', storedRegression: 'warn', expected: 'inconclusive' },
  ] as const)('$mode, stored_regression $storedRegression: $expected', ({ mode, storedRegression, expected }) => {
    // identical passes, unpaired with between-run noise (stored) or paired with an artificially wide noise (same-run)
    const noisy = mode === 'stored' ? cand : result([{ scenario: 's', reps: reps(2, 1.6, 7, 3, 4) }]);
    const baseSide =
      mode === 'stored'
        ? result([{ scenario: 's', reps: base }])
        : result([{ scenario: 's', reps: reps(2, 1.6, 8, 3, 4) }]);
    const comparison = compareResults(baseSide, noisy, 'b', { ...OPTIONS, mode });
    expect(comparison.cells[0]!.decision).toBe('inconclusive');
    const v = decide({ cells, accuracy: null }, { ...RULES, storedRegression }, { comparison });
    expect(v.decision).toBe(expected);
  });
});

const ENV = TEST_ENV;
const AT = TEST_AT;

/** The verdict of a run of `backends` (YAML list) where the named ones were unavailable, with no baseline. */
function runVerdict(backends: string, unavailable: readonly string[], extra = '') {
  const config = parseConfig(
    `model: { onnx: m.onnx }\ninputs: { tokens: t.json }\nbackends: ${backends}\nscenarios: { s: { batch: 1, seq_len: 8 } }\nrepetitions: 2\niterations: 3\n${extra}`,
    'tr118.yml',
    '/repo',
  );
  const ran = config.backends.map((b) => b.name).filter((name) => !unavailable.includes(name));
  const measurement: Measurement = {
    backends: config.backends.map((b) =>
      unavailable.includes(b.name)
        ? {
            kind: 'backend',
            backend: b.name,
            side: 'candidate',
            status: 'unavailable',
            reason: 'no CUDA provider library',
            at: AT,
          }
        : { kind: 'backend', backend: b.name, side: 'candidate', status: 'ok', at: AT },
    ),
    runs: ran.flatMap((backend) =>
      [0, 1].map((repetition) => ({
        ...{
          kind: 'run',
          backend,
          side: 'candidate',
          scenario: 's',
          repetition,
          sequence: repetition,
          batch: 1,
          seqLen: 8,
        },
        ...{ realTokens: 8, warmup: 3, iterations: 3, status: 'ok', latenciesMs: [1, 1.1, 1.2], at: AT },
      })),
    ),
    accuracy: ran.map((backend) => ({
      ...{
        kind: 'accuracy',
        backend,
        side: 'candidate',
        status: 'ok',
        nllSum: 400,
        scoredTokens: 100,
        windows: 1,
        at: AT,
      },
    })),
    parity: [],
  };
  const measured = buildResults({
    config,
    measurement,
    model: { name: 'm', path: '/repo/m.onnx', sha256: 'f'.repeat(64), bytes: 1 },
    backendModels: [],
    environment: ENV,
    git: null,
    startedAt: new Date(AT),
    finishedAt: new Date(AT),
    evaluatedTokens: 101,
    evalTokens: { file: '/repo/t.json', tokenizer: 'ids' },
  });
  return judge(config, measured, { kind: 'none' }).verdict;
}

describe('the verdict: a backend that did not run is never silent, and a lone reference gates nothing', () => {
  const SECOND_CPU = '[onnxruntime-cpu, { name: cpu-1t, engine: onnxruntime, provider: cpu, intra_op_threads: 1 }]';
  it.each([
    {
      name: 'one CPU backend, no baseline: passes, saying latency and accuracy were not gated',
      backends: '[onnxruntime-cpu]',
      unavailable: [],
      extra: '',
      decision: 'pass',
      basis:
        /^only degraded runs per cell were gated: latency not gated \(no baseline\), accuracy not gated \(the reference backend onnxruntime-cpu has no other backend to compare with\)$/,
      failsByDefault: false,
      notGated: true,
    },
    {
      name: 'two CPU backends: accuracy is gated against the reference',
      backends: SECOND_CPU,
      unavailable: [],
      extra: '',
      decision: 'pass',
      basis:
        /^perplexity against the reference backend onnxruntime-cpu, degraded runs per cell; latency not gated \(no baseline\)$/,
      failsByDefault: false,
      notGated: false,
    },
    {
      name: 'one backend with a perplexity ceiling: accuracy is gated by it',
      backends: '[onnxruntime-cpu]',
      unavailable: [],
      extra: 'thresholds: { max_perplexity: 100 }\n',
      decision: 'pass',
      basis: /^perplexity ceiling thresholds\.max_perplexity 100, degraded runs per cell; latency not gated/,
      failsByDefault: false,
      notGated: false,
    },
    {
      name: 'CPU and CUDA on a machine without a GPU: warns by default, naming the backend',
      backends: '[onnxruntime-cpu, onnxruntime-cuda]',
      unavailable: ['onnxruntime-cuda'],
      extra: '',
      decision: 'warn',
      basis: /^only degraded runs per cell were gated: .*; not run: onnxruntime-cuda \(unavailable\)$/,
      failsByDefault: false,
      notGated: true,
    },
    {
      name: 'CPU and CUDA without a GPU, unavailable_backend: fail',
      backends: '[onnxruntime-cpu, onnxruntime-cuda]',
      unavailable: ['onnxruntime-cuda'],
      extra: 'unavailable_backend: fail\n',
      decision: 'fail',
      basis: /; not run: onnxruntime-cuda \(unavailable\)$/,
      failsByDefault: true,
      notGated: true,
    },
    {
      name: 'a GPU-only matrix where nothing ran: inconclusive, which fails by default',
      backends: '[onnxruntime-cuda]',
      unavailable: ['onnxruntime-cuda'],
      extra: '',
      decision: 'inconclusive',
      basis: /; not run: onnxruntime-cuda \(unavailable\)$/,
      failsByDefault: true,
      notGated: true,
    },
    {
      name: 'a GPU-only matrix, unavailable_backend: fail',
      backends: '[onnxruntime-cuda]',
      unavailable: ['onnxruntime-cuda'],
      extra: 'unavailable_backend: fail\n',
      decision: 'fail',
      basis: /; not run: onnxruntime-cuda \(unavailable\)$/,
      failsByDefault: true,
      notGated: true,
    },
  ])('$name', ({ backends, unavailable, extra, decision, basis, failsByDefault, notGated }) => {
    const v = runVerdict(backends, unavailable, extra);
    expect(v.decision).toBe(decision);
    expect(v.basis).toMatch(basis);
    expect(failsOn(v.decision, DEFAULT_FAIL_ON)).toBe(failsByDefault);
    for (const backend of unavailable) {
      expect(v.reasons).toContainEqual({
        rule: 'coverage',
        subject: backend,
        decision: extra.includes('unavailable_backend: fail') ? 'fail' : 'warn',
        message: `configured but not run (unavailable: no CUDA provider library); unavailable_backend: ${extra.includes('fail') ? 'fail' : 'warn'}`,
      });
    }
    const gates = v.reasons.find((r) => r.subject === 'gates');
    if (notGated) expect(gates).toMatchObject({ decision: 'pass', rule: 'coverage' });
    else expect(gates).toBeUndefined();
  });
});

describe('fail-on: one rule for the exit code, the step and the commit status', () => {
  it.each([
    ['pass', 'warn', false],
    ['warn', 'warn', true],
    ['warn', 'inconclusive', false],
    ['inconclusive', 'inconclusive', true],
    ['fail', 'inconclusive', true],
    ['inconclusive', 'fail', false],
    ['fail', 'fail', true],
    ['fail', 'never', false],
    ['inconclusive', 'warn', true],
  ] as const)('verdict %s with fail-on %s fails: %s', (decision, failOn, fails) => {
    expect(failsOn(decision, failOn)).toBe(fails);
  });
  it('the default fails an inconclusive verdict', () => {
    expect(DEFAULT_FAIL_ON).toBe('inconclusive');
  });
});

describe('reading a baseline', () => {
  it.each([
    {
      name: 'unknown version',
      data: { schemaVersion: 7 },
      message: /unknown results schema version 7; this tr118 reads version 1/,
    },
    { name: 'not a result', data: { schemaVersion: 1, cells: 'x' }, message: /not a tr118 results\.json: tool: / },
    { name: 'not an object', data: [1, 2], message: /not a tr118 results\.json/ },
  ])('$name is a clear error', ({ data, message }) => {
    expect(() => parseResults(data, 'baseline b.json')).toThrow(message);
  });
});

describe('reading a baseline: impossible figures are refused, naming the file and the key path', () => {
  const good = () =>
    validResults([
      [2, 2.1],
      [1.9, 2],
    ]);
  type Mutable = { cells: Record<string, unknown>[]; accuracy: { rows: Record<string, unknown>[] } };
  const edit = (change: (r: Mutable) => void): unknown => {
    const r = structuredClone(good()) as unknown as Mutable;
    change(r);
    return r;
  };
  it('a valid result is read', () => {
    expect(parseResults(good(), 'baseline b.json').cells[0]!.repetitionLatenciesMs).toEqual([
      [2, 2.1],
      [1.9, 2],
    ]);
  });
  it.each([
    {
      name: 'all-zero latencies',
      data: edit(
        (r) =>
          (r.cells[0]!.repetitionLatenciesMs = [
            [0, 0],
            [0, 0],
          ]),
      ),
      message: 'cells[0].repetitionLatenciesMs[0][0]: expected a latency > 0 ms; got 0',
    },
    {
      name: 'a negative latency',
      data: edit(
        (r) =>
          (r.cells[0]!.repetitionLatenciesMs = [
            [2, 2],
            [2, -1],
          ]),
      ),
      message: 'cells[0].repetitionLatenciesMs[1][1]: expected a latency > 0 ms; got -1',
    },
    {
      name: 'an infinite latency (1e999 in the JSON)',
      data: edit((r) => (r.cells[0]!.repetitionLatenciesMs = [[2, Infinity]])),
      message: 'cells[0].repetitionLatenciesMs[0][1]: expected a finite latency in ms; got Infinity',
    },
    {
      name: 'a NaN latency',
      data: edit((r) => (r.cells[0]!.repetitionLatenciesMs = [[NaN]])),
      message: 'cells[0].repetitionLatenciesMs[0][0]: expected a finite latency in ms; got NaN',
    },
    {
      name: 'a zero perplexity',
      data: edit((r) => (r.accuracy.rows[0]!.perplexity = 0)),
      message: 'accuracy.rows[0].perplexity: expected a perplexity ≥ 1',
    },
    {
      name: 'an infinite perplexity',
      data: edit((r) => (r.accuracy.rows[0]!.perplexity = Infinity)),
      message: 'accuracy.rows[0].perplexity: expected a finite perplexity; got Infinity',
    },
    {
      name: 'a degraded rate above 1',
      data: edit((r) => (r.cells[0]!.degradedRate = 1.5)),
      message: 'cells[0].degradedRate: expected a fraction from 0 to 1; got 1.5',
    },
    {
      name: 'more degraded runs than runs',
      data: edit((r) => (r.cells[0]!.degradedRuns = 11)),
      message: 'cells[0].degradedRuns: expected degradedRuns ≤ runs',
    },
    {
      name: 'a batch of 0',
      data: edit((r) => (r.cells[0]!.batch = 0)),
      message: 'cells[0].batch: expected a whole number ≥ 1; got 0',
    },
    {
      name: 'a fractional run count',
      data: edit((r) => (r.cells[0]!.runs = 2.5)),
      message: 'cells[0].runs: expected a whole number; got 2.5',
    },
  ])('$name', ({ data, message }) => {
    expect(() => parseResults(data, 'baseline /tmp/b.json')).toThrow(
      `baseline /tmp/b.json: impossible figure: ${message}`,
    );
  });

  it('every reader of a results.json refuses all-zero latencies: --baseline, baseline save, a merge part', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'tr118-zero-'));
    const file = path.join(dir, 'results.json');
    writeFileSync(file, JSON.stringify(edit((r) => (r.cells[0]!.repetitionLatenciesMs = [[0, 0]]))));
    const at = 'impossible figure: cells[0].repetitionLatenciesMs[0][0]: expected a latency > 0 ms; got 0';
    expect(() => loadBaseline(file, dir)).toThrow(`baseline ${file}: ${at}`);
    expect(() => saveBaseline(file, 'main', path.join(dir, 'store'))).toThrow(`results ${file}: ${at}`);
    expect(existsSync(path.join(dir, 'store', 'main.json'))).toBe(false);
    expect(() => readParts([file])).toThrow(`part ${file}: ${at}`);
    // 1e999 is how a JSON file spells a number that parses as Infinity
    writeFileSync(
      file,
      JSON.stringify(good()).replace('"repetitionLatenciesMs":[[2,', '"repetitionLatenciesMs":[[1e999,'),
    );
    expect(() => loadBaseline(file, dir)).toThrow(
      `baseline ${file}: impossible figure: cells[0].repetitionLatenciesMs[0][0]: expected a finite latency in ms; got Infinity`,
    );
  });
});

describe('a part of a split matrix is validated in full before anything renders it', () => {
  const part = (edit: (r: Record<string, unknown>) => void): string => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'tr118-part-'));
    return writeResults(path.join(dir, 'results.json'), edit);
  };
  type Editable = { tool: { version: string }; backends: Record<string, unknown>[]; cells: Record<string, unknown>[] };
  const edit = (change: (r: Editable) => void) => (r: Record<string, unknown>) => change(r as unknown as Editable);

  it('a part another version wrote, without a field this version reads, is refused naming the file and both versions', () => {
    const file = part(
      edit((r) => {
        r.tool.version = '0.0.9';
        delete r.backends[0]!.geomean;
      }),
    );
    expect(() => readParts([file])).toThrow(UsageError);
    expect(() => readParts([file])).toThrow(
      `part ${file}: written by tr118 0.0.9, which this tr118 ${toolVersion()} cannot read: backends[0].geomean: expected an object; got nothing (re-measure it with this version)`,
    );
  });

  it.each([
    {
      name: 'a verdict whose reasons are not a list',
      change: (r: Editable & { verdict: { reasons: unknown } }) => (r.verdict.reasons = 'x'),
      message: 'verdict.reasons: expected a list; got "x"',
    },
    {
      name: "a cell's statistics without a median",
      change: (r: Editable) => delete (r.cells[0]!.stats as { latencyMs: Record<string, unknown> }).latencyMs.median,
      message: 'cells[0].stats.latencyMs.median: expected a number; got nothing',
    },
    {
      name: 'a backend status this version does not know',
      change: (r: Editable) => (r.backends[0]!.status = 'skipped'),
      message: 'backends[0].status: expected "ok" or "unavailable" or "degraded"; got "skipped"',
    },
  ])('$name, by this version: not a tr118 results.json, naming the key', ({ change, message }) => {
    const file = part(edit(change as (r: Editable) => void));
    expect(() => readParts([file])).toThrow(`part ${file}: not a tr118 results.json: ${message}`);
  });

  it('a part another version wrote that this version reads whole is merged', () => {
    const file = part(edit((r) => (r.tool.version = '0.0.9')));
    expect(readParts([file])[0]!.results.tool.version).toBe('0.0.9');
  });
});
