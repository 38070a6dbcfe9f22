/**
 * The prefill matrix: open every backend, then for each repetition run every cell once, in a seeded shuffled order
 * (so slow drift of the machine does not land on one backend), then score perplexity per backend.
 * Each result is handed to `record` the moment it exists.
 */
import { shuffle } from 'simple-statistics';
import { createBackend, type BackendFactoryOptions } from '../backends/index.js';
import type { BackendSpec } from '../backends/presets.js';
import type { Backend } from '../backends/types.js';
import type { Config, Scenario } from '../config/load.js';
import { seededRandom } from '../stats/random.js';
import { scenarioBatch, type ScenarioBatch } from './inputs.js';
import type { AccuracyRecord, BackendRecord, RawRecord, RunRecord } from './records.js';

export type ProgressEvent =
  | { readonly phase: 'open'; readonly backend: string; readonly status: BackendRecord['status'] }
  | { readonly phase: 'run'; readonly done: number; readonly total: number; readonly record: RunRecord }
  | { readonly phase: 'accuracy'; readonly done: number; readonly total: number; readonly record: AccuracyRecord };

export interface MeasureInput {
  readonly config: Config;
  readonly inputTokens: readonly number[];
  /** Already cut to accuracy.max_tokens; undefined when accuracy is off. */
  readonly accuracyTokens: readonly number[] | undefined;
  readonly record: (record: RawRecord) => void;
  readonly progress?: (event: ProgressEvent) => void;
  readonly backendOptions?: BackendFactoryOptions;
  /** Called once the first backend is open, with its vocabulary size if known, to check token ids before timing. */
  readonly checkVocab?: (vocabSize: number) => void;
}

export interface Measurement {
  readonly backends: readonly BackendRecord[];
  readonly runs: readonly RunRecord[];
  readonly accuracy: readonly AccuracyRecord[];
}

interface Cell {
  readonly backend: BackendSpec;
  readonly scenario: Scenario;
  readonly batch: ScenarioBatch;
}

/** The run order of one repetition: a seeded shuffle, different per repetition, identical across re-runs. */
export function repetitionOrder<T>(cells: readonly T[], seed: number, repetition: number): T[] {
  return shuffle([...cells], seededRandom(seed * 7919 + repetition));
}

export async function measureMatrix(input: MeasureInput): Promise<Measurement> {
  const { config } = input;
  const now = (): string => new Date().toISOString();
  const backendRecords: BackendRecord[] = [];
  const runs: RunRecord[] = [];
  const accuracy: AccuracyRecord[] = [];
  const emit = <T extends RawRecord>(list: T[], record: T): T => {
    list.push(record);
    input.record(record);
    return record;
  };

  const open = new Map<string, { backend: Backend; degradedReason: string | undefined }>();
  try {
    for (const spec of config.backends) {
      const created = createBackend(spec, config.model.onnxPath, input.backendOptions);
      if ('unavailable' in created) {
        emit(backendRecords, {
          kind: 'backend',
          backend: spec.name,
          status: 'unavailable',
          reason: created.unavailable,
          at: now(),
        });
        input.progress?.({ phase: 'open', backend: spec.name, status: 'unavailable' });
        continue;
      }
      const outcome = await created.backend.open();
      const record: BackendRecord =
        outcome.status === 'ok'
          ? { kind: 'backend', backend: spec.name, status: 'ok', info: outcome.info, at: now() }
          : { kind: 'backend', backend: spec.name, status: outcome.status, reason: outcome.reason, at: now() };
      emit(backendRecords, record);
      input.progress?.({ phase: 'open', backend: spec.name, status: outcome.status });
      if (outcome.status === 'unavailable') continue;
      if (outcome.status === 'ok' && outcome.info.vocabSize !== undefined) input.checkVocab?.(outcome.info.vocabSize);
      open.set(spec.name, {
        backend: created.backend,
        degradedReason: outcome.status === 'degraded' ? outcome.reason : undefined,
      });
    }

    const cells: Cell[] = config.backends
      .filter((spec) => open.has(spec.name))
      .flatMap((backend) =>
        config.scenarios.map((scenario) => ({
          backend,
          scenario,
          batch: scenarioBatch(input.inputTokens, scenario.batch, scenario.seqLen),
        })),
      );
    const total = cells.length * config.repetitions;
    const timeoutMs = config.timeoutSeconds * 1000;
    let sequence = 0;
    for (let repetition = 0; repetition < config.repetitions; repetition++) {
      for (const cell of repetitionOrder(cells, config.seed, repetition)) {
        const entry = open.get(cell.backend.name);
        if (!entry) continue;
        const base = {
          kind: 'run',
          backend: cell.backend.name,
          scenario: cell.scenario.name,
          repetition,
          sequence: sequence++,
          batch: cell.batch.batch,
          seqLen: cell.batch.seqLen,
          realTokens: cell.batch.realTokens,
          warmup: config.warmup,
          iterations: config.iterations,
        } as const;
        let record: RunRecord;
        if (entry.degradedReason !== undefined) {
          record = { ...base, status: 'degraded', reason: entry.degradedReason, latenciesMs: [], at: now() };
        } else {
          const outcome = await entry.backend.run(
            { ...cell.batch, warmup: config.warmup, iterations: config.iterations },
            timeoutMs,
          );
          record =
            outcome.status === 'ok'
              ? { ...base, status: 'ok', latenciesMs: outcome.latenciesMs, at: now() }
              : { ...base, status: 'degraded', reason: outcome.reason, latenciesMs: [], at: now() };
        }
        emit(runs, record);
        input.progress?.({ phase: 'run', done: runs.length, total, record });
      }
    }

    if (input.accuracyTokens) {
      const scorable = config.backends.filter((spec) => open.has(spec.name));
      for (const spec of scorable) {
        const entry = open.get(spec.name);
        if (!entry) continue;
        let record: AccuracyRecord;
        if (entry.degradedReason !== undefined) {
          record = {
            kind: 'accuracy',
            backend: spec.name,
            status: 'degraded',
            reason: entry.degradedReason,
            at: now(),
          };
        } else {
          const outcome = await entry.backend.perplexity(
            {
              tokens: input.accuracyTokens,
              windowTokens: config.accuracy.windowTokens,
              strideTokens: config.accuracy.strideTokens,
            },
            timeoutMs,
          );
          record =
            outcome.status === 'ok'
              ? {
                  kind: 'accuracy',
                  backend: spec.name,
                  status: 'ok',
                  nllSum: outcome.nllSum,
                  scoredTokens: outcome.scoredTokens,
                  windows: outcome.windows,
                  at: now(),
                }
              : { kind: 'accuracy', backend: spec.name, status: 'degraded', reason: outcome.reason, at: now() };
        }
        emit(accuracy, record);
        input.progress?.({ phase: 'accuracy', done: accuracy.length, total: scorable.length, record });
      }
    }
  } finally {
    await Promise.all([...open.values()].map((entry) => entry.backend.close()));
  }
  return { backends: backendRecords, runs, accuracy };
}
