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

/**
 * Minified ESM bundles of `entryPoints` in `outdir`, with linked source maps; onnxruntime-node stays external (a
 * native library). Code that several entries import is emitted once, as shared chunks beside them (`chunk-*.js`, in
 * the same folder, so `import.meta.url` means the same folder in every file), instead of one copy per entry.
 * `options` are passed to esbuild as they are (the licence test asks for `{ write: false, metafile: true }`).
 */
export function bundle(entryPoints, outdir, options = {}) {
  return build({
    entryPoints,
    outdir,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'esm',
    splitting: true,
    chunkNames: 'chunk-[hash]',
    minify: true,
    // Stack traces (TR118_DEBUG=1) name the source file and line: the entries turn Node's source-map support on.
    // The maps carry positions, not the sources themselves, to keep dist/ small.
    sourcemap: 'linked',
    sourcesContent: false,
    external: ['onnxruntime-node'],
    // CommonJS dependencies bundled into ESM still call require() for Node built-ins.
    banner: {
      js: "import { createRequire as __tr118CreateRequire } from 'node:module'; const require = __tr118CreateRequire(import.meta.url);",
    },
    // The bundled packages' licences are collected into dist/THIRD-PARTY-LICENSES.txt instead (scripts/licences.mjs):
    // most packages carry theirs in a LICENSE file, not in comments esbuild could keep.
    legalComments: 'none',
    logLevel: 'warning',
    ...options,
  });
}
