/** A complete, valid results.json of a small synthetic run: what every reader of a results.json accepts. */
import { writeFileSync } from 'node:fs';
import { parseConfig } from '../../src/config/load.js';
import type { Environment } from '../../src/env/collect.js';
import type { Measurement } from '../../src/measure/records.js';
import { buildResults } from '../../src/results/build.js';
import type { Results } from '../../src/results/schema.js';
import { judge, withJudgement } from '../../src/results/judgement.js';

export const TEST_ENV: Environment = {
  toolVersion: '0.1.0',
  nodeVersion: 'v22.0.0',
  onnxruntimeVersion: '1.30.0',
  os: 'Linux x64',
  cpuModel: 'Test CPU',
  cpuCount: 2,
  totalMemoryMiB: 1024,
  gpus: [],
  gpuNote: 'no GPU',
};
export const TEST_AT = '2026-11-28T00:00:00.000Z';

/**
 * One backend (onnxruntime-cpu) × one scenario (s, 1×8), one repetition per entry of `latenciesMs`; with
 * `endToEndLatenciesMs`, each repetition also carries end-to-end passes, as a GPU worker reports them.
 */
export function validResults(
  latenciesMs: readonly (readonly number[])[] = [[1, 1.1, 1.2]],
  endToEndLatenciesMs?: readonly (readonly number[])[],
  backend = 'onnxruntime-cpu',
): Results {
  const backends = backend === 'onnxruntime-cpu' ? '[onnxruntime-cpu]' : `[{ name: ${backend}, engine: onnxruntime }]`;
  const config = parseConfig(
    `model: { onnx: m.onnx }\ninputs: { tokens: t.json }\nbackends: ${backends}\nscenarios: { s: { batch: 1, seq_len: 8 } }\nrepetitions: ${latenciesMs.length}\niterations: ${latenciesMs[0]?.length ?? 1}\n`,
    'tr118.yml',
    '/repo',
  );
  const at = TEST_AT;
  const measurement: Measurement = {
    backends: [{ kind: 'backend', backend, side: 'candidate', status: 'ok', at }],
    runs: latenciesMs.map((passes, repetition) => ({
      ...{
        kind: 'run',
        backend,
        side: 'candidate',
        scenario: 's',
        repetition,
        sequence: repetition,
      },
      ...{
        batch: 1,
        seqLen: 8,
        realTokens: 8,
        warmup: 3,
        iterations: passes.length,
        status: 'ok',
        latenciesMs: passes,
        ...(endToEndLatenciesMs ? { endToEndLatenciesMs: endToEndLatenciesMs[repetition] ?? [] } : {}),
        at,
      },
    })),
    accuracy: [
      {
        kind: 'accuracy',
        backend,
        side: 'candidate',
        status: 'ok',
        nllSum: 400,
        scoredTokens: 100,
        at,
      },
    ],
    parity: [],
  };
  const measured = buildResults({
    config,
    measurement,
    model: { name: 'm', path: '/repo/m.onnx', sha256: 'f'.repeat(64), bytes: 1 },
    backendModels: [],
    environment: TEST_ENV,
    git: null,
    startedAt: new Date(at),
    finishedAt: new Date(at),
    evaluatedTokens: 101,
    evalTokens: { file: '/repo/t.json', tokenizer: 'ids' },
  });
  // As results.json holds it (and a reader gets it back): JSON, no undefined keys.
  return JSON.parse(
    JSON.stringify(withJudgement(measured, judge(config, measured, { kind: 'none' }), null)),
  ) as Results;
}

/**
 * One part of a split matrix: validResults() measuring `backend` (each part its own cells), written to `file` after
 * `edit`.
 */
export function writePart(
  file: string,
  backend: string,
  edit: (results: Record<string, unknown>) => void = () => undefined,
): string {
  const data = structuredClone(validResults(undefined, undefined, backend)) as unknown as Record<string, unknown>;
  edit(data);
  writeFileSync(file, JSON.stringify(data));
  return file;
}

