/** What tr118 needs from the workflow event, read from the payload GitHub writes to GITHUB_EVENT_PATH. Pure. */

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

interface Payload {
  pull_request?: {
    number?: number;
    head?: { sha?: string; repo?: { full_name?: string } | null };
    base?: { ref?: string; repo?: { full_name?: string } };
  };
  repository?: { full_name?: string; name?: string; owner?: { login?: string } };
}

export function readEvent(env: NodeJS.ProcessEnv, payload: unknown): EventInfo {
  const p = (payload ?? {}) as Payload;
  const [owner, repo] = (env.GITHUB_REPOSITORY ?? p.repository?.full_name ?? '').split('/');
  const pr = p.pull_request;
  const pullRequest: PullRequestInfo | null =
    pr?.number !== undefined && pr.head?.sha
      ? {
          number: pr.number,
          headSha: pr.head.sha,
          baseRef: pr.base?.ref ?? '',
          fromFork: (pr.head.repo?.full_name ?? '') !== (pr.base?.repo?.full_name ?? p.repository?.full_name ?? ''),
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
