/**
 * GitHubApi against a scripted local server: the paginated marker search, Octokit's retry on 5xx and its throttling
 * on primary and secondary rate limits (the real plugins; only the back-off unit is shrunk to 10 ms), and failures
 * returned as values. Every request is checked against GitHub's published REST description.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GitHubApi } from '../../src/github/api.js';
import { checkRequest } from '../helpers/github-contract.js';
import { LocalServer } from '../helpers/local-server.js';

type Reply = { status: number; headers?: Record<string, string>; body?: unknown };
const MARKER = '<!-- marker -->';

class ScriptedGitHub extends LocalServer {
  /** Replies to send before the normal ones, per "METHOD template". */
  script = new Map<string, Reply[]>();
  log: string[] = [];
  comments = Array.from({ length: 150 }, (_, i) => ({
    id: i + 1,
    body: i === 119 ? `${MARKER}\nold` : `comment ${i + 1}`,
    html_url: `https://github.com/o/r/pull/7#issuecomment-${i + 1}`,
  }));
  protected async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let text = '';
    for await (const chunk of req) text += String(chunk);
    const body = text ? (JSON.parse(text) as Record<string, unknown>) : undefined;
    const url = new URL(req.url ?? '/', this.base);
    const template = checkRequest(req.method ?? 'GET', req.url ?? '/', body);
    const op = `${req.method} ${template}`;
    this.log.push(`${op}${url.search}`);
    const send = (r: Reply): void => {
      res.writeHead(r.status, { 'content-type': 'application/json', ...r.headers });
      res.end(JSON.stringify(r.body ?? {}));
    };
    const scripted = this.script.get(op)?.shift();
    if (scripted) return send(scripted);
    if (op === 'GET /repos/{owner}/{repo}/issues/{issue_number}/comments') {
      const page = Number(url.searchParams.get('page') ?? '1');
      const perPage = Number(url.searchParams.get('per_page') ?? '30');
      const last = Math.ceil(this.comments.length / perPage);
      const link = (p: number) => `<${this.base}${url.pathname}?per_page=${perPage}&page=${p}>`;
      const links = page < last ? [`${link(page + 1)}; rel="next"`, `${link(last)}; rel="last"`] : [];
      return send({
        status: 200,
        headers: links.length ? { link: links.join(', ') } : {},
        body: this.comments.slice((page - 1) * perPage, page * perPage),
      });
    }
    if (op === 'PATCH /repos/{owner}/{repo}/issues/comments/{comment_id}') {
      const comment = this.comments.find((c) => c.id === Number(url.pathname.split('/').pop()))!;
      comment.body = String(body?.body);
      return send({ status: 200, body: comment });
    }
    if (op === 'POST /repos/{owner}/{repo}/issues/{issue_number}/comments')
      return send({ status: 201, body: { id: 999, body: body?.body, html_url: 'https://github.com/o/r/pull/7#c999' } });
    if (op === 'POST /repos/{owner}/{repo}/statuses/{sha}') return send({ status: 201, body: { id: 1 } });
    return send({ status: 404, body: { message: 'Not Found' } });
  }
}

describe('GitHubApi: pagination, retries, rate limits', () => {
  const github = new ScriptedGitHub();
  let api: GitHubApi;
  const sha = 'a'.repeat(40);

  beforeAll(async () => {
    api = new GitHubApi('t0ken', { owner: 'o', repo: 'r' }, await github.start(), 2, 10);
  });
  afterAll(async () => {
    await github.stop();
  });

  it('finds the marker on the second page of comments and updates that comment (no duplicate)', async () => {
    github.log = [];
    const r = await api.upsertComment(7, MARKER, `${MARKER}\nnew`);
    expect(r).toEqual({ ok: true, value: { url: 'https://github.com/o/r/pull/7#issuecomment-120', updated: true } });
    expect(github.log).toEqual([
      'GET /repos/{owner}/{repo}/issues/{issue_number}/comments?per_page=100',
      'GET /repos/{owner}/{repo}/issues/{issue_number}/comments?per_page=100&page=2',
      'PATCH /repos/{owner}/{repo}/issues/comments/{comment_id}',
    ]);
    expect(github.comments[119]!.body).toBe(`${MARKER}\nnew`);
  });

  it('creates the comment when no page holds the marker', async () => {
    github.comments[119]!.body = 'edited away';
    github.log = [];
    const r = await api.upsertComment(7, MARKER, `${MARKER}\nnew`);
    expect(r).toMatchObject({ ok: true, value: { updated: false } });
    expect(github.log.at(-1)).toBe('POST /repos/{owner}/{repo}/issues/{issue_number}/comments');
  });

  it('retries a 502, then succeeds', async () => {
    github.log = [];
    github.script.set('POST /repos/{owner}/{repo}/statuses/{sha}', [{ status: 502, body: { message: 'Bad Gateway' } }]);
    expect(await api.setStatus(sha, 'success', 'pass', undefined)).toEqual({ ok: true, value: null });
    expect(github.log).toEqual([
      'POST /repos/{owner}/{repo}/statuses/{sha}',
      'POST /repos/{owner}/{repo}/statuses/{sha}',
    ]);
  });

  it('gives up after the retries on a lasting 500 and returns the error, not a throw', async () => {
    github.log = [];
    const down: Reply = { status: 500, body: { message: 'Server Error' } };
    github.script.set('POST /repos/{owner}/{repo}/statuses/{sha}', [down, down, down]);
    const r = await api.setStatus(sha, 'failure', 'fail', undefined);
    expect(r).toEqual({ ok: false, error: expect.stringContaining('Server Error') as string });
    expect(github.log).toHaveLength(3); // the first try and 2 retries
  });

  it('does not retry a 403 (a fork token): the caller falls back to the job summary', async () => {
    github.log = [];
    github.script.set('POST /repos/{owner}/{repo}/statuses/{sha}', [
      { status: 403, body: { message: 'Resource not accessible by integration' } },
    ]);
    const r = await api.setStatus(sha, 'success', 'pass', undefined);
    expect(r).toEqual({
      ok: false,
      error: expect.stringContaining('Resource not accessible by integration') as string,
    });
    expect(github.log).toHaveLength(1);
  });

  it('waits out a primary rate limit (x-ratelimit-remaining 0) and a secondary one (retry-after), then succeeds', async () => {
    github.log = [];
    const reset = String(Math.floor(Date.now() / 1000) + 1);
    github.script.set('POST /repos/{owner}/{repo}/statuses/{sha}', [
      {
        status: 403,
        headers: { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': reset },
        body: { message: 'API rate limit exceeded' },
      },
      {
        status: 403,
        headers: { 'retry-after': '1' },
        body: { message: 'You have exceeded a secondary rate limit. Please wait a few minutes before you try again.' },
      },
    ]);
    expect(await api.setStatus(sha, 'success', 'pass', undefined)).toEqual({ ok: true, value: null });
    expect(github.log).toHaveLength(3);
  });
});
