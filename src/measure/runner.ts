/**
 * The prefill matrix: open every backend, then for each repetition run every cell once, in a seeded shuffled order
 * (so slow drift of the machine does not land on one backend), then score perplexity per backend.
 * Each result is handed to `record` the moment it exists.
 */
import { shuffle } from 'simple-statistics';
import { createBackend, openQueueOf, type BackendOptions, type BackendSpec } from '../engines/registry.js';
import { clockFromEnv, isoOf, type Clock } from '../clock.js';
import type { Backend, OpenOutcome, RunOutcome } from '../backends/types.js';
import type { Config, Scenario } from '../config/load.js';
import { formatKeyPath, UsageError } from '../errors.js';
import { seededRandom } from '../stats/random.js';
import { scenarioBatch, type ScenarioBatch } from './batches.js';
import { planParity } from './parity-plan.js';
import { logitsParity } from '../accuracy/parity.js';
import { passOrder, reopenBefore, reopenBeforeSequential, type Side } from './pairing.js';
import { NO_PHASES, reassignOpens, type OpenFigures, type PhaseClock } from './phases.js';
import type {
  AccuracyRecord,
  BackendRecord,
  Measurement,
  ParityRecord,
  RawRecord,
  RunRecord,
  StopRecord,
} from './records.js';
import { SequentialStopping } from './sequential-run.js';

export type { Measurement } from './records.js';

export type ProgressEvent =
  | { readonly phase: 'open'; readonly backend: string; readonly status: BackendRecord['status'] }
  | { readonly phase: 'run'; readonly done: number; readonly total: number; readonly record: RunRecord }
  | { readonly phase: 'accuracy'; readonly done: number; readonly total: number; readonly record: AccuracyRecord }
  | { readonly phase: 'parity'; readonly record: ParityRecord }
  /** Sequential stopping: a cell stopped repeating (settled, out of budget, or too noisy to settle in it). */
  | { readonly phase: 'stop'; readonly record: StopRecord };

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
  /** Where the matrix's seconds go (measure/phases.ts); default: not measured. */
  readonly phases?: PhaseClock;
  /** A monotonic clock in seconds, for sequential stopping's time budget (default: performance.now()). */
  readonly monotonicSeconds?: () => number;
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

/**
 * The cells still open in one repetition, in its seeded order: a cell that settled (sequential stopping) drops out
 * and the others keep the order the same seed gives them, so a stop does not reshuffle the rest.
 */
export function openCellsInOrder<T>(
  cells: readonly T[],
  seed: number,
  repetition: number,
  isOpen: (cell: T) => boolean,
): T[] {
  return repetitionOrder(cells, seed, repetition).filter(isOpen);
}

/** A backend whose worker opened (degraded: it runs nothing, each of its runs is a degraded record with this reason). */
interface OpenBackend {
  readonly backend: Backend;
  /** The device queue its session open waits in (engines/registry.ts openQueueOf); undefined: none. */
  readonly queue: string | undefined;
  readonly degradedReason: string | undefined;
}

/** One matrix run as it goes: its records (each also handed to input.record as it is made) and the open backends. */
interface MatrixRun {
  readonly input: MeasureInput;
  readonly config: Config;
  readonly sameRun: boolean;
  readonly timeoutMs: number;
  readonly measurement: {
    backends: BackendRecord[];
    runs: RunRecord[];
    accuracy: AccuracyRecord[];
    parity: ParityRecord[];
    stops: StopRecord[];
  };
  readonly open: Map<string, OpenBackend>;
  /** Every backend whose worker may have started, open or not: all are closed at the end, whatever happened. */
  readonly started: Backend[];
  readonly now: () => string;
  readonly emit: <T extends RawRecord>(list: T[], record: T) => T;
  readonly phases: PhaseClock;
}

