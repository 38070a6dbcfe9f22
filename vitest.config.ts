import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Integration tests start ONNX Runtime worker processes; a 2-core CI machine runs two files at a time.
    maxWorkers: 2,
    // One temporary folder for the whole run, removed at its end (test/helpers/temp-root.ts); then one bundle of the
    // CLI for the tests that start it as a process (test/helpers/test-bundle.ts).
    globalSetup: ['test/helpers/temp-root.ts', 'test/helpers/test-bundle.ts'],
    // A hang guard, not a speed check: no test fails for being slow on a loaded machine (scripts/test-under-load.sh).
    // Child processes a test starts are killed as hung sooner (HANG_GUARD_MS, test/helpers/run.ts), so a hang ends
    // with that process's own output rather than vitest's bare timeout.
    testTimeout: 900_000,
    hookTimeout: 900_000,
    // CI asks for a JSON report too, to print one plain "N passed, N failed" line at the end.
    reporters: process.env.TR118_TEST_REPORT ? ['default', 'json'] : ['default'],
    ...(process.env.TR118_TEST_REPORT ? { outputFile: { json: process.env.TR118_TEST_REPORT } } : {}),
  },
});
