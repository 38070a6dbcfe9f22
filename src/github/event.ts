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

export interface EventInfo {
  readonly name: string;
  readonly repo: { readonly owner: string; readonly repo: string } | null;
  readonly pullRequest: PullRequestInfo | null;
  /** The commit the status goes on: the PR head, else GITHUB_SHA. */
  readonly sha: string | null;
  /** The branch a push went to (GITHUB_REF_NAME). */
  readonly refName: string | null;
}

const object = { error: 'expected an object' };
const repository = z
  .object({ full_name: z.string({ error: 'expected a repository name "owner/repo"' }) }, object)
  .loose();

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
  return {
    name: env.GITHUB_EVENT_NAME ?? '',
    repo: owner && repo ? { owner, repo } : null,
    pullRequest,
    sha: pullRequest?.headSha ?? env.GITHUB_SHA ?? null,
    refName: env.GITHUB_REF_NAME ?? null,
  };
}
