/**
 * dist/ ships the licences of the code it bundles: every npm package esbuild puts into dist/*.js, and Vega, Vega-Lite
 * and their dependencies in dist/report-charts.js, each with its licence files whole (scripts/licences.mjs).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { bundle, ENTRY_POINTS } from '../../scripts/bundle.mjs';
import {
  bundledPackageDirs,
  dependencyTreeDirs,
  LICENCE_FILE,
  packageDirOf,
  thirdPartyLicences,
} from '../../scripts/licences.mjs';
import { ROOT, tempDir } from '../helpers/fixture.js';

interface Bundled {
  name: string;
  version: string;
  /** The first line of its licence file, when it has one. */
  firstLine: string | undefined;
}

function describePackage(dir: string): Bundled {
  const { name, version } = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as Bundled;
  const licence = ['LICENSE', 'LICENSE.md', 'LICENSE.txt', 'LICENCE', 'license', 'license.md']
    .map((file) => path.join(dir, file))
    .find((file) => {
      try {
        return readFileSync(file, 'utf8').trim() !== '';
      } catch {
        return false;
      }
    });
  const firstLine = licence ? readFileSync(licence, 'utf8').trim().split('\n')[0]?.trim() : undefined;
  return { name, version, firstLine };
}

let bundled: string[] = [];
let charts: string[] = [];
beforeAll(async () => {
  // The build dist/ gets, in memory: its metafile lists every input file, node_modules included.
  const { metafile } = await bundle(ENTRY_POINTS, path.join(tempDir(), 'dist'), { write: false, metafile: true });
  bundled = bundledPackageDirs(metafile, ROOT);
  charts = dependencyTreeDirs(['vega', 'vega-lite'], ROOT);
}, 120_000);

describe(`dist/${LICENCE_FILE}`, () => {
  it('the build bundles npm packages (the metafile was read), among them zod, yaml and commander', () => {
    const names = bundled.map((dir) => describePackage(dir).name);
    expect(names).toEqual(expect.arrayContaining(['zod', 'yaml', 'commander', '@actions/core']));
  });

  it("names every bundled package with its version, and holds its licence file's text", () => {
    const text = thirdPartyLicences([...bundled, ...charts]);
    const missing = [...bundled, ...charts]
      .map(describePackage)
      .filter(({ name, version, firstLine }) => {
        const named = text.includes(`\n${name} ${version} (`);
        return !named || (firstLine !== undefined && !text.includes(firstLine));
      })
      .map(({ name, version }) => `${name} ${version}`);
    expect(missing).toEqual([]);
  });

  it("holds vega's and vega-lite's BSD-3-Clause notices (their browser builds are in report-charts.js)", () => {
    const text = thirdPartyLicences(charts);
    expect(text).toMatch(/\nvega [\d.]+ \(BSD-3-Clause\)/);
    expect(text).toMatch(/\nvega-lite [\d.]+ \(BSD-3-Clause\)/);
    expect(text).toContain('Redistributions in binary form must reproduce the above copyright notice');
  });

  it('is the same text whatever order the packages come in', () => {
    const dirs = [...bundled, ...charts];
    expect(thirdPartyLicences([...dirs].reverse())).toBe(thirdPartyLicences(dirs));
  });

  it('a package with a "license" field and no licence file is listed with the field', () => {
    const dir = path.join(tempDir(), 'node_modules', 'field-only');
    mkdirSync(dir, { recursive: true });
    writeFileSync(
      path.join(dir, 'package.json'),
      JSON.stringify({ name: 'field-only', version: '1.0.0', license: 'MIT' }),
    );
    expect(thirdPartyLicences([dir])).toContain(
      'field-only 1.0.0 (MIT)\n\n(no licence file in the package; its package.json says "license": "MIT")',
    );
  });

  it('a package with neither a licence file nor a "license" field stops the build, naming it', () => {
    const dir = path.join(tempDir(), 'node_modules', 'no-terms');
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'no-terms', version: '2.0.0' }));
    expect(() => thirdPartyLicences([dir])).toThrow(
      `${dir}/package.json: no-terms 2.0.0 has no licence file and no "license" field: dist/ cannot bundle it`,
    );
  });

  it('finds the package folder of a bundled file, scoped and nested packages included', () => {
    expect(packageDirOf('node_modules/zod/v4/core/schemas.js')).toBe('node_modules/zod');
    expect(packageDirOf('../main/node_modules/@actions/core/lib/core.js')).toBe('../main/node_modules/@actions/core');
    expect(packageDirOf('node_modules/a/node_modules/@s/b/index.js')).toBe('node_modules/a/node_modules/@s/b');
    expect(packageDirOf('src/cli/main.ts')).toBeUndefined();
  });

  it('the committed dist/ file lists every bundled package (npm run build writes it)', () => {
    const committed = readFileSync(path.join(ROOT, 'dist', LICENCE_FILE), 'utf8');
    const missing = [...bundled, ...charts]
      .map(describePackage)
      .filter(({ name, version }) => !committed.includes(`\n${name} ${version} (`))
      .map(({ name, version }) => `${name} ${version}`);
    expect(missing, 'run npm run build and commit dist/').toEqual([]);
  });
});
