import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { commitFiles } from '../helpers/git-repo.js';
import { commandRunner } from '../../src/env/command.js';
import { collectGitState, gitStateSchema } from '../../src/env/collect.js';
import { gitText } from '../../src/report/environment.js';

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tr118-git-state-'));
  dirs.push(dir);
  return dir;
}

/** A real repository with one commit of one tracked file. */
function repo(): { root: string; commit: string } {
  const root = tempDir();
  return { root, commit: commitFiles(root, { 'tracked.txt': 'one\n' }) };
}

describe('collectGitState', () => {
  it('a clean repository: its commit, dirty false', () => {
    const { root, commit } = repo();
    expect(collectGitState(root)).toEqual({ commit, dirty: false, note: null });
  });

  it('a changed tracked file: dirty true', () => {
    const { root, commit } = repo();
    writeFileSync(path.join(root, 'tracked.txt'), 'two\n');
    expect(collectGitState(root)).toEqual({ commit, dirty: true, note: null });
  });

  it('a folder that is no repository: commit and dirty unknown (null), with git’s reason, never clean', () => {
    const state = collectGitState(tempDir(), commandRunner({ ...process.env, GIT_CEILING_DIRECTORIES: os.tmpdir() }));
    expect(state.commit).toBeNull();
    expect(state.dirty).toBeNull();
    expect(state.note).toMatch(/^git failed \(exit status \d+\): fatal: not a git repository/);
    expect(gitText(state)).toMatch(/^unknown \(git failed \(exit status \d+\): fatal: not a git repository/);
  });

  it('a PATH without git: unknown (null), saying git is not installed', () => {
    const { root } = repo();
    const state = collectGitState(root, commandRunner({ PATH: tempDir() }));
    expect(state).toEqual({ commit: null, dirty: null, note: 'git not found on PATH' });
    expect(gitText(state)).toBe('unknown (git not found on PATH)');
  });

  it('git status failing after the commit was read: the commit kept, dirty unknown (was: false)', () => {
    const state = collectGitState('/repo', (_command, args) =>
      args[0] === 'rev-parse'
        ? { ok: true, stdout: `${'a'.repeat(40)}\n` }
        : { ok: false, missing: false, reason: 'git failed (exit status 128): fatal: index file corrupt' },
    );
    expect(state).toEqual({
      commit: 'a'.repeat(40),
      dirty: null,
      note: 'git failed (exit status 128): fatal: index file corrupt',
    });
    expect(gitText(state)).toBe(
      `${'a'.repeat(40)} (uncommitted changes unknown: git failed (exit status 128): fatal: index file corrupt)`,
    );
  });
});

describe('the git state in results.json', () => {
  it('reads a results.json made before the note existed (note: null)', () => {
    expect(gitStateSchema.parse({ commit: 'c', dirty: false })).toEqual({ commit: 'c', dirty: false, note: null });
  });

  it('the report says clean, changed and unknown apart', () => {
    expect(gitText({ commit: 'c', dirty: false, note: null })).toBe('c');
    expect(gitText({ commit: 'c', dirty: true, note: null })).toBe('c (with uncommitted changes)');
    expect(gitText({ commit: 'c', dirty: null, note: 'git timed out' })).toBe(
      'c (uncommitted changes unknown: git timed out)',
    );
    expect(gitText(null)).toBe('— (no git commit recorded)');
  });
});
