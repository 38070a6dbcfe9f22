/** A real git repository for the tests of what reads git (the run's git state, bench records). */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';

/** Makes `root` a repository with one commit of `files` (name → text); returns the commit. */
export function commitFiles(root: string, files: Readonly<Record<string, string>>): string {
  // Identity given per command: the machine running the tests may have none configured.
  const git = (...args: string[]): string =>
    execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.invalid', ...args], {
      cwd: root,
      encoding: 'utf8',
    }).trim();
  git('init', '-q');
  for (const [name, text] of Object.entries(files)) writeFileSync(path.join(root, name), text);
  git('add', '.');
  git('commit', '-q', '-m', 'one');
  return git('rev-parse', 'HEAD');
}
