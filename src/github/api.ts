/**
 * Everything tr118 asks of GitHub, behind one small class: the sticky comment (found by its marker through every
 * page of comments) and the commit status. Octokit carries retry and throttling; failures are returned, not
 * thrown, so the caller can fall back to the job summary without losing the verdict.
 */
import { getOctokit } from '@actions/github';
import { retry } from '@octokit/plugin-retry';
import { throttling } from '@octokit/plugin-throttling';
import { describeError } from '../errors.js';

export interface Repo {
  readonly owner: string;
  readonly repo: string;
}

/**
 * A best-effort call to GitHub: its value, or what went wrong in words (returned, not thrown, so a failed comment or
 * status falls back to the job summary). "Outcome" is what a backend call returned (backends/types.ts).
 */
export type Attempt<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: string };

type Client = ReturnType<typeof getOctokit>;

export const STATUS_CONTEXT = 'tr118';

export class GitHubApi {
  private readonly octokit: Client;

  /**
   * `retryAfterBaseMs` is how long one "second" of Octokit's back-off lasts: 1000 in use; tests shrink it so that
   * the real retry and throttling code runs without real waits.
   */
  constructor(
    token: string,
    private readonly repo: Repo,
    baseUrl: string | undefined,
    retries = 2,
    retryAfterBaseMs = 1000,
  ) {
    this.octokit = getOctokit(
      token,
      {
        ...(baseUrl ? { baseUrl } : {}),
        // Retries set here, not as request.retries: that option makes the plugin retry every error, 403 and 422
        // included (a fork's read-only token would be asked three times); here doNotRetry still applies.
        retry: { retries, retryAfterBaseValue: retryAfterBaseMs },
        throttle: {
          retryAfterBaseValue: retryAfterBaseMs,
          // Primary and secondary rate limits: wait and retry a couple of times, then give up (the caller warns).
          onRateLimit: (_after: number, _options: unknown, _octokit: unknown, count: number) => count < 2,
          onSecondaryRateLimit: (_after: number, _options: unknown, _octokit: unknown, count: number) => count < 2,
        },
      },
      retry,
      throttling,
    );
  }

  /** Creates the sticky comment, or updates it in place when one with the marker exists (never a duplicate). */
  async upsertComment(
    issueNumber: number,
    marker: string,
    body: string,
  ): Promise<Attempt<{ url: string; updated: boolean }>> {
    try {
      const comments = await this.octokit.paginate(this.octokit.rest.issues.listComments, {
        ...this.repo,
        issue_number: issueNumber,
        per_page: 100,
      });
      const existing = comments.find((c) => c.body?.includes(marker));
      if (existing) {
        const { data } = await this.octokit.rest.issues.updateComment({ ...this.repo, comment_id: existing.id, body });
        return { ok: true, value: { url: data.html_url, updated: true } };
      }
      const { data } = await this.octokit.rest.issues.createComment({ ...this.repo, issue_number: issueNumber, body });
      return { ok: true, value: { url: data.html_url, updated: false } };
    } catch (error) {
      return { ok: false, error: describeError(error) };
    }
  }

  /** The comment with the marker, if any (for comment: on-change). */
  async findComment(issueNumber: number, marker: string): Promise<Attempt<string | null>> {
    try {
      const comments = await this.octokit.paginate(this.octokit.rest.issues.listComments, {
        ...this.repo,
        issue_number: issueNumber,
        per_page: 100,
      });
      return { ok: true, value: comments.find((c) => c.body?.includes(marker))?.body ?? null };
    } catch (error) {
      return { ok: false, error: describeError(error) };
    }
  }

  /** The commit status `tr118` that branch protection can require. */
  async setStatus(
    sha: string,
    state: 'success' | 'failure' | 'error',
    description: string,
    targetUrl: string | undefined,
  ): Promise<Attempt<null>> {
    try {
      await this.octokit.rest.repos.createCommitStatus({
        ...this.repo,
        sha,
        state,
        context: STATUS_CONTEXT,
        // GitHub cuts descriptions at 140 characters.
        description: description.length > 140 ? `${description.slice(0, 137)}...` : description,
        ...(targetUrl ? { target_url: targetUrl } : {}),
      });
      return { ok: true, value: null };
    } catch (error) {
      return { ok: false, error: describeError(error) };
    }
  }
}
