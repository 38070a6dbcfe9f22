/**
 * One run, from a validated config to the files in the output folder: prepare (models, tokens, baseline,
 * artifacts) → measure (the matrix, raw records appended as they happen) → judge (results and verdict) → write.
 * Everything the CLI and the Action share; knows nothing of GitHub or of terminals (progress goes to a callback), and
 * what only a runner has (the Actions cache) is handed in.
 */
import { writeFileSync } from 'node:fs';
import { WorkerPool } from '../backends/worker-pool.js';
import type { Clock } from '../clock.js';
import { collectEnvironment, collectGitState } from '../env/collect.js';
import { commandRunner } from '../env/command.js';
import { gpuStateOf, readGpuSnapshot } from '../env/gpu-state.js';
import { claimOutDir, writeError } from '../out-dir.js';
import type { Results } from '../results/schema.js';
import { phaseClock, type PhaseClock } from '../measure/phases.js';
import { judgeRun, withDuration } from './3-judge.js';
import { measureRun } from './2-measure.js';
import { clockOf, outputFiles, RUN_FILES, type OutputFiles, type PipelineOptions } from './options.js';
import { prepareRun } from './1-prepare.js';
import { rawRecordsKept, writeRun } from './4-write.js';

export { MERGED_FILE, OUTPUT_FILES, RUN_FILES, type PipelineOptions } from './options.js';
export { DIGEST_MEMO_ENV } from './1-prepare.js';

export interface PipelineResult {
  readonly results: Results;
  readonly files: OutputFiles;
}

export async function runPipeline(options: PipelineOptions): Promise<PipelineResult> {
  const clock = clockOf(options);
  // Read together: durationSeconds (the calendar) and `phases` (the monotonic clock) span the same moments.
  const phases = phaseClock(options.monotonic);
  const startedAt = new Date(clock());
  // Worker processes started while the export runs (1-prepare.ts): whatever ends the run, none outlives it.
  const workerPool = new WorkerPool();
  try {
    return await prepareMeasureWrite(options, phases, clock, startedAt, workerPool);
  } finally {
    await workerPool.close();
  }
}

async function prepareMeasureWrite(
  options: PipelineOptions,
  phases: PhaseClock,
  clock: Clock,
  startedAt: Date,
  workerPool: WorkerPool,
): Promise<PipelineResult> {
  const run = await prepareRun(options, phases, workerPool);
  // From here on this run owns the folder: locked, and the previous run's files gone (out-dir.ts).
  const files = outputFiles(options.outDir);
  const claim = phases.during('writing', () =>
    claimOutDir(options.outDir, RUN_FILES, { interrupted: () => keptOnInterrupt(files.raw) }),
  );
  try {
    // A new run starts a new raw file; every record is appended (and flushed by the OS) as soon as it exists.
    try {
      phases.during('writing', () => writeFileSync(files.raw, ''));
    } catch (error) {
      throw writeError(files.raw, error);
    }
    const commands = options.commands ?? commandRunner();
    const at = (): string => new Date(clock()).toISOString();
    // The GPUs just before and just after the matrix: a throttled GPU is a note (said, and in the report).
    const gpuBefore = phases.during('environment', () => readGpuSnapshot(commands, at()));
    const measurement = await measureRun(run, options, clock, files.raw, phases, workerPool);
    const { environment, git } = phases.during('environment', () => {
      const gpuState = gpuStateOf(gpuBefore, readGpuSnapshot(commands, at()));
      for (const warning of gpuState.throttleWarnings) run.notes.add(warning);
      const git = collectGitState(options.cwd ?? process.cwd(), commands);
      return { environment: { ...collectEnvironment(commands), gpuState }, git };
    });
    const judged = phases.during('judging', () =>
      judgeRun(run, measurement, { environment, git, startedAt, finishedAt: startedAt }),
    );
    // The end is read once judging is done; writing the reports (below) comes after it (results/schema.ts phases).
    const results = withDuration(judged, startedAt, new Date(clock()), phases.seconds());
    writeRun(results, run.baseline, files);
    return { results, files };
  } finally {
    claim.release();
  }
}

/** What an interrupted run leaves: the raw records measured so far (each appended as it was made), no report. */
function keptOnInterrupt(rawFile: string): string {
  return `${rawRecordsKept(rawFile)} so far (no report, no verdict: the run did not finish)`;
}
