// Builds dist/: the Action (index.js), the CLI and the ONNX Runtime worker as minified ESM bundles with source maps
// and shared chunks (onnxruntime-node stays external: it carries a native library), report.html's charting library,
// and THIRD-PARTY-LICENSES.txt, the licences of everything bundled. Deterministic: the same source gives
// byte-identical files, which CI checks.
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { bundle, ENTRY_POINTS } from './bundle.mjs';
import { bundledPackageDirs, dependencyTreeDirs, LICENCE_FILE, thirdPartyLicences } from './licences.mjs';

rmSync('dist', { recursive: true, force: true });
const { metafile } = await bundle(ENTRY_POINTS, 'dist', { metafile: true });

// report.html's charting library (src/report/write-html.ts reads it): Vega and Vega-Lite's own minified browser
// builds, concatenated as they are (they expose the globals vega and vegaLite), so no node_modules is needed at run time.
const CHARTS = ['vega', 'vega-lite'];
const parts = CHARTS.map((name) => {
  const { version, license } = JSON.parse(readFileSync(`node_modules/${name}/package.json`, 'utf8'));
  const file = name === 'vega' ? 'build/vega.min.js' : 'build/vega-lite.min.js';
  return `/* ${name} ${version} (${license}); licences: ${LICENCE_FILE} */\n${readFileSync(`node_modules/${name}/${file}`, 'utf8')}`;
});
writeFileSync('dist/report-charts.js', parts.join('\n;\n') + '\n');

const dirs = [...bundledPackageDirs(metafile), ...dependencyTreeDirs(CHARTS, process.cwd())];
writeFileSync(`dist/${LICENCE_FILE}`, thirdPartyLicences(dirs));