export async function measureMatrix(input: MeasureInput): Promise<Measurement> {
  const clock = input.clock ?? clockFromEnv();
  const m: MatrixRun = {
    input,
    config: input.config,
    sameRun: input.sameRun ?? input.baseModelPath !== undefined,
    timeoutMs: input.config.timeoutSeconds * 1000,
    measurement: { backends: [], runs: [], accuracy: [], parity: [], stops: [] },
    open: new Map(),
    started: [],
    now: () => isoOf(clock()),
    phases: input.phases ?? NO_PHASES,
    emit: (list, record) => {
      list.push(record);
      input.record(record);
      return record;
    },
  };
  try {
    // Whatever is thrown below (a config error found once a model is open, say), `finally` closes every worker, so
    // no worker process keeps this one alive.
    await openBackends(m);
    await runRepetitions(m);
    const { accuracyTokens } = input;
    if (accuracyTokens) await m.phases.duringAsync('perplexity', () => scorePerplexity(m, accuracyTokens));
    if (accuracyTokens && input.config.accuracy.parity) {
      const probe = input.config.accuracy.parity;
      await m.phases.duringAsync('parity', () =>
        measureParity(
          m.config,
          m.open,
          m.measurement.backends,
          accuracyTokens,
          m.measurement.accuracy,
          probe,
          m.timeoutMs,
          m.now,
          (record) => {
            m.emit(m.measurement.parity, record);
            input.progress?.({ phase: 'parity', record });
          },
        ),
      );
    }
  } finally {
    await Promise.all(m.started.map((backend) => backend.close()));
  }
  return m.measurement;
}

/** A backend to open: its spec, and what createBackend made of it (a backend, or why there is none). */
interface Creation {
  readonly spec: BackendSpec;
  readonly created: ReturnType<typeof createBackend>;
}

/**
 * Creates every backend, then opens them all at once (worker processes and their Python / torch imports start
 * together), except that opens sharing a device queue run one after another (openQueued). The records, progress
 * and checks then follow in config order, whatever order the opens finished in, so results.jsonl reads the same.
 */
async function openBackends(m: MatrixRun): Promise<void> {
  const { input, config } = m;
  const creations: Creation[] = config.backends.map((spec) => ({
    spec,
    created: createBackend(spec, {
      env: process.env,
      pythonSearchFrom: process.cwd(),
      openTimeoutMs: config.openTimeoutSeconds * 1000,
      ...input.backendOptions,
      baseModelPath: input.baseModelPath,
    }),
  }));
  const toOpen = creations.flatMap(({ spec, created }) =>
    'backend' in created ? [{ spec, backend: created.backend }] : [],
  );
  // Before any open starts: whatever is thrown later, `finally` in measureMatrix closes each of them.
  m.started.push(...toOpen.map((o) => o.backend));
  // Every backend has taken its process from the worker pool (started while the export ran) or started one: what
  // is left there was started for a backend that has none (unavailable, its variant not made) and is killed now.
  const pool = input.backendOptions?.workerPool;
  const leftovers = m.phases.during('workerStart', () => {
    for (const { backend } of toOpen) backend.prestart?.();
    return pool?.close();
  });
  const outcomes = await openQueued(
    m.phases,
    toOpen.map(({ spec, backend }) => ({
      queue: openQueueOf(spec),
      prestart: () => backend.prestart?.(),
      open: () => backend.open(),
    })),
  );
  await leftovers;
  let next = 0;
  for (const { spec, created } of creations) {
    if ('backend' in created) recordOpen(m, spec, created.backend, outcomes[next++]!);
    else recordUnopened(m, spec, created);
  }
}

