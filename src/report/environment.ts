/** The machine lines that report.md and report.html share: the commit, and the GPUs around the matrix. Pure. */
import type { Environment, GitState } from '../env/collect.js';
import { gpuStateLines } from '../env/gpu-state.js';

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
