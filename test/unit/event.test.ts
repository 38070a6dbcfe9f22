import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import {
  checkEventPayload,
  forkRefusal,
  parseEventPayload,
  readEvent,
  type ForkTrigger,
} from '../../src/github/event.js';
import { checkWebhookPayload } from '../helpers/github-contract.js';

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
      forkCode: null,
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
    expect(readEvent({}, {})).toEqual({
      name: '',
      repo: null,
      pullRequest: null,
      sha: null,
      refName: null,
      forkCode: null,
    });
  });

  it('the test payloads are shaped as GitHub documents its webhooks', () => {
    expect(() => checkWebhookPayload('pull-request-synchronize', pullRequest())).not.toThrow();
    expect(() => checkWebhookPayload('workflow-run-completed', workflowRun('someone/repo'))).not.toThrow();
    // The checker itself: a field GitHub does not send, and a wrong type, are caught.
    expect(() => checkWebhookPayload('workflow-run-completed', { workflow_run: { head_repo: {} } })).toThrow(
      'workflow-run-completed.workflow_run.head_repo is not a documented field',
    );
    expect(() => checkWebhookPayload('workflow-run-completed', { workflow_run: { pull_requests: {} } })).toThrow(
      /pull_requests: a object where GitHub sends array/,
    );
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
      name: 'a workflow_run pull request whose head repository has no id',
      text: JSON.stringify(
        workflowRun('org/repo', { pull_requests: [{ head: { repo: {} }, base: { repo: { id: 1 } } }] }),
      ),
      message: /: workflow_run\.pull_requests\[0\]\.head\.repo\.id: expected a repository id; got nothing$/,
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

/** A workflow_run event as GitHub sends it (workflow-run-completed), for the run of a workflow on `headRepository`'s code. */
function workflowRun(headRepository: string | null, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    action: 'completed',
    workflow_run: {
      event: 'pull_request',
      head_sha: 'abc123',
      head_branch: 'feature',
      head_repository: headRepository === null ? undefined : { full_name: headRepository },
      // GitHub leaves this empty for a fork's pull request: only PRs whose head is in this repository are listed.
      pull_requests: [],
      ...overrides,
    },
    repository: { full_name: 'org/repo', name: 'repo', owner: { login: 'org' } },
  };
}

const ENV_TARGET = { ...ENV, GITHUB_EVENT_NAME: 'pull_request_target' };
const ENV_RUN = { ...ENV, GITHUB_EVENT_NAME: 'workflow_run' };
const FORK_HEAD = { sha: 'abc123', ref: 'feature', repo: { full_name: 'someone/repo' } };

describe('code from forks: refused unless allow-forks names its event', () => {
  const refusal = (env: NodeJS.ProcessEnv, webhook: string, payload: unknown, allowed: ForkTrigger[]) =>
    forkRefusal(readEvent(env, checkEventPayload(checkWebhookPayload(webhook, payload), FILE)), allowed);

  it.each([
    {
      name: "pull_request_target for a fork's PR",
      env: ENV_TARGET,
      webhook: 'pull-request-synchronize',
      payload: pullRequest({ head: FORK_HEAD }),
      trigger: 'pull_request_target',
      message:
        /^tr118: this pull_request_target run is for a pull request from a fork \(someone\/repo\)\. The job holds this repository's secrets .* Refused\. Set allow-forks: pull_request_target only if /,
    },
    {
      name: 'pull_request_target for a PR whose fork was deleted (head.repo null)',
      env: ENV_TARGET,
      webhook: 'pull-request-labeled', // GitHub documents head.repo null on this one
      payload: { ...pullRequest({ head: { sha: 'abc123', ref: 'feature', repo: null } }), action: 'labeled' },
      trigger: 'pull_request_target',
      message: /pull_request_target run is for a pull request from a fork \(a deleted or unnamed fork\)/,
    },
    {
      name: "workflow_run after a fork's pull_request workflow (head_repository is the fork)",
      env: ENV_RUN,
      webhook: 'workflow-run-completed',
      payload: workflowRun('someone/repo'),
      trigger: 'workflow_run',
      message:
        /^tr118: this workflow_run run was triggered by a run on code from a fork \(someone\/repo\)\. .* Set allow-forks: workflow_run only if /,
    },
    {
      name: 'workflow_run listing a pull request whose head repository (by id) is not its base',
      env: ENV_RUN,
      webhook: 'workflow-run-completed',
      payload: workflowRun('org/repo', {
        pull_requests: [
          {
            id: 1,
            number: 7,
            url: 'https://api.github.com/repos/org/repo/pulls/7',
            head: {
              ref: 'feature',
              sha: 'abc123',
              repo: { id: 2, name: 'repo', url: 'https://api.github.com/repos/someone/repo' },
            },
            base: {
              ref: 'main',
              sha: 'def456',
              repo: { id: 1, name: 'repo', url: 'https://api.github.com/repos/org/repo' },
            },
          },
        ],
      }),
      trigger: 'workflow_run',
      message: /workflow_run run was triggered by a run on code from a fork \(org\/repo\)/,
    },
    {
      name: 'workflow_run that does not say where its code came from (no head_repository)',
      env: ENV_RUN,
      webhook: 'workflow-run-completed',
      payload: workflowRun(null),
      trigger: 'workflow_run',
      message: /workflow_run run was triggered by a run on code from a fork \(a deleted or unnamed fork\)/,
    },
    {
      name: "pull_request for a fork's PR (as before)",
      env: ENV,
      webhook: 'pull-request-synchronize',
      payload: pullRequest({ head: FORK_HEAD }),
      trigger: 'pull_request',
      message: /^tr118: this pull request comes from a fork \(someone\/repo\); .* Set allow-forks: true only if /,
    },
  ] as const)('$name: refused naming the event and the input; allowed once allow-forks names it', (c) => {
    expect(refusal(c.env, c.webhook, c.payload, [])).toMatch(c.message);
    // Allowing the other events does not allow this one: each event that hands a fork's code secrets is named.
    const others = (['pull_request', 'pull_request_target', 'workflow_run'] as const).filter((t) => t !== c.trigger);
    expect(refusal(c.env, c.webhook, c.payload, others)).toMatch(c.message);
    expect(refusal(c.env, c.webhook, c.payload, [c.trigger])).toBeNull();
  });

  it.each([
    {
      name: "pull_request_target for this repository's own branch",
      env: ENV_TARGET,
      webhook: 'pull-request-synchronize',
      payload: pullRequest(),
    },
    {
      name: 'workflow_run after a push to this repository',
      env: ENV_RUN,
      webhook: 'workflow-run-completed',
      payload: workflowRun('org/repo', { event: 'push' }),
    },
    {
      name: "workflow_run after this repository's own pull request",
      env: ENV_RUN,
      webhook: 'workflow-run-completed',
      payload: workflowRun('org/repo'),
    },
    {
      name: 'pull_request from a branch of this repository',
      env: ENV,
      webhook: 'pull-request-synchronize',
      payload: pullRequest(),
    },
  ])('$name: not a fork, runs with allow-forks false', ({ env, webhook, payload }) => {
    expect(refusal(env, webhook, payload, [])).toBeNull();
  });
});
