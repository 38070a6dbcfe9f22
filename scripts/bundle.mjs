// The esbuild settings of dist/ (scripts/build.mjs), shared with the test run's bundle of the CLI
// (test/helpers/test-bundle.ts): tests that start the CLI as a process run the same kind of bundle users run, made
// from the source under test, without paying tsx's on-the-fly compilation (~2.5 s) at every process start.
import { build } from 'esbuild';

/** The entry points: the Action, the CLI, and the ONNX Runtime worker the CLI starts from beside itself. */
export const ENTRY_POINTS = {
  index: 'src/action/index.ts',
  cli: 'src/cli/index.ts',
  'ort-worker': 'src/engines/onnxruntime/worker.ts',
};

/** Self-contained ESM bundles of `entryPoints` in `outdir`; onnxruntime-node stays external (a native library). */
export function bundle(entryPoints, outdir) {
  return build({
    entryPoints,
    outdir,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'esm',
    external: ['onnxruntime-node'],
    // CommonJS dependencies bundled into ESM still call require() for Node built-ins.
    banner: {
      js: "import { createRequire as __tr118CreateRequire } from 'node:module'; const require = __tr118CreateRequire(import.meta.url);",
    },
    legalComments: 'none',
    logLevel: 'warning',
  });
}
