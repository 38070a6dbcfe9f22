// `npm run lint` runs dependency-cruiser with this: the layers of src/ (README "Development"), lowest first, where a
// module imports only from its own layer and the ones below it; engine families that never import each other (the
// registry alone knows them all); the Actions toolkit at the edge only; and no import circle anywhere in the
// TypeScript, type-only imports included (tsPreCompilationDeps), so that a name sits on the floor of its users.
// Paths match `src/` anywhere in a path, so test/unit/import-circles.test.ts can show a break in a scratch tree.
// The 17.x line: 18.x refuses to start on Node.js 20, which development machines here still run.

/** The layers, lowest first: [name, path pattern, what sits there]. */
const LAYERS = [
  [
    'floor',
    '(^|/)src/(errors|clock|paths|deep-readonly|format|out-dir|hash|lock|node-version)\\.ts$|(^|/)src/engines/spec\\.ts$',
    'names every layer uses',
  ],
  ['core', '(^|/)src/(stats|accuracy|cache)/', 'statistics, perplexity and parity, the artifact store'],
  ['transport', '(^|/)src/backends/', 'the worker protocol, its processes and the Backend interface'],
  ['engines', '(^|/)src/engines/', 'the engine families and their registry'],
  ['config', '(^|/)src/config/', 'the config schema and its resolution'],
  ['model', '(^|/)src/(model|env)/', 'model files, checkpoints, exports; the machine'],
  ['measure', '(^|/)src/measure/', 'the matrix run and its raw records'],
  ['gate', '(^|/)src/gate/', 'comparison, accuracy gate, verdict'],
  ['results', '(^|/)src/results/', 'results.json, baselines, merges'],
  ['report', '(^|/)src/report/', 'report.md, report.html, CSV, manifest'],
  ['pipeline', '(^|/)src/pipeline/', 'one run, from config to files, in phases'],
  ['github', '(^|/)src/github/', 'inputs, event, comment, REST'],
  ['entry', '(^|/)src/(cli|action)/', 'the thin entry points'],
];

/** @type {import('dependency-cruiser').IConfiguration} */
export default {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment:
        'An import circle (type-only imports count too): move the shared name down to the lowest module that all of its users import, e.g. src/errors.ts, src/engines/spec.ts or src/hash.ts.',
      from: {},
      to: { circular: true },
    },
    ...LAYERS.slice(0, -1).map(([name, path, what], i) => ({
      name: `layer-${name}`,
      severity: 'error',
      comment: `The ${name} layer (${what}) imports only from itself and the layers below it: move the name it needs down, or hand it in from above.`,
      from: { path },
      to: {
        path: LAYERS.slice(i + 1)
          .map(([, above]) => `(${above})`)
          .join('|'),
        // A file may match a higher folder's pattern and still sit lower (src/engines/spec.ts is on the floor).
        pathNot: LAYERS.slice(0, i + 1)
          .map(([, below]) => `(${below})`)
          .join('|'),
      },
    })),
    {
      name: 'engine-families-apart',
      severity: 'error',
      comment:
        'An engine family imports no other family: what families share lives in src/engines/ (spec.ts, family.ts), and only the registry names them all.',
      from: { path: '(^|/)src/engines/([^/]+)/' },
      to: { path: '(^|/)src/engines/[^/]+/', pathNot: '(^|/)src/engines/$2/' },
    },
    {
      name: 'actions-toolkit-at-the-edge',
      severity: 'error',
      comment:
        'Only src/action and src/github import @actions/*: the CLI bundle must not carry the Actions toolkit; hand an Actions-backed store in from src/action instead.',
      from: { path: '(^|/)src/', pathNot: '(^|/)src/(action|github)/' },
      to: { path: '(^|/)node_modules/@actions/|^@actions/' },
    },
  ],
  options: {
    // Type-only imports (`import type`, erased by TypeScript) are dependencies of the source as written.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(dist|node_modules|native|fixtures)/' },
  },
};
