/**
 * The second phase: the matrix itself (measure/runner.ts), every raw record appended to results.jsonl as it is
 * made. What a worker finds once a model is open (token ids outside its vocabulary, logits larger than the memory
 * budget, a base model it cannot load) stops the run as the config error it is.
 */
import { appendFileSync } from 'node:fs';
import type { WorkerPool } from '../backends/worker-pool.js';
import type { Clock } from '../clock.js';
import { isSameRun } from '../config/load.js';
import { familyOf } from '../engines/registry.js';
import { UsageError } from '../errors.js';
import { checkLogitsMemory, memoryBudget } from '../measure/memory.js';
import type { PhaseClock } from '../measure/phases.js';
import { plannedPasses } from '../measure/plan.js';
import type { Measurement, RunRecord } from '../measure/records.js';
import { measureMatrix } from '../measure/runner.js';
import { baseModelWhere, checkTokensInVocab } from '../model/source.js';
import { writeError } from '../out-dir.js';
import { workerContextOf, type PipelineOptions } from './options.js';
import { runArtifactStore, type PreparedRun } from './1-prepare.js';

export async function measureRun(
  run: PreparedRun,
  options: PipelineOptions,
  clock: Clock,
  rawFile: string,
  phases: PhaseClock,
  workerPool?: WorkerPool,
): Promise<Measurement> {
  const { config, input, accuracyTokens, evalTokens } = run;
  const budget = memoryBudget(config.limits.memoryBudgetMiB);
  const baseModel = config.compare.baseModelPath;
  const measurement = await measureMatrix({
    clock,
    phases,
    config,
    // Same-run A/B: each backend's worker holds both models and alternates their passes (measure/pairing.ts).
    baseModelPath: baseModel,
    sameRun: isSameRun(config),
    inputTokens: input.tokens,
    accuracyTokens,
    record: (record) => {
      try {
        phases.during('writing', () => appendFileSync(rawFile, `${JSON.stringify(record)}\n`));
      } catch (error) {
        // A full disk mid-matrix: said as the user's fault it is (exit 2), and the workers are closed as it unwinds.
        throw writeError(rawFile, error);
      }
    },
    rejectBaseModel: (backend, reason) => {
      const spec = config.backends.find((b) => b.name === backend);
      if (spec && familyOf(spec).sameRunBase === 'base_hf') {
        throw new UsageError(
          `config error: ${config.locate(['compare', 'base_hf'])}: compare.base_hf: backend ${backend} could not load the base checkpoint ${config.compare.baseHfPath ?? ''}: ${reason}; expected a checkpoint this tool can run (nothing was measured)`,
        );
      }
      throw new UsageError(
        `config error: ${baseModelWhere(config, options.baseModelFromFlag ?? false)}: backend ${backend} could not open the base model ${baseModel ?? ''}: ${reason}; expected an ONNX model this tool can run (nothing was measured)`,
      );
    },
    checkVocab: (vocabSize) => {
      checkTokensInVocab(config, input.tokens, vocabSize, input.file, input.keyPath);
      if (accuracyTokens && evalTokens) {
        checkTokensInVocab(config, accuracyTokens, vocabSize, evalTokens.file, evalTokens.keyPath);
      }
      const findings = checkLogitsMemory(plannedPasses(config), vocabSize, budget);
      const refused = findings.find((f) => f.level === 'refuse');
      if (refused) throw new UsageError(`config error: ${config.locate(refused.pass.keyPath)}: ${refused.message}`);
      // Every backend that opens reports its vocabulary: each warning once (notes keep one of each).
      for (const f of findings) run.notes.add(f.message);
    },
    ...(options.progress ? { progress: options.progress } : {}),
    backendOptions: {
      // The native worker's Python: a .venv is looked for from the config's folder up.
      ...workerContextOf(options, config),
      baseCheckpointPath: config.compare.baseHfPath,
      // Where torch.compile's caches are kept between runs, keyed by the checkpoints' sha256 (pytorch/compile-cache.ts).
      artifactStore: memo(() => runArtifactStore(options)),
      checkpointSha256: new Map([...run.backendModels].map(([folder, file]) => [folder, file.sha256])),
      ...options.backendOptions,
      ...(run.prepared ? { prepared: run.prepared } : {}),
      // The worker processes started while the export ran: each backend takes the one for its launch.
      ...(workerPool ? { workerPool } : {}),
    },
  });
  for (const note of compilesInTimedPasses(measurement.runs, config.warmup)) run.notes.add(note);
  return measurement;
}

/**
 * The cells whose timed passes held a compile, one note per backend: with `warmup: 0` a compiled backend's first pass
 * of each shape (the run's own note says so before the matrix), otherwise a recompile mid-run, which nothing else
 * would show. The passes stay as measured; the note says which medians hold a compile's seconds.
 */
export function compilesInTimedPasses(runs: readonly RunRecord[], warmup: number): string[] {
  const byBackend = new Map<string, Map<string, number[]>>();
  for (const r of runs) {
    if (!r.compiledInTimedPasses || r.side !== 'candidate') continue; // same-run A/B flags both sides of a request
    const scenarios = byBackend.get(r.backend) ?? new Map<string, number[]>();
    scenarios.set(r.scenario, [...(scenarios.get(r.scenario) ?? []), r.repetition + 1]); // said counting from 1
    byBackend.set(r.backend, scenarios);
  }
  const why =
    warmup === 0
      ? 'warmup is 0, so each new shape compiled on its first timed pass'
      : "the model was compiled again after its warm-up (TORCH_LOGS=recompiles in the runner's environment says why)";
  return [...byBackend].map(([backend, scenarios]) => {
    const cells = [...scenarios].map(([scenario, reps]) => {
      const sorted = [...new Set(reps)].sort((a, b) => a - b);
      return `${scenario} (repetition${sorted.length > 1 ? 's' : ''} ${sorted.join(', ')})`;
    });
    return (
      `${backend}: a graph was compiled during the timed passes of ${cells.join(', ')}: ${why}; ` +
      "those passes hold the compile's time and are kept as measured"
    );
  });
}

/** `make`'s value, made on the first call only. */
function memo<T>(make: () => T): () => T {
  let made: { value: T } | undefined;
  return () => (made ??= { value: make() }).value;
}
