// Builds dist/: the Action (index.js), the CLI and the ONNX Runtime worker as self-contained ESM bundles (onnxruntime-node stays
// external: it carries a native library). Deterministic: the same source gives byte-identical files, which CI checks.
import { build } from 'esbuild';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';

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

// report.html's charting library (src/report/write-html.ts reads it): Vega and Vega-Lite's own minified browser
// builds, concatenated as they are (they expose the globals vega and vegaLite), so no node_modules is needed at run time.
const parts = ['vega', 'vega-lite'].map((name) => {
  const { version, license } = JSON.parse(readFileSync(`node_modules/${name}/package.json`, 'utf8'));
  const file = name === 'vega' ? 'build/vega.min.js' : 'build/vega-lite.min.js';
  return `/* ${name} ${version} (${license}) */\n${readFileSync(`node_modules/${name}/${file}`, 'utf8')}`;
});
writeFileSync('dist/report-charts.js', parts.join('\n;\n') + '\n');