/** Writes validResults() to `file`, edited first by `edit` (which may break it on purpose). */
export function writeResults(file: string, edit: (results: Record<string, unknown>) => void = () => undefined): string {
  const data = structuredClone(validResults()) as unknown as Record<string, unknown>;
  edit(data);
  writeFileSync(file, JSON.stringify(data));
  return file;
}

export interface MatrixOptions {
  readonly backends: readonly string[];
  readonly scenarios: readonly string[];
  /** Latency of pass `i` of repetition `rep` of a cell (ms). */
  readonly latencyMs: (backend: string, scenario: string, rep: number, i: number) => number;
  /** Perplexity per backend (its accuracy record); omitted: accuracy disabled. */
  readonly perplexity?: (backend: string) => number;
  readonly repetitions?: number;
  readonly iterations?: number;
  /** Extra config text (e.g. `report: { baseline_backend: b1 }`). */
  readonly extraConfig?: string;
  readonly startedAt?: string;
}

/**
 * A results.json of a synthetic matrix: onnxruntime CPU backends with the given names, scenarios of batch 1, and
 * the latencies and perplexities given; judged against `base` (stored) when given, else against nothing.
 */
export function matrixResults(options: MatrixOptions, base?: Results, mode: 'stored' | 'same-run' = 'stored'): Results {
  const reps = options.repetitions ?? 3;
  const iterations = options.iterations ?? 5;
  const config = parseConfig(
    `model: { onnx: m.onnx, name: matrix }\ninputs: { tokens: t.json }\nbackends:\n${options.backends
      .map((b) => `  - { name: ${b}, engine: onnxruntime }\n`)
      .join('')}scenarios:\n${options.scenarios
      .map((s, i) => `  ${s}: { batch: 1, seq_len: ${8 + i} }\n`)
      .join('')}repetitions: ${reps}\niterations: ${iterations}\n` +
      `accuracy: { enabled: ${options.perplexity ? 'true' : 'false'}, parity: { enabled: false } }\n${options.extraConfig ?? ''}`,
    'tr118.yml',
    '/repo',
  );
  const at = options.startedAt ?? TEST_AT;
  const measurement: Measurement = {
    backends: options.backends.map((backend) => ({ kind: 'backend', backend, side: 'candidate', status: 'ok', at })),
    runs: options.backends.flatMap((backend) =>
      options.scenarios.flatMap((scenario, s) =>
        Array.from({ length: reps }, (_, repetition) => ({
          ...{ kind: 'run', backend, side: 'candidate', scenario, repetition, sequence: repetition },
          ...{ batch: 1, seqLen: 8 + s, realTokens: 8 + s, warmup: 3, iterations, status: 'ok', at },
          latenciesMs: Array.from({ length: iterations }, (_, i) =>
            options.latencyMs(backend, scenario, repetition, i),
          ),
        })),
      ),
    ),
    accuracy: options.perplexity
      ? options.backends.map((backend) => ({
          kind: 'accuracy',
          backend,
          side: 'candidate',
          status: 'ok',
          // PPL = exp(nllSum / scoredTokens)
          nllSum: Math.log(options.perplexity!(backend)) * 1000,
          scoredTokens: 1000,
          at,
        }))
      : [],
    parity: [],
  };
  const measured = buildResults({
    config,
    measurement,
    model: { name: 'matrix', path: '/repo/m.onnx', sha256: 'f'.repeat(64), bytes: 1 },
    backendModels: [],
    environment: TEST_ENV,
    git: null,
    startedAt: new Date(at),
    finishedAt: new Date(at),
    evaluatedTokens: options.perplexity ? 1001 : 0,
    evalTokens: options.perplexity ? { file: '/repo/t.json', tokenizer: 'ids' } : undefined,
  });
  const against = base
    ? ({ kind: mode, base, label: mode === 'stored' ? '/store/main.json' : 'main.onnx' } as const)
    : ({ kind: 'none' } as const);
  // Same-run A/B keeps the base's own results (measured with the same passes, so they pair).
  const sameRunBase = base && mode === 'same-run' ? { ...base, comparison: null, sameRunBase: null } : null;
  return JSON.parse(JSON.stringify(withJudgement(measured, judge(config, measured, against), sameRunBase))) as Results;
}
