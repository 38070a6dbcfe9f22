// Builds dist/: the Action (index.js), the CLI and the ONNX Runtime worker as self-contained ESM bundles (onnxruntime-node stays
// external: it carries a native library). Deterministic: the same source gives byte-identical files, which CI checks.
import { build } from 'esbuild';
import { rmSync } from 'node:fs';

rmSync('dist', { recursive: true, force: true });
await build({
  entryPoints: {
    index: 'src/action/index.ts',
    cli: 'src/cli/index.ts',
    'ort-worker': 'src/backends/onnxruntime/worker.ts',
  },
  outdir: 'dist',
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
