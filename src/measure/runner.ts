/**
 * The prefill matrix: open every backend, then for each repetition run every cell once, in a seeded shuffled order
 * (so slow drift of the machine does not land on one backend), then score perplexity per backend.
 * Each result is handed to `record` the moment it exists.
 */
import { shuffle } from 'simple-statistics';
import { createBackend, isAccuracyTruth, type BackendOptions, type BackendSpec } from '../engines/registry.js';
import { clockFromEnv, isoOf, type Clock } from '../clock.js';
import type { Backend } from '../backends/types.js';
import type { Config, Scenario } from '../config/load.js';
import { formatKeyPath, UsageError } from '../errors.js';
import { seededRandom } from '../stats/random.js';
import { scenarioBatch, tokensNeeded, type ScenarioBatch } from './batches.js';
import { logitsParity } from '../accuracy/parity.js';
import { chooseReference } from '../accuracy/reference.js';
import { passOrder, reopenBefore, type Side } from './pairing.js';
import type { AccuracyRecord, BackendRecord, Measurement, ParityRecord, RawRecord, RunRecord } from './records.js';

export type { Measurement } from './records.js';

export type ProgressEvent =
  | { readonly phase: 'open'; readonly backend: string; readonly status: BackendRecord['status'] }
  | { readonly phase: 'run'; readonly done: number; readonly total: number; readonly record: RunRecord }
  | { readonly phase: 'accuracy'; readonly done: number; readonly total: number; readonly record: AccuracyRecord }
  | { readonly phase: 'parity'; readonly record: ParityRecord };

export interface MeasureInput {
  readonly config: Config;
  readonly inputTokens: readonly number[];
  /** Already cut to accuracy.max_tokens; undefined when accuracy is off. */
  readonly accuracyTokens: readonly number[] | undefined;
  readonly record: (record: RawRecord) => void;
  readonly progress?: (event: ProgressEvent) => void;
  readonly backendOptions?: BackendOptions;
  /**
   * Same-run A/B: every backend's worker also opens this base model and times its passes alternately with the
   * candidate's (measure/pairing.ts); the base side's records have side 'base'.
   */
  readonly baseModelPath?: string | undefined;
  /**
   * Same-run A/B: true when a base is measured beside the candidate (onnxruntime backends: baseModelPath; pytorch
   * backends: backendOptions.baseCheckpointPath).
   */
  readonly sameRun?: boolean;
  /** Called once the first backend is open, with its vocabulary size if known, to check token ids before timing. */
  readonly checkVocab?: (vocabSize: number) => void;
  /** The calendar that stamps each raw record's `at` (default: clockFromEnv()). */
  readonly clock?: Clock;
  /**
   * Same-run A/B: a backend's worker could not open the base model. Throws the error to stop with (the base model is
   * the user's input, not the candidate's fault); without it the backend counts as degraded.
   */
  readonly rejectBaseModel?: (backend: string, reason: string) => never;
}

interface PlannedCell {
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
  const clock = input.clock ?? clockFromEnv();
  const now = (): string => isoOf(clock());
  const backendRecords: BackendRecord[] = [];
  const runs: RunRecord[] = [];
  const accuracy: AccuracyRecord[] = [];
  const parity: ParityRecord[] = [];
  const emit = <T extends RawRecord>(list: T[], record: T): T => {
    list.push(record);
    input.record(record);
    return record;
  };

