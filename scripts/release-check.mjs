// The release steps that need no GitHub, run by .github/workflows/release.yml before it publishes anything, and by
// hand before tagging: the tag is vX.Y.Z and names package.json's version, CHANGELOG.md has a section for it (its
// text becomes the release notes), and dist/ is exactly what `npm run build` makes from the tagged source.
//   node scripts/release-check.mjs vX.Y.Z [--notes FILE] [--skip-build]
// Exit 0 when all hold (the notes written to FILE), 1 naming each that does not, 2 for a usage error.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');

/** What is wrong with `tag` for a release of `version` (package.json), or undefined. */
export function tagProblem(tag, version) {
  const match = /^v(\d+)\.(\d+)\.(\d+)$/.exec(tag);
  if (!match) return `tag "${tag}" is not a release tag: expected vX.Y.Z (e.g. v1.2.3)`;
  if (tag.slice(1) !== version)
    return `tag ${tag} does not match package.json's version ${version}: set "version": "${tag.slice(1)}" in package.json, or tag v${version}`;
  return undefined;
}

/** The text of CHANGELOG.md's `## X.Y.Z` section (heading excluded, trimmed), or undefined when there is none. */
export function changelogEntry(changelog, version) {
  const lines = changelog.split('\n');
  const heading = new RegExp(`^## \\[?${version.replaceAll('.', '\\.')}\\]?(\\s|$)`);
  const start = lines.findIndex((line) => heading.test(line));
  if (start < 0) return undefined;
  const end = lines.findIndex((line, i) => i > start && /^## /.test(line));
  const body = lines
    .slice(start + 1, end < 0 ? undefined : end)
    .join('\n')
    .trim();
  return body === '' ? undefined : body;
}

/**
 * Rebuilds dist/ with `build` and lists what differs from the commit (`git status --porcelain -- dist`): a release
 * ships the dist/ its source makes, or none.
 */
export function distProblem(root, build) {
  build();
  const changed = execFileSync('git', ['status', '--porcelain', '--', 'dist'], { cwd: root, encoding: 'utf8' }).trim();
  return changed === ''
    ? undefined
    : `dist/ differs from a fresh build (run npm run build and commit dist/):\n${changed}`;
}

/** Every problem with releasing `tag` from `root`; `build` rebuilds dist/ (undefined: dist/ is not checked). */
export function releaseProblems(tag, root, build) {
  const { version } = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
  const problems = [];
  const tagIssue = tagProblem(tag, version);
  if (tagIssue) problems.push(tagIssue);
  const notes = changelogEntry(readFileSync(path.join(root, 'CHANGELOG.md'), 'utf8'), tag.replace(/^v/, ''));
  if (notes === undefined)
    problems.push(`CHANGELOG.md has no section "## ${tag.replace(/^v/, '')}" with text: add what this release changes`);
  if (build) {
    const dist = distProblem(root, build);
    if (dist) problems.push(dist);
  }
  return { problems, notes };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const tag = args[0];
  const notesAt = args.indexOf('--notes');
  const notesFile = notesAt >= 0 ? args[notesAt + 1] : undefined;
  if (!tag || tag.startsWith('--') || (notesAt >= 0 && !notesFile)) {
    console.error('usage: node scripts/release-check.mjs vX.Y.Z [--notes FILE] [--skip-build]');
    process.exit(2);
  }
  const build = args.includes('--skip-build')
    ? undefined
    : () => execFileSync(process.execPath, ['scripts/build.mjs'], { cwd: ROOT, stdio: 'inherit' });
  const { problems, notes } = releaseProblems(tag, ROOT, build);
  for (const problem of problems) console.error(`release ${tag}: ${problem}`);
  if (problems.length > 0) process.exit(1);
  if (notesFile) writeFileSync(notesFile, `${notes}\n`);
  console.log(`release ${tag}: tag, package.json, CHANGELOG.md${build ? ' and dist/' : ''} agree`);
}
