// `npm run lint` runs dependency-cruiser with this: no import circle anywhere in the TypeScript, type-only imports
// included (tsPreCompilationDeps), so that a name sits on the floor of its users (README "Development").
// The 17.x line: 18.x refuses to start on Node.js 20, which development machines here still run.
/** @type {import('dependency-cruiser').IConfiguration} */
export default {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment:
        'An import circle (type-only imports count too): move the shared name down to the lowest module that all of its users import, e.g. src/errors.ts, src/config/schema.ts or src/model/hash.ts.',
      from: {},
      to: { circular: true },
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
