/**
 * The release steps that need no GitHub (scripts/release-check.mjs, which .github/workflows/release.yml runs before
 * it publishes): the tag names package.json's version, CHANGELOG.md has its section, dist/ is what the build makes.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { changelogEntry, distProblem, releaseProblems, tagProblem } from '../../scripts/release-check.mjs';
import { ROOT, tempDir } from '../helpers/fixture.js';
import { commitFiles } from '../helpers/git-repo.js';
import { runProcess } from '../helpers/run.js';

const CHANGELOG = '# Changelog\n\n## 1.2.0 — sequential stopping\n\n- new key `stopping`\n\n## 1.1.0\n\n- older\n';

/** A repository at one commit: package.json at `version`, CHANGELOG.md, and dist/index.js. */
function repository(version: string): string {
  const root = tempDir();
  mkdirSync(path.join(root, 'dist'));
  commitFiles(root, {
    'package.json': JSON.stringify({ name: 'x', version }),
    'CHANGELOG.md': CHANGELOG,
    'dist/index.js': 'built();\n',
  });
  return root;
}

describe('the tag', () => {
  it("vX.Y.Z naming package.json's version passes", () => {
    expect(tagProblem('v1.2.0', '1.2.0')).toBeUndefined();
  });

  it('another version fails, naming both and the fix', () => {
    expect(tagProblem('v1.3.0', '1.2.0')).toBe(
      'tag v1.3.0 does not match package.json\'s version 1.2.0: set "version": "1.3.0" in package.json, or tag v1.2.0',
    );
  });

  it.each(['v1', '1.2.0', 'v1.2', 'v1.2.0-rc.1', 'release-1.2.0'])('%s is not a release tag', (tag) => {
    expect(tagProblem(tag, '1.2.0')).toBe(`tag "${tag}" is not a release tag: expected vX.Y.Z (e.g. v1.2.3)`);
  });
});

describe('the CHANGELOG.md section', () => {
  it("is the text under the version's heading, up to the next release's", () => {
    expect(changelogEntry(CHANGELOG, '1.2.0')).toBe('- new key `stopping`');
    expect(changelogEntry(CHANGELOG, '1.1.0')).toBe('- older');
  });

  it('a version without a section, or with an empty one, has none (1.2 is not 1.2.0, 1.2.0 not 1.2.00)', () => {
    expect(changelogEntry(CHANGELOG, '1.3.0')).toBeUndefined();
    expect(changelogEntry('## 1.2.00\n\n- x\n', '1.2.0')).toBeUndefined();
    expect(changelogEntry('## 1.2.0\n\n## 1.1.0\n- x\n', '1.2.0')).toBeUndefined();
  });

  it("this repository's CHANGELOG.md has a section for package.json's version", () => {
    const { version } = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string };
    expect(changelogEntry(readFileSync(path.join(ROOT, 'CHANGELOG.md'), 'utf8'), version)).toBeDefined();
  });
});

describe('dist/ after a rebuild', () => {
  it('identical to the commit: no problem', () => {
    const root = repository('1.2.0');
    expect(distProblem(root, () => writeFileSync(path.join(root, 'dist/index.js'), 'built();\n'))).toBeUndefined();
  });

  it('a changed or a new file: named, with the fix', () => {
    const root = repository('1.2.0');
    const problem = distProblem(root, () => {
      writeFileSync(path.join(root, 'dist/index.js'), 'rebuilt();\n');
      writeFileSync(path.join(root, 'dist/chunk-A.js'), 'new();\n');
    });
    expect(problem).toBe(
      'dist/ differs from a fresh build (run npm run build and commit dist/):\nM dist/index.js\n?? dist/chunk-A.js',
    );
  });
});

describe('a release as the workflow checks it', () => {
  it('passes with the notes when tag, package.json, CHANGELOG.md and dist/ agree', () => {
    const root = repository('1.2.0');
    expect(releaseProblems('v1.2.0', root, () => undefined)).toEqual({
      problems: [],
      notes: '- new key `stopping`',
    });
  });

  it('lists every problem at once', () => {
    const root = repository('1.2.0');
    const { problems } = releaseProblems('v1.3.0', root, () =>
      writeFileSync(path.join(root, 'dist/index.js'), 'stale();\n'),
    );
    expect(problems).toHaveLength(3);
    expect(problems[1]).toBe('CHANGELOG.md has no section "## 1.3.0" with text: add what this release changes');
  });

  it('the script: exit 2 without a tag, 1 naming the mismatch, 0 writing the notes (dist/ left to CI here)', async () => {
    const script = path.join(ROOT, 'scripts/release-check.mjs');
    expect((await runProcess(process.execPath, [script])).status).toBe(2);
    const { version } = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string };
    const wrong = await runProcess(process.execPath, [script, 'v99.0.0', '--skip-build']);
    expect(wrong.status).toBe(1);
    expect(wrong.stderr).toContain(`tag v99.0.0 does not match package.json's version ${version}`);
    const notes = path.join(tempDir(), 'notes.md');
    const right = await runProcess(process.execPath, [script, `v${version}`, '--skip-build', '--notes', notes]);
    expect(right.status, right.stderr).toBe(0);
    expect(readFileSync(notes, 'utf8').trim()).toBe(
      changelogEntry(readFileSync(path.join(ROOT, 'CHANGELOG.md'), 'utf8'), version),
    );
  });
});