  const open = new Map<string, { backend: Backend; degradedReason: string | undefined }>();
  // Every backend whose worker may have started, open or not: whatever is thrown below (a config error found once a
  // model is open, say), `finally` closes them all, so no worker process keeps this one alive.
  const started: Backend[] = [];
  const sameRun = input.sameRun ?? input.baseModelPath !== undefined;
  try {
    for (const spec of config.backends) {
      const created = createBackend(spec, {
        env: process.env,
        pythonSearchFrom: process.cwd(),
        openTimeoutMs: config.openTimeoutSeconds * 1000,
        ...input.backendOptions,
        baseModelPath: input.baseModelPath,
      });
      if (!('backend' in created)) {
        // unavailable: it cannot run here; degraded: asked for, but what it runs could not be made (a TensorRT engine
        // whose build failed). Either way no worker starts and no figure exists.
        const status = 'unavailable' in created ? 'unavailable' : 'degraded';
        emit(backendRecords, {
          kind: 'backend',
          backend: spec.name,
          side: 'candidate',
          status,
          reason: 'unavailable' in created ? created.unavailable : created.degraded,
          at: now(),
        });
        input.progress?.({ phase: 'open', backend: spec.name, status });
        continue;
      }
      started.push(created.backend);
      const outcome = await created.backend.open();
      if (outcome.status === 'usage') {
        // The model does not fit the config (no output named model.logits_output): the user's mistake, not a
        // degraded backend; nothing after this could be measured right.
        const keyPath = outcome.keyPath;
        throw new UsageError(`config error: ${config.locate(keyPath)}: ${formatKeyPath(keyPath)}: ${outcome.reason}`);
      }
      if (outcome.status !== 'ok' && outcome.failedModel === 'base') input.rejectBaseModel?.(spec.name, outcome.reason);
      const record: BackendRecord =
        outcome.status === 'ok'
          ? { kind: 'backend', backend: spec.name, side: 'candidate', status: 'ok', info: outcome.info, at: now() }
          : {
              kind: 'backend',
              backend: spec.name,
              side: 'candidate',
              status: outcome.status,
              reason: outcome.reason,
              ...(outcome.status === 'degraded' && outcome.info ? { info: outcome.info } : {}),
              at: now(),
            };
      emit(backendRecords, record);
      // One worker holds both models: the base side opened (or failed) with the candidate.
      if (sameRun) emit(backendRecords, { ...record, side: 'base' });
      input.progress?.({ phase: 'open', backend: spec.name, status: outcome.status });
      if (outcome.status === 'unavailable') continue;
      if (outcome.status === 'ok' && outcome.info.vocabSize !== undefined) input.checkVocab?.(outcome.info.vocabSize);
      open.set(spec.name, {
        backend: created.backend,
        degradedReason: outcome.status === 'degraded' ? outcome.reason : undefined,
      });
    }

    const cells: PlannedCell[] = config.backends
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
      // Same-run A/B: halfway, every worker restarts with the base model's session opened first (pairing.ts).
      const openFirst = sameRun ? reopenBefore(repetition, config.repetitions) : null;
      if (openFirst) {
        for (const [name, entry] of open) {
          if (entry.degradedReason !== undefined) continue;
          const outcome = await entry.backend.reopen(openFirst);
          if (outcome.status !== 'ok')
            open.set(name, { ...entry, degradedReason: `could not reopen: ${outcome.reason}` });
        }
      }
      for (const cell of repetitionOrder(cells, config.seed, repetition)) {
        const entry = open.get(cell.backend.name);
        if (!entry) continue;
        const base = {
          kind: 'run',
          backend: cell.backend.name,
          side: 'candidate',
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
        let baseRecord: RunRecord | undefined;
        if (entry.degradedReason !== undefined) {
          record = { ...base, status: 'degraded', reason: entry.degradedReason, latenciesMs: [], at: now() };
          if (sameRun) baseRecord = { ...record, side: 'base' };
        } else {
          const paired = sameRun ? passOrder(repetition) : undefined;
          const outcome = await entry.backend.run(
            { ...cell.batch, warmup: config.warmup, iterations: config.iterations, ...(paired ? { paired } : {}) },
            timeoutMs,
          );
          record =
            outcome.status === 'ok'
              ? {
                  ...base,
                  status: 'ok',
                  latenciesMs: outcome.latenciesMs,
                  ...(outcome.endToEndLatenciesMs ? { endToEndLatenciesMs: outcome.endToEndLatenciesMs } : {}),
                  at: now(),
                }
              : { ...base, status: 'degraded', reason: outcome.reason, latenciesMs: [], at: now() };
          if (sameRun) {
            baseRecord =
              outcome.status === 'ok'
                ? {
                    ...base,
                    side: 'base',
                    status: 'ok',
                    latenciesMs: outcome.baseLatenciesMs ?? [],
                    ...(outcome.baseEndToEndLatenciesMs
                      ? { endToEndLatenciesMs: outcome.baseEndToEndLatenciesMs }
                      : {}),
                    at: record.at,
                  }
                : { ...record, side: 'base' };
          }
        }
        emit(runs, record);
        if (baseRecord) emit(runs, baseRecord);
        input.progress?.({
          phase: 'run',
          done: runs.filter((r) => r.side === 'candidate').length,
          total,
          record,
        });
      }
    }

    if (input.accuracyTokens) {
      const tokens = input.accuracyTokens;
      const scorable = config.backends.filter((spec) => open.has(spec.name));
      // Same-run A/B scores the base model on every backend too (its records have side 'base').
      const sides: Side[] = sameRun ? ['candidate', 'base'] : ['candidate'];
      let done = 0;
      for (const spec of scorable) {
        const entry = open.get(spec.name);
        if (!entry) continue;
        for (const side of sides) {
          const backend = spec.name;
          let record: AccuracyRecord;
          if (entry.degradedReason !== undefined) {
            record = { kind: 'accuracy', backend, side, status: 'degraded', reason: entry.degradedReason, at: now() };
          } else {
            const outcome = await entry.backend.perplexity(
              {
                tokens,
                windowTokens: config.accuracy.windowTokens,
                strideTokens: config.accuracy.strideTokens,
                ...(side === 'base' ? { model: 'base' as const } : {}),
              },
              timeoutMs,
            );
            record =
              outcome.status === 'ok'
                ? {
                    kind: 'accuracy',
                    backend,
                    side,
                    status: 'ok',
                    nllSum: outcome.nllSum,
                    scoredTokens: outcome.scoredTokens,
                    windows: outcome.windows,
                    peakRssMiB: outcome.peakRssMiB,
                    at: now(),
                  }
                : { kind: 'accuracy', backend, side, status: 'degraded', reason: outcome.reason, at: now() };
          }
          emit(accuracy, record);
          input.progress?.({ phase: 'accuracy', done: ++done, total: scorable.length * sides.length, record });
        }
      }
    }

    if (input.accuracyTokens && config.accuracy.parity) {
      const probe = config.accuracy.parity;
      await measureParity(config, open, input.accuracyTokens, accuracy, probe, timeoutMs, now, (record) => {
        emit(parity, record);
        input.progress?.({ phase: 'parity', record });
      });
    }
  } finally {
    await Promise.all(started.map((backend) => backend.close()));
  }
  return { backends: backendRecords, runs, accuracy, parity };
}

