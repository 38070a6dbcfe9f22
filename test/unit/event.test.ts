import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { checkEventPayload, parseEventPayload, readEvent } from '../../src/github/event.js';

const FILE = '/runner/_temp/_github_workflow/event.json';

function pullRequest(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    action: 'synchronize',
    pull_request: {
      number: 7,
      head: { sha: 'abc123', ref: 'feature', repo: { full_name: 'org/repo' } },
      base: { ref: 'main', repo: { full_name: 'org/repo' } },
      ...overrides,
    },
    repository: { full_name: 'org/repo', name: 'repo', owner: { login: 'org' } },
  };
}

const ENV = { GITHUB_REPOSITORY: 'org/repo', GITHUB_EVENT_NAME: 'pull_request', GITHUB_SHA: 'merge1' };

describe('the event payload', () => {
  it('a pull request: number, head commit, base branch, same repository', () => {
    expect(readEvent(ENV, checkEventPayload(pullRequest(), FILE))).toEqual({
      name: 'pull_request',
      repo: { owner: 'org', repo: 'repo' },
      pullRequest: { number: 7, headSha: 'abc123', baseRef: 'main', fromFork: false },
      sha: 'abc123',
      refName: null,
    });
  });

  it('a pull request from a fork, and one whose fork was deleted (head.repo null), are from forks', () => {
    const fork = pullRequest({ head: { sha: 'abc123', repo: { full_name: 'someone/repo' } } });
    expect(readEvent(ENV, checkEventPayload(fork, FILE)).pullRequest?.fromFork).toBe(true);
    const deleted = pullRequest({ head: { sha: 'abc123', repo: null } });
    expect(readEvent(ENV, checkEventPayload(deleted, FILE)).pullRequest?.fromFork).toBe(true);
  });

  it('a push (no pull_request) and no payload at all: no pull request, the commit from GITHUB_SHA', () => {
    const push = checkEventPayload({ ref: 'refs/heads/main', repository: { full_name: 'org/repo' } }, FILE);
    expect(readEvent({ ...ENV, GITHUB_REF_NAME: 'main' }, push)).toMatchObject({
      pullRequest: null,
      sha: 'merge1',
      refName: 'main',
    });
    expect(readEvent({}, {})).toEqual({ name: '', repo: null, pullRequest: null, sha: null, refName: null });
  });

  it.each([
    { name: 'not JSON', text: '{"pull_request": {', message: /^event payload \S+: not valid JSON: / },
    { name: 'a list', text: '[1]', message: /: expected a JSON object \(the webhook payload GitHub writes\)$/ },
    { name: 'null', text: 'null', message: /: expected a JSON object/ },
    {
      name: 'a pull request number as a string',
      text: JSON.stringify(pullRequest({ number: '7' })),
      message: /: pull_request\.number: expected a pull request number; got "7"$/,
    },
    {
      name: 'a pull request number of 0',
      text: JSON.stringify(pullRequest({ number: 0 })),
      message: /: pull_request\.number: expected a number ≥ 1; got 0$/,
    },
    {
      name: 'a pull request without a head commit',
      text: JSON.stringify(pullRequest({ head: { repo: { full_name: 'org/repo' } } })),
      message: /: pull_request\.head\.sha: expected a commit sha; got nothing$/,
    },
    {
      name: 'a pull request without its head',
      text: JSON.stringify(pullRequest({ head: undefined })),
      message: /: pull_request\.head: expected an object; got nothing$/,
    },
    {
      name: 'a base branch that is not a string',
      text: JSON.stringify(pullRequest({ base: { ref: 3, repo: { full_name: 'org/repo' } } })),
      message: /: pull_request\.base\.ref: expected a branch name; got 3$/,
    },
    {
      name: 'a repository without its name',
      text: JSON.stringify({ ...pullRequest(), repository: { name: 'repo' } }),
      message: /: repository\.full_name: expected a repository name "owner\/repo"; got nothing$/,
    },
    {
      name: 'pull_request as a string',
      text: JSON.stringify({ pull_request: 'https://github.com/org/repo/pull/7' }),
      message: /: pull_request: expected an object; got "https:\/\/github\.com\/org\/repo\/pull\/7"$/,
    },
  ])('malformed: $name is a usage error naming the file and the key', ({ text, message }) => {
    let error: unknown;
    try {
      parseEventPayload(text, FILE);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(UsageError);
    expect((error as Error).message.startsWith(`event payload ${FILE}: `)).toBe(true);
    expect((error as Error).message).toMatch(message);
  });
});