/** A backend that could not be created: its record, and no worker. */
function recordUnopened(
  m: MatrixRun,
  spec: BackendSpec,
  created: { unavailable: string } | { degraded: string },
): void {
  // unavailable: it cannot run here; degraded: asked for, but what it runs could not be made (a TensorRT engine
  // whose build failed). Either way no worker starts and no figure exists.
  const status = 'unavailable' in created ? 'unavailable' : 'degraded';
  const reason = 'unavailable' in created ? created.unavailable : created.degraded;
  m.emit(m.measurement.backends, {
    kind: 'backend',
    backend: spec.name,
    side: 'candidate',
    status,
    reason,
    at: m.now(),
  });
  m.input.progress?.({ phase: 'open', backend: spec.name, status });
}

/** One opened (or failed) backend, in config order: its record(s), its checks, and an entry in m.open. */
function recordOpen(
  m: MatrixRun,
  spec: BackendSpec,
  backend: Backend,
  settled: PromiseSettledResult<OpenOutcome>,
): void {
  const { input, config } = m;
  if (settled.status === 'rejected') throw settled.reason;
  const outcome = settled.value;
  if (outcome.status === 'usage') {
    // The model does not fit the config (no output named model.logits_output): the user's mistake, not a
    // degraded backend; nothing after this could be measured right.
    const keyPath = outcome.keyPath;
    throw new UsageError(`config error: ${config.locate(keyPath)}: ${formatKeyPath(keyPath)}: ${outcome.reason}`);
  }
  if (outcome.status !== 'ok' && outcome.failedModel === 'base') input.rejectBaseModel?.(spec.name, outcome.reason);
  const record: BackendRecord =
    outcome.status === 'ok'
      ? { kind: 'backend', backend: spec.name, side: 'candidate', status: 'ok', info: outcome.info, at: m.now() }
      : {
          kind: 'backend',
          backend: spec.name,
          side: 'candidate',
          status: outcome.status,
          reason: outcome.reason,
          ...(outcome.status === 'degraded' && outcome.info ? { info: outcome.info } : {}),
          at: m.now(),
        };
  m.emit(m.measurement.backends, record);
  // One worker holds both models: the base side opened (or failed) with the candidate.
  if (m.sameRun) m.emit(m.measurement.backends, { ...record, side: 'base' });
  input.progress?.({ phase: 'open', backend: spec.name, status: outcome.status });
  if (outcome.status === 'unavailable') return;
  if (outcome.status === 'ok' && outcome.info.vocabSize !== undefined) input.checkVocab?.(outcome.info.vocabSize);
  m.open.set(spec.name, {
    backend,
    queue: openQueueOf(spec),
    degradedReason: outcome.status === 'degraded' ? outcome.reason : undefined,
  });
}

/**
 * Every repetition: each cell once, in a seeded shuffled order. Same-run A/B reopens its workers to balance which
 * session was opened first: halfway through a fixed run, or every other repetition under sequential stopping, which
 * also drops each cell once its decision is settled (sequential-run.ts) while the rest keep their order.
 */
