/** How tests start the CLI: as its own process, the way a user's shell does, or in this process. */
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { main } from '../../src/cli/main.js';
import { ROOT } from './fixture.js';
import { runProcess, type Ran } from './run.js';
import { TEST_CLI_ENV } from './test-bundle.js';

/**
 * `node` arguments that run `tr118 ARGS` from the source under test: the run's bundle of it (test-bundle.ts), or the
 * source under tsx where no bundle was made (a test file run outside vitest's globalSetup).
 */
export function cliArgs(args: readonly string[]): string[] {
  const bundled = process.env[TEST_CLI_ENV];
  return bundled ? [bundled, ...args] : ['--import', 'tsx', path.join(ROOT, 'src/cli/index.ts'), ...args];
}

/**
 * `tr118 ARGS` from the source under tsx, as its own process in ROOT. For tests whose worker must come from this
 * checkout: the test bundle lies under node_modules, whose package root (and so its native/ worker) is another
 * checkout's where node_modules is a link to it, as in worktrees.
 */
export function runSourceCli(args: readonly string[], env: NodeJS.ProcessEnv): Promise<Ran> {
  return runProcess(process.execPath, ['--import', 'tsx', path.join(ROOT, 'src/cli/index.ts'), ...args], {
    cwd: ROOT,
    env,
  });
}

/** `tr118 ARGS` in this process (main() with captured streams), for commands that measure nothing. */
export async function runCliInProcess(
  args: string[],
  cwd: string,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = new PassThrough();
  const err = new PassThrough();
  let stdout = '';
  let stderr = '';
  out.on('data', (c: Buffer) => (stdout += c.toString()));
  err.on('data', (c: Buffer) => (stderr += c.toString()));
  const code = await main(args, {
    stdout: out as unknown as NodeJS.WriteStream,
    stderr: err as unknown as NodeJS.WriteStream,
    cwd,
  });
  return { code, stdout, stderr };
}
