// The third-party licences dist/ owes: every npm package esbuild bundled into dist/*.js (read from esbuild's
// metafile), and Vega, Vega-Lite and their dependencies, whose own browser builds are copied into
// dist/report-charts.js. Each package's licence files (LICENSE, LICENCE, COPYING, NOTICE, …) are copied whole:
// BSD-3-Clause (vega, vega-lite) and MIT/ISC (most of the rest) ask for the notice in every redistribution.
// scripts/build.mjs writes the result to dist/THIRD-PARTY-LICENSES.txt; test/unit/licences.test.ts checks it.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

export const LICENCE_FILE = 'THIRD-PARTY-LICENSES.txt';

const LICENCE_NAME = /^(licen[cs]e|copying|notice)([-._].*)?$/i;

/** The package folder of a bundled input path (`…/node_modules/@scope/name/lib/x.js` → `…/node_modules/@scope/name`). */
export function packageDirOf(input) {
  const match = /^(.*node_modules\/(?:@[^/]+\/)?[^/]+)\//.exec(input.replaceAll('\\', '/'));
  return match?.[1];
}

/** The package folders whose code is in a build, from its metafile (paths relative to `cwd`). */
export function bundledPackageDirs(metafile, cwd = process.cwd()) {
  const dirs = new Set();
  for (const input of Object.keys(metafile.inputs)) {
    const dir = packageDirOf(input);
    if (dir) dirs.add(path.resolve(cwd, dir));
  }
  return [...dirs];
}

/** Where Node would find package `name` from folder `from`: the nearest node_modules/name above it. */
function resolvePackageDir(name, from) {
  for (let dir = from; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'node_modules', name);
    if (existsSync(path.join(candidate, 'package.json'))) return candidate;
    if (path.dirname(dir) === dir) return undefined;
  }
}

/** `names` (resolved from `from`) and their runtime dependencies, transitively: what a package's browser build holds. */
export function dependencyTreeDirs(names, from) {
  const seen = new Set();
  const visit = (name, parent) => {
    const dir = resolvePackageDir(name, parent);
    if (!dir || seen.has(dir)) return; // an optional dependency not installed here
    seen.add(dir);
    const { dependencies = {} } = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8'));
    for (const dependency of Object.keys(dependencies)) visit(dependency, dir);
  };
  for (const name of names) visit(name, from);
  return [...seen];
}

/**
 * Every package (name, version and SPDX expression, sorted, each once) with its licence files, whole; packages whose
 * licence texts are identical (hundreds of @stdlib packages share one Apache-2.0 text) are listed above one copy of
 * it. A package with neither a licence file nor a `license` field is an error naming it: dist/ cannot ship code whose
 * terms are unknown.
 */
export function thirdPartyLicences(dirs) {
  const byText = new Map();
  const seen = new Set();
  for (const dir of dirs) {
    const { name, version, license } = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8'));
    const key = `${name} ${version}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const files = readdirSync(dir)
      .filter((file) => LICENCE_NAME.test(file))
      .sort();
    const spdx = typeof license === 'string' ? license : license?.type;
    if (files.length === 0 && !spdx)
      throw new Error(`${dir}/package.json: ${key} has no licence file and no "license" field: dist/ cannot bundle it`);
    const text =
      files.length > 0
        ? files.map((file) => readFileSync(path.join(dir, file), 'utf8').trim()).join('\n\n')
        : `(no licence file in the package; its package.json says "license": "${spdx}")`;
    byText.set(text, [...(byText.get(text) ?? []), `${key} (${spdx ?? 'see the text'})`]);
  }
  const order = (a, b) => a.localeCompare(b, 'en');
  const groups = [...byText].map(([text, keys]) => ({ text, keys: keys.sort(order) }));
  groups.sort((a, b) => order(a.keys[0], b.keys[0]));
  return (
    'Third-party software bundled in tr118-action dist/, with its licence texts.\n' +
    `${seen.size} packages. Written by scripts/build.mjs (scripts/licences.mjs); do not edit.\n\n` +
    groups.map(({ text, keys }) => `${'='.repeat(100)}\n${keys.join('\n')}\n\n${text}\n`).join('\n')
  );
}
