/**
 * vitest globalSetup: bundles the CLI (and the ONNX Runtime worker it starts from beside itself) from the source under
 * test, once per test run, for the tests that start `tr118` as a process (test/helpers/cli.ts). Under tsx every such
 * start compiled the CLI's ~200 modules again (~2.5 s of CPU on the 2-core VM, against ~0.5 s for a bundle), and
 * cli.test.ts alone starts it dozens of times. The bundle lies below the repository, so the bundled code finds the
 * package's files (fixtures/, dist/report-charts.js) as dist/cli.js does; it is removed when the run ends.
 */
import { chmodSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import path from 'node:path';
import { bundle, ENTRY_POINTS } from '../../scripts/bundle.mjs';
import { ROOT } from './fixture.js';

export const TEST_CLI_ENV = 'TR118_TEST_CLI';

export default async function setup(): Promise<() => void> {
  const parent = path.join(ROOT, 'node_modules/.cache/tr118-test-bundle');
  mkdirSync(parent, { recursive: true });
  const dir = mkdtempSync(path.join(parent, 'run-'));
  // Readable by all, as dist/ is: some tests run the CLI as another user (nobody).
  chmodSync(dir, 0o755);
  await bundle({ cli: ENTRY_POINTS.cli, 'ort-worker': ENTRY_POINTS['ort-worker'] }, dir);
  process.env[TEST_CLI_ENV] = path.join(dir, 'cli.js');
  return () => rmSync(dir, { recursive: true, force: true });
}
