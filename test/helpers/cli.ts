/** How tests start the CLI as its own process, the way a user's shell does. */
import path from 'node:path';
import { ROOT } from './fixture.js';
import { TEST_CLI_ENV } from './test-bundle.js';

/**
 * `node` arguments that run `tr118 ARGS` from the source under test: the run's bundle of it (test-bundle.ts), or the
 * source under tsx where no bundle was made (a test file run outside vitest's globalSetup).
 */
export function cliArgs(args: readonly string[]): string[] {
  const bundled = process.env[TEST_CLI_ENV];
  return bundled ? [bundled, ...args] : ['--import', 'tsx', path.join(ROOT, 'src/cli/index.ts'), ...args];
}
