/**
 * What tr118 needs from the workflow event, read from the payload GitHub writes to GITHUB_EVENT_PATH. Pure: the
 * payload is validated here (only the fields used), so a malformed one is a clear error naming the file and key.
 */
import { z } from 'zod';
import { formatKeyPath, UsageError } from '../errors.js';

export interface PullRequestInfo {
  readonly number: number;
  readonly headSha: string;
  readonly baseRef: string;
  /** The PR's head is in another repository: its code is untrusted on a self-hosted runner. */
  readonly fromFork: boolean;
}

/**
 * Code from another repository that this job may run: a fork's pull request, or a workflow_run whose triggering run
 * was a fork's. What it may reach depends on the event (forkTrigger): pull_request gives it a read-only token and no
 * secrets; pull_request_target and workflow_run give the job this repository's secrets and a write token.
 */
export interface ForkCode {
  /** GITHUB_EVENT_NAME: pull_request (or a review of one), pull_request_target or workflow_run. */
  readonly event: string;
  /** The repository the code comes from ("owner/repo"); null when that fork was deleted or GitHub did not say. */
  readonly headRepository: string | null;
}

export interface EventInfo {
  readonly name: string;
  readonly repo: { readonly owner: string; readonly repo: string } | null;
  readonly pullRequest: PullRequestInfo | null;
  /** The commit the status goes on: the PR head, else GITHUB_SHA. */
  readonly sha: string | null;
  /** The branch a push went to (GITHUB_REF_NAME). */
  readonly refName: string | null;
  /** Set when the code this job may check out comes from a fork (see ForkCode); null for this repository's own. */
  readonly forkCode: ForkCode | null;
}

const object = { error: 'expected an object' };
const repository = z
  .object({ full_name: z.string({ error: 'expected a repository name "owner/repo"' }) }, object)
  .loose();

/** workflow_run.pull_requests name repositories by id only (GitHub's "Repo Ref"). */
const repositoryId = z.object({ id: z.int({ error: 'expected a repository id' }) }, object).loose();

/** The fields of a webhook payload tr118 reads; everything else GitHub sends is kept and ignored. */
export const eventPayloadSchema = z
  .object({
    /** pull_request and pull_request_target events (and reviews of them): always with a number and a head commit. */
    pull_request: z
      .object(
        {
          number: z.int({ error: 'expected a pull request number' }).min(1, { error: 'expected a number ≥ 1' }),
          head: z
            .object(
              {
                sha: z.string({ error: 'expected a commit sha' }).min(1, { error: 'expected a commit sha' }),
                // null when the fork the PR came from was deleted
                repo: repository.nullable().optional(),
              },
              object,
            )
            .loose(),
          base: z
            .object(
              { ref: z.string({ error: 'expected a branch name' }).optional(), repo: repository.optional() },
              object,
            )
            .loose()
            .optional(),
        },
        object,
      )
      .loose()
      .optional(),
    /**
     * workflow_run events: the run that triggered this workflow. Its head_repository is where the code it ran came
     * from (a fork's, for a fork's pull_request); pull_requests lists the PRs it ran for, by repository id (GitHub
     * leaves it empty for a fork's PR, so head_repository is what tells).
     */
    workflow_run: z
      .object(
        {
          head_repository: repository.nullable().optional(),
          pull_requests: z
            .array(
              z
                .object(
                  {
                    head: z.object({ repo: repositoryId }, object).loose(),
                    base: z.object({ repo: repositoryId }, object).loose(),
                  },
                  object,
                )
                .loose(),
              { error: 'expected a list of pull requests' },
            )
            .optional(),
        },
        object,
      )
      .loose()
      .optional(),
    repository: repository.optional(),
  })
  .loose();
export type EventPayload = z.infer<typeof eventPayloadSchema>;

/** Parses the payload file's text; `file` names it in errors. */
export function parseEventPayload(text: string, file: string): EventPayload {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`event payload ${file}: not valid JSON: ${(error as Error).message}`);
  }
  return checkEventPayload(data, file);
}

