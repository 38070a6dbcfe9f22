/**
 * The third phase: the raw records become results (statistics, the accuracy gate) for the candidate and, in same-run
 * A/B, for the base model beside it; then the verdict, against the same-run base, a stored baseline, or nothing.
 */
import path from 'node:path';
import type { Side } from '../backends/types.js';
import { isSameRun } from '../config/load.js';
import { tokensSha256 } from '../hash.js';
import type { Environment, GitState } from '../env/collect.js';
import { splitMeasurement } from '../measure/pairing.js';
import type { Measurement } from '../measure/records.js';
import { buildResults } from '../results/build.js';
import type { PhaseSeconds } from '../measure/phases.js';
import type { MeasuredResults, ModelInfo, Results } from '../results/schema.js';
import { judge, withJudgement, type Against } from '../results/judgement.js';
import type { PreparedRun } from './1-prepare.js';

/** When the run happened and on what. */
export interface RunContext {
  readonly startedAt: Date;
  readonly finishedAt: Date;
  readonly environment: Environment;
  readonly git: GitState | null;
}

export function judgeRun(run: PreparedRun, measurement: Measurement, context: RunContext): Results {
  const { config } = run;
  const build = (side: Side, model: ModelInfo): MeasuredResults =>
    buildResults({
      ...context,
      config,
      side,
      measurement: splitMeasurement(measurement, side),
      model,
      backendModels: [...run.backendModels.values()],
      evaluatedTokens: run.accuracyTokens?.length ?? 0,
      evaluatedTokensSha256: run.accuracyTokens ? tokensSha256(run.accuracyTokens) : undefined,
      evalTokens: run.evalTokens,
      notes: run.notes.list,
      export: run.exported,
      artifacts: run.artifacts,
    });
  const candidate = build('candidate', { name: config.model.name, ...run.model });
  // The same-run base model's own results, judged on their own (it has no base): kept in results.json. Its
  // identity: its ONNX file, or (a family whose base is a checkpoint) its checkpoint folder.
  const baseCheckpoint = config.compare.baseHfPath ? run.backendModels.get(config.compare.baseHfPath) : undefined;
  const baseFile = run.baseModelFile ?? baseCheckpoint;
  const baseLabel = path.basename(config.compare.baseModelPath ?? config.compare.baseHfPath ?? '');
  const base = isSameRun(config) && baseFile ? build('base', { name: baseLabel, ...baseFile }) : undefined;
  const sameRunBase = base ? withJudgement(base, judge(config, base, { kind: 'none' }), null) : null;
  const against: Against = base
    ? { kind: 'same-run', base, label: baseLabel }
    : run.baseline
      ? { kind: 'stored', base: run.baseline.results, label: run.baseline.file }
      : { kind: 'none', baselineProblem: run.baselineProblem };
  return withJudgement(candidate, judge(config, candidate, against), sameRunBase);
}

/**
 * The run's end, read once judging is done (so judging is inside durationSeconds, as it is inside `phases`): the
 * finish time, the duration of both sides, and where the seconds went (the candidate's results only: one run).
 */
export function withDuration(results: Results, startedAt: Date, finishedAt: Date, phases: PhaseSeconds): Results {
  const timing = {
    finishedAt: finishedAt.toISOString(),
    durationSeconds: (finishedAt.getTime() - startedAt.getTime()) / 1000,
  };
  return {
    ...results,
    ...timing,
    phases,
    sameRunBase: results.sameRunBase ? { ...results.sameRunBase, ...timing } : null,
  };
}