async function runRepetitions(m: MatrixRun): Promise<void> {
  const { config, input } = m;
  const cells: PlannedCell[] = config.backends
    .filter((spec) => m.open.has(spec.name))
    .flatMap((backend) =>
      config.scenarios.map((scenario) => ({
        backend,
        scenario,
        batch: scenarioBatch(input.inputTokens, scenario.batch, scenario.seqLen),
      })),
    );
  const total = cells.length * config.repetitions;
  const stopping =
    m.sameRun && config.stopping.mode === 'sequential'
      ? new SequentialStopping(
          config,
          input.monotonicSeconds ?? (() => performance.now() / 1000),
          cells.map((c) => ({ backend: c.backend.name, scenario: c.scenario.name })),
        )
      : null;
  let sequence = 0;
  for (let repetition = 0; repetition < config.repetitions; repetition++) {
    if (stopping && !stopping.mayStartRepetition(repetition)) break;
    // Same-run A/B: every worker restarts with the other session opened first (pairing.ts).
    const openFirst = !m.sameRun
      ? null
      : stopping
        ? reopenBeforeSequential(repetition)
        : reopenBefore(repetition, config.repetitions);
    if (openFirst) {
      const reopening = [...m.open].filter(([, entry]) => entry.degradedReason === undefined);
      const outcomes = await openQueued(
        m.phases,
        reopening.map(([, entry]) => ({ queue: entry.queue, open: () => entry.backend.reopen(openFirst) })),
      );
      reopening.forEach(([name, entry], i) => {
        const settled = outcomes[i]!;
        if (settled.status === 'rejected') throw settled.reason;
        if (settled.value.status !== 'ok')
          m.open.set(name, { ...entry, degradedReason: `could not reopen: ${settled.value.reason}` });
      });
    }
    // Settled cells drop out of the same seeded permutation: the others keep their order.
    const order = openCellsInOrder(
      cells,
      config.seed,
      repetition,
      (cell) => !stopping || stopping.isOpen(cell.backend.name, cell.scenario.name),
    );
    for (const cell of order) {
      const entry = m.open.get(cell.backend.name);
      if (!entry) continue;
      const records = await runCell(m, entry, cell, repetition, sequence++);
      for (const record of records) m.emit(m.measurement.runs, record);
      const done = m.measurement.runs.filter((r) => r.side === 'candidate').length;
      input.progress?.({ phase: 'run', done, total, record: records[0]! });
    }
    if (!stopping) continue;
    const stops = stopping.afterRepetition(repetition, m.measurement.runs, m.now());
    for (const record of stops) {
      m.emit(m.measurement.stops, record);
      input.progress?.({ phase: 'stop', record });
    }
    if (!stopping.anyOpen()) break;
  }
  for (const record of stopping?.atBudgetEnd(m.now()) ?? []) {
    m.emit(m.measurement.stops, record);
    input.progress?.({ phase: 'stop', record });
  }
}

/** One run of one cell: its record, and in same-run A/B the base side's beside it. */
async function runCell(
  m: MatrixRun,
  entry: OpenBackend,
  cell: PlannedCell,
  repetition: number,
  sequence: number,
): Promise<RunRecord[]> {
  const { config } = m;
  const base = {
    kind: 'run',
    backend: cell.backend.name,
    side: 'candidate',
    scenario: cell.scenario.name,
    repetition,
    sequence,
    batch: cell.batch.batch,
    seqLen: cell.batch.seqLen,
    realTokens: cell.batch.realTokens,
    warmup: config.warmup,
    iterations: config.iterations,
  } as const;
  if (entry.degradedReason !== undefined) {
    const record: RunRecord = {
      ...base,
      status: 'degraded',
      reason: entry.degradedReason,
      latenciesMs: [],
      at: m.now(),
    };
    return m.sameRun ? [record, { ...record, side: 'base' }] : [record];
  }
  const paired = m.sameRun ? passOrder(repetition) : undefined;
  const request = {
    ...cell.batch,
    warmup: config.warmup,
    iterations: config.iterations,
    endToEndPasses: config.endToEndPasses,
    ...(paired ? { paired } : {}),
  };
  const outcome = await timedRun(m.phases, () => entry.backend.run(request, m.timeoutMs));
  if (outcome.status !== 'ok') {
    const record: RunRecord = { ...base, status: 'degraded', reason: outcome.reason, latenciesMs: [], at: m.now() };
    return m.sameRun ? [record, { ...record, side: 'base' }] : [record];
  }
  const at = m.now();
  const compiled = outcome.compiledInTimedPasses ? { compiledInTimedPasses: true as const } : {};
  const record: RunRecord = {
    ...base,
    status: 'ok',
    latenciesMs: outcome.latenciesMs,
    ...(outcome.endToEndLatenciesMs ? { endToEndLatenciesMs: outcome.endToEndLatenciesMs } : {}),
    ...compiled,
    at,
  };
  if (!m.sameRun) return [record];
  const baseRecord: RunRecord = {
    ...base,
    side: 'base',
    status: 'ok',
    latenciesMs: outcome.baseLatenciesMs ?? [],
    ...(outcome.baseEndToEndLatenciesMs ? { endToEndLatenciesMs: outcome.baseEndToEndLatenciesMs } : {}),
    ...compiled,
    at,
  };
  return [record, baseRecord];
}

