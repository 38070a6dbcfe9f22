/**
 * The machine lines that report.md and report.html share: the commit, the GPUs around the matrix, and where the run's
 * seconds went. Pure.
 */
import type { Environment, GitState } from '../env/collect.js';
import { gpuStateLines } from '../env/gpu-state.js';
import { num } from '../format.js';
import { PHASES, type Phase, type PhaseSeconds } from '../measure/phases.js';

/** The GPUs' clocks, heat, power and throttle reasons before → after the matrix; none on a CPU machine. */
export function gpuClockLines(env: Environment): string[] {
  return env.gpuState ? gpuStateLines(env.gpuState) : [];
}

/** The measured commit and whether uncommitted changes ran too; unknown says so, with git's reason. */
export function gitText(git: GitState | null): string {
  // null: results made before the git state carried its reason (no repository, or no git).
  if (!git) return '— (no git commit recorded)';
  const why = git.note ? `: ${git.note}` : '';
  if (git.commit === null) return `unknown${why ? ` (${git.note})` : ''}`;
  if (git.dirty === true) return `${git.commit} (with uncommitted changes)`;
  if (git.dirty === false) return git.commit;
  return `${git.commit} (uncommitted changes unknown${why})`;
}

const PHASE_WORDS: Readonly<Record<Phase, string>> = {
  inputs: 'inputs',
  export: 'export',
  engineBuild: 'engine build',
  workerStart: 'worker start',
  sessionOpen: 'session open',
  compile: 'compile',
  warmUp: 'warm-up and requests',
  timedPasses: 'timed passes',
  endToEndPasses: 'end-to-end passes',
  perplexity: 'perplexity',
  parity: 'parity',
  environment: 'environment',
  judging: 'judging',
  writing: 'writing',
  other: 'other',
};

/**
 * results.json `phases` in one line, largest first, with the wall time over the timed passes (what the gate costs
 * per second it measures). Phases under 1% of the run are left out, the timed passes never. null for results made
 * before phases were recorded.
 */
export function phasesLine(phases: PhaseSeconds | undefined): string | null {
  if (!phases) return null;
  const totalSeconds = PHASES.reduce((sum, p) => sum + phases[p], 0);
  const shown = PHASES.filter((p) => p === 'timedPasses' || phases[p] >= 0.01 * totalSeconds);
  const parts = shown.sort((a, b) => phases[b] - phases[a]).map((p) => `${PHASE_WORDS[p]} ${num(phases[p], 2)} s`);
  const ratio = phases.timedPasses > 0 ? `; wall ${num(totalSeconds / phases.timedPasses, 2)}× the timed passes` : '';
  return `${parts.join(', ')}${ratio}`;
}
