/**
 * What the README, package.json, `--help` and comments state about the project must be what the code and the
 * lockfile say: the Node.js minimum, the default matrix, the backends there are, the dependencies.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { buildProgram, DEFAULT_CONFIG } from '../../src/cli/main.js';
import { ROOT } from '../helpers/fixture.js';
import semver from 'semver';

// npm's own range semantics (the semver package npm itself uses).

const read = (file: string) => readFileSync(path.join(ROOT, file), 'utf8');
const PACKAGE = JSON.parse(read('package.json')) as {
  description: string;
  engines: { node: string };
  devEngines: { packageManager: { name: string; version: string; onFail: string } };
  allowScripts: Record<string, boolean>;
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};
const README = read('README.md');

interface LockedPackage {
  version?: string;
  dev?: boolean;
  optional?: boolean;
  engines?: { node?: string } | string[];
}
const LOCKED = Object.entries(
  (JSON.parse(read('package-lock.json')) as { packages: Record<string, LockedPackage> }).packages,
)
  .filter(([key]) => key !== '')
  .map(([key, p]) => ({
    name: key.replace(/^.*node_modules\//, ''),
    dev: p.dev === true,
    node: !Array.isArray(p.engines) ? p.engines?.node : undefined,
  }))
  .filter((p): p is { name: string; dev: boolean; node: string } => p.node !== undefined);

/** The lowest version of each alternative of a range: `^22.13.0 || >=24` → 22.13.0, 24.0.0. */
const lowestVersions = (range: string) =>
  range.split('||').map((part) => semver.minVersion(part)?.version ?? `no version in "${part}"`);

describe('the Node.js minimum (package.json engines)', () => {
  const ours = PACKAGE.engines.node;

  it('admits no Node.js that a locked runtime dependency refuses', () => {
    const refusing = LOCKED.filter((p) => !p.dev && !semver.subset(ours, p.node)).map((p) => `${p.name} ${p.node}`);
    expect(refusing).toEqual([]);
  });

  it('every lowest version it admits satisfies every locked package, dev tools included (npm ci installs them)', () => {
    for (const version of lowestVersions(ours)) {
      const refusing = LOCKED.filter((p) => !semver.satisfies(version, p.node)).map((p) => `${p.name} ${p.node}`);
      expect(refusing, `Node.js ${version}`).toEqual([]);
    }
  });

  it('is the one the README states, and the one CI runs everything on (.ci/run)', () => {
    const minimum = lowestVersions(ours)[0] ?? '';
    expect(README).toContain(`\`engines\`: \`${ours}\``);
    expect(README).toContain(`Node.js ${minimum.replace(/\.0$/, '')} or later`);
    expect(read('.ci/run')).toContain(`PATH="$(node_from_registry ${minimum}):$PATH"`);
  });
});

describe('npm (package.json devEngines and allowScripts)', () => {
  it('refuses an npm older than the first that reads allowScripts, as the README states', () => {
    expect(PACKAGE.devEngines.packageManager).toEqual({ name: 'npm', version: '>=11.16.0', onFail: 'error' });
    expect(README).toContain('npm ≥ 11.16');
  });

  it("never runs onnxruntime-node's install script (NuGet), for any version: a name-only denial", () => {
    expect(PACKAGE.allowScripts['onnxruntime-node']).toBe(false);
  });
});

describe('stale statements', () => {
  const defaults = parseYaml(read(DEFAULT_CONFIG)) as { repetitions: number; scenarios: Record<string, unknown> };

  it('the default matrix is described with its own scenario and repetition counts', () => {
    const statements = [read('README.md'), read('bench/default-matrix.ts')].flatMap((text) => [
      ...text.matchAll(/(\w+) CPU scenarios × (\d+) repetitions/g),
    ]);
    expect(statements.length).toBeGreaterThanOrEqual(2);
    const words = ['', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight'];
    for (const [statement, count, repetitions] of statements) {
      expect(words.indexOf(count ?? ''), statement).toBe(Object.keys(defaults.scenarios).length);
      expect(Number(repetitions), statement).toBe(defaults.repetitions);
    }
  });

  it('package.json and --help describe what this version has: ONNX Runtime and PyTorch, no native TensorRT engines', () => {
    const help = buildProgram(
      { stdout: process.stdout, stderr: process.stderr, cwd: ROOT },
      () => undefined,
    ).helpInformation();
    for (const text of [PACKAGE.description, help.replace(/\s+/g, ' ')]) {
      expect(text).toContain('ONNX Runtime');
      expect(text).toContain('PyTorch');
      expect(text).not.toMatch(/TensorRT (engines|worker)|native TensorRT/i);
    }
  });

  it('no comment in src/ describes the same-run pass pattern as A B B A (it is A B A B)', () => {
    const files = (readdirSync(path.join(ROOT, 'src'), { recursive: true }) as string[]).filter((f) =>
      f.endsWith('.ts'),
    );
    const stale = files.filter((f) => /A B B A/.test(read(path.join('src', f))));
    expect(stale).toEqual([]);
  });

  it("docs/development.md's dependency table names every dependency in package.json", () => {
    const table = read('docs/development.md').split('## Why each dependency')[1]?.split('\n## ')[0] ?? '';
    const missing = [...Object.keys(PACKAGE.dependencies), ...Object.keys(PACKAGE.devDependencies)].filter(
      (name) => !table.includes(`\`${name}\``),
    );
    expect(missing).toEqual([]);
  });
});