export function checkEventPayload(data: unknown, file: string): EventPayload {
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    throw new UsageError(`event payload ${file}: expected a JSON object (the webhook payload GitHub writes)`);
  }
  const parsed = eventPayloadSchema.safeParse(data, { reportInput: true });
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const got = issue && 'input' in issue ? `; got ${describeInput(issue.input)}` : '';
  throw new UsageError(
    `event payload ${file}: ${issue ? formatKeyPath(issue.path) : '(top level)'}: ${issue?.message ?? 'invalid'}${got}`,
  );
}

function describeInput(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  return Array.isArray(value) ? 'a list' : 'an object';
}

export function readEvent(env: NodeJS.ProcessEnv, payload: EventPayload): EventInfo {
  const [owner, repo] = (env.GITHUB_REPOSITORY ?? payload.repository?.full_name ?? '').split('/');
  const pr = payload.pull_request;
  const pullRequest: PullRequestInfo | null = pr
    ? {
        number: pr.number,
        headSha: pr.head.sha,
        baseRef: pr.base?.ref ?? '',
        fromFork: (pr.head.repo?.full_name ?? '') !== (pr.base?.repo?.full_name ?? payload.repository?.full_name ?? ''),
      }
    : null;
  const name = env.GITHUB_EVENT_NAME ?? '';
  return {
    name,
    repo: owner && repo ? { owner, repo } : null,
    pullRequest,
    sha: pullRequest?.headSha ?? env.GITHUB_SHA ?? null,
    refName: env.GITHUB_REF_NAME ?? null,
    forkCode: readForkCode(name, payload, pullRequest, env.GITHUB_REPOSITORY ?? payload.repository?.full_name ?? ''),
  };
}

function readForkCode(
  name: string,
  payload: EventPayload,
  pullRequest: PullRequestInfo | null,
  thisRepository: string,
): ForkCode | null {
  if (pullRequest?.fromFork) return { event: name, headRepository: payload.pull_request?.head.repo?.full_name ?? null };
  const run = payload.workflow_run;
  if (name !== 'workflow_run' && run === undefined) return null;
  // A workflow_run payload that does not say where its code came from is taken as a fork's: refusing a run that was
  // safe costs a rerun with allow-forks; running a fork's code with secrets cannot be undone.
  const head = run?.head_repository?.full_name ?? null;
  const forkPullRequest = (run?.pull_requests ?? []).some((pr) => pr.head.repo.id !== pr.base.repo.id);
  return head === null || head !== thisRepository || forkPullRequest ? { event: name, headRepository: head } : null;
}

/** What allow-forks names: the events that bring a fork's code, by what that code may reach. */
export const FORK_TRIGGERS = ['pull_request', 'pull_request_target', 'workflow_run'] as const;
export type ForkTrigger = (typeof FORK_TRIGGERS)[number];

/**
 * The allow-forks entry that covers an event: pull_request_target and workflow_run run with this repository's
 * secrets and a write token, so each must be named; every other event with a fork's pull request in it
 * (pull_request, pull_request_review, pull_request_review_comment) gets a read-only token and no secrets, as
 * pull_request does.
 */
export function forkTrigger(event: string): ForkTrigger {
  return event === 'pull_request_target' || event === 'workflow_run' ? event : 'pull_request';
}

/**
 * Why this job must not run, or null: code from a fork, on an event allow-forks does not name. The message names
 * the event, where the code came from, what it could reach, and the input value that allows it.
 */
export function forkRefusal(event: EventInfo, allowed: readonly ForkTrigger[]): string | null {
  const fork = event.forkCode;
  if (!fork) return null;
  const trigger = forkTrigger(fork.event);
  if (allowed.includes(trigger)) return null;
  const from = fork.headRepository ?? 'a deleted or unnamed fork';
  if (trigger === 'pull_request') {
    return (
      `tr118: this pull request comes from a fork (${from}); its code would run on this (self-hosted) runner with access to it. ` +
      'Refused. Set allow-forks: true only if the runner is disposable and holds no secrets.'
    );
  }
  const what =
    trigger === 'pull_request_target'
      ? `this pull_request_target run is for a pull request from a fork (${from})`
      : `this workflow_run run was triggered by a run on code from a fork (${from})`;
  return (
    `tr118: ${what}. The job holds this repository's secrets and a write token; ` +
    "if the workflow checked out the fork's code (or its artifacts), that code runs with them on this runner. " +
    `Refused. Set allow-forks: ${trigger} only if the workflow never runs the fork's code, or the runner is disposable and the job holds no secrets.`
  );
}