/**
 * Opens (or same-run reopens) started together: every worker process first (their imports run side by side), then
 * each open waiting only for the one before it in its device queue; their
 * span is charged whole to starting the workers, then the workers' own open and compile figures are moved out of it
 * once, along the queue that took longest (phases.ts reassignOpens). Settles every open, whatever one of them does.
 */
async function openQueued(
  phases: PhaseClock,
  opens: readonly {
    readonly queue: string | undefined;
    /** Starts the worker (its process, its imports) before its turn in the queue. */
    readonly prestart?: () => void;
    readonly open: () => Promise<OpenOutcome>;
  }[],
): Promise<PromiseSettledResult<OpenOutcome>[]> {
  const settled = await phases.duringAsync('workerStart', () => {
    for (const { prestart } of opens) prestart?.();
    const tails = new Map<string, Promise<unknown>>();
    return Promise.allSettled(
      opens.map(({ queue, open }) => {
        if (queue === undefined) return open();
        // A failed open before it in the queue does not stop this one: each backend's outcome is its own.
        const mine = (tails.get(queue) ?? Promise.resolve()).catch(() => undefined).then(open);
        tails.set(queue, mine);
        return mine;
      }),
    );
  });
  const queues = new Map<string | number, OpenFigures[]>();
  settled.forEach((s, i) => {
    const info =
      s.status === 'fulfilled' && (s.value.status === 'ok' || s.value.status === 'degraded') ? s.value.info : undefined;
    if (!info) return;
    // A backend outside any device queue is a queue of its own.
    const key = opens[i]!.queue ?? i;
    queues.set(key, [...(queues.get(key) ?? []), { openMs: info.openMs, compileMs: info.compileMs }]);
  });
  reassignOpens(phases, [...queues.values()]);
  return settled;
}

/**
 * A run request, charged whole to warm-up (the untimed passes, the request's own round trip), then its timed and
 * end-to-end passes, by the worker's own timers, moved to their phases, and so is a compiled model's compile of a new
 * shape in its warm-up (the first larger batch's graph: seconds, where a warm-up pass takes milliseconds).
 */
export async function timedRun(phases: PhaseClock, run: () => Promise<RunOutcome>): Promise<RunOutcome> {
  const outcome = await phases.duringAsync('warmUp', run);
  if (outcome.status !== 'ok') return outcome;
  const sumSeconds = (ms: readonly number[] | undefined): number => (ms ?? []).reduce((a, b) => a + b, 0) / 1000;
  phases.reassign('warmUp', 'timedPasses', sumSeconds(outcome.latenciesMs) + sumSeconds(outcome.baseLatenciesMs));
  const endToEndSeconds = sumSeconds(outcome.endToEndLatenciesMs) + sumSeconds(outcome.baseEndToEndLatenciesMs);
  phases.reassign('warmUp', 'endToEndPasses', endToEndSeconds);
  phases.reassign('warmUp', 'compile', (outcome.compileMs ?? 0) / 1000);
  return outcome;
}