/**
 * Logits of one probe batch (distinct rows of evaluation tokens) from the reference backend, then from each other
 * backend in turn, compared as they arrive: at most two backends' logits are held at once.
 */
async function measureParity(
  config: Config,
  open: ReadonlyMap<string, { backend: Backend; degradedReason: string | undefined }>,
  tokens: readonly number[],
  accuracy: readonly AccuracyRecord[],
  probe: { readonly batch: number; readonly seqLen: number },
  timeoutMs: number,
  now: () => string,
  onRecord: (record: ParityRecord) => void,
): Promise<void> {
  const ok = new Set(accuracy.filter((a) => a.status === 'ok' && a.side === 'candidate').map((a) => a.backend));
  const choice = chooseReference(
    config.backends,
    config.accuracy.reference,
    (name) => ok.has(name),
    () => '',
    isAccuracyTruth,
  );
  const referenceBackend = choice.reference !== null ? open.get(choice.reference) : undefined;
  if (choice.reference === null || !referenceBackend) return;
  const reference = choice.reference;
  if (tokens.length < tokensNeeded(probe.batch, probe.seqLen)) return;
  const batch = scenarioBatch(tokens, probe.batch, probe.seqLen);
  const request = { batch: probe.batch, seqLen: probe.seqLen, inputIds: batch.inputIds };
  const refLogits = await referenceBackend.backend.logits(request, timeoutMs);
  for (const spec of config.backends) {
    const entry = open.get(spec.name);
    if (spec.name === reference || !entry || entry.degradedReason !== undefined) continue;
    const base = { kind: 'parity', backend: spec.name, side: 'candidate', reference } as const;
    if (refLogits.status !== 'ok') {
      onRecord({ ...base, status: 'degraded', reason: `reference logits failed: ${refLogits.reason}`, at: now() });
      continue;
    }
    const candidate = await entry.backend.logits(request, timeoutMs);
    if (candidate.status !== 'ok') {
      onRecord({ ...base, status: 'degraded', reason: candidate.reason, at: now() });
      continue;
    }
    const vocab = refLogits.dims[refLogits.dims.length - 1] ?? 0;
    const candidateVocab = candidate.dims[candidate.dims.length - 1] ?? 0;
    if (candidateVocab !== vocab || candidate.logits.length !== refLogits.logits.length) {
      onRecord({
        ...base,
        status: 'degraded',
        reason: `logits shape ${candidate.dims.join('×')} differs from the reference's ${refLogits.dims.join('×')}`,
        at: now(),
      });
      continue;
    }
    onRecord({ ...base, status: 'ok', ...logitsParity(refLogits.logits, candidate.logits, vocab), at: now() });
  }
}