/** Each open backend's perplexity over the evaluated tokens (in same-run A/B, the base model's too). */
async function scorePerplexity(m: MatrixRun, tokens: readonly number[]): Promise<void> {
  const { config, input } = m;
  const scorable = config.backends.filter((spec) => m.open.has(spec.name));
  // Same-run A/B scores the base model on every backend too (its records have side 'base').
  const sides: Side[] = m.sameRun ? ['candidate', 'base'] : ['candidate'];
  let done = 0;
  for (const spec of scorable) {
    const entry = m.open.get(spec.name)!;
    for (const side of sides) {
      const backend = spec.name;
      let record: AccuracyRecord;
      if (entry.degradedReason !== undefined) {
        record = { kind: 'accuracy', backend, side, status: 'degraded', reason: entry.degradedReason, at: m.now() };
      } else {
        const request = {
          tokens,
          windowTokens: config.accuracy.windowTokens,
          strideTokens: config.accuracy.strideTokens,
          ...(side === 'base' ? { model: 'base' as const } : {}),
        };
        const outcome = await entry.backend.perplexity(request, m.timeoutMs);
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
                at: m.now(),
              }
            : { kind: 'accuracy', backend, side, status: 'degraded', reason: outcome.reason, at: m.now() };
      }
      m.emit(m.measurement.accuracy, record);
      input.progress?.({ phase: 'accuracy', done: ++done, total: scorable.length * sides.length, record });
    }
  }
}

/**
 * Logits of one probe batch (distinct rows of evaluation tokens) from the reference backend, then from each other
 * backend in turn, compared as they arrive: at most two backends' logits are held at once. Every backend not
 * compared gets a skipped record saying why (parity-plan.ts).
 */
async function measureParity(
  config: Config,
  open: ReadonlyMap<string, OpenBackend>,
  backends: readonly BackendRecord[],
  tokens: readonly number[],
  accuracy: readonly AccuracyRecord[],
  probe: { readonly batch: number; readonly seqLen: number },
  timeoutMs: number,
  now: () => string,
  onRecord: (record: ParityRecord) => void,
): Promise<void> {
  const plan = planParity({
    specs: config.backends,
    configuredReference: config.accuracy.reference,
    accuracy,
    state: (name) => {
      const entry = open.get(name);
      if (entry?.degradedReason !== undefined) return { kind: 'degraded', reason: entry.degradedReason };
      if (entry) return { kind: 'open' };
      const record = backends.find((b) => b.backend === name && b.side === 'candidate');
      return { kind: 'unavailable', reason: record?.reason ?? 'its worker was not opened' };
    },
    evaluationTokens: tokens.length,
    probe,
  });
  for (const skip of plan.skipped) {
    onRecord({ kind: 'parity', side: 'candidate', status: 'skipped', ...skip, at: now() });
  }
  const reference = plan.reference;
  const referenceBackend = reference !== null ? open.get(reference) : undefined;
  if (reference === null || !referenceBackend || plan.compare.length === 0) return;
  const batch = scenarioBatch(tokens, probe.batch, probe.seqLen);
  const request = { batch: probe.batch, seqLen: probe.seqLen, inputIds: batch.inputIds };
  const refLogits = await referenceBackend.backend.logits(request, timeoutMs);
  // Logits with NaN or infinity have no distance to anything: said, never a number (the gate fails them).
  const broken = (logits: Float32Array): boolean => !logits.every(Number.isFinite);
  for (const name of plan.compare) {
    const entry = open.get(name);
    if (!entry) continue; // planParity compares open backends only
    const base = { kind: 'parity', backend: name, side: 'candidate', reference } as const;
    if (refLogits.status !== 'ok') {
      onRecord({ ...base, status: 'degraded', reason: `reference logits failed: ${refLogits.reason}`, at: now() });
      continue;
    }
    if (broken(refLogits.logits)) {
      const reason = `the reference ${reference}'s logits on the parity probe hold NaN or infinity`;
      onRecord({ ...base, status: 'degraded', reason, at: now() });
      continue;
    }
    const candidate = await entry.backend.logits(request, timeoutMs);
    if (candidate.status !== 'ok') {
      onRecord({ ...base, status: 'degraded', reason: candidate.reason, at: now() });
      continue;
    }
    if (broken(candidate.logits)) {
      const reason = "non-finite logits (NaN or infinity) on the parity probe: the model's output is broken";
      onRecord({ ...base, status: 'degraded', reason, at: now() });
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
