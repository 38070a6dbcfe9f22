/**
 * The built Action (dist/index.js) run exactly as a runner runs it: from a checkout of the repository without
 * node_modules (ONNX Runtime is provisioned from a local npm registry serving the genuine pinned tarballs, then
 * taken from the tool cache), INPUT_* variables, a real pull_request payload at GITHUB_EVENT_PATH,
 * GITHUB_STEP_SUMMARY and GITHUB_OUTPUT files, and GITHUB_API_URL pointing at a local server that checks every
 * request against GitHub's published REST description.
 */
import { execFileSync, spawn } from 'node:child_process';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HANG_GUARD_MS } from '../helpers/run.js';
import { FIXTURE_MODEL, FIXTURE_TOKENS, freshCheckout, tempDir, writeConfig } from '../helpers/fixture.js';
import { checkRequest } from '../helpers/github-contract.js';
import { FakeActionsCache } from '../helpers/actions-cache.js';
import { LocalServer } from '../helpers/local-server.js';
import { FakeNpmRegistry } from '../helpers/npm-registry.js';

interface Recorded {
  method: string;
  url: string;
  template: string;
  body: Record<string, unknown> | undefined;
}

/** A fake api.github.com for one repository o/r: comments and statuses, with switchable failures. */
class FakeGitHub extends LocalServer {
  requests: Recorded[] = [];
  comments: { id: number; body: string; html_url: string }[] = [];
  failComments: number | null = null;
  protected async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let text = '';
    for await (const chunk of req) text += String(chunk);
    const body = text ? (JSON.parse(text) as Record<string, unknown>) : undefined;
    const method = req.method ?? 'GET';
    const url = req.url ?? '/';
    const send = (status: number, data: unknown): void => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(data));
    };
    let template: string;
    try {
      template = checkRequest(method, url, body);
    } catch (error) {
      this.requests.push({ method, url, template: `INVALID: ${(error as Error).message}`, body });
      return send(422, { message: (error as Error).message });
    }
    this.requests.push({ method, url, template, body });
    if (template.includes('/comments') && this.failComments !== null && method !== 'GET') {
      return send(this.failComments, { message: 'Resource not accessible by integration' });
    }
    if (method === 'GET' && template === '/repos/{owner}/{repo}/issues/{issue_number}/comments')
      return send(200, this.comments);
    if (method === 'POST' && template === '/repos/{owner}/{repo}/issues/{issue_number}/comments') {
      const comment = {
        id: this.comments.length + 1,
        body: String(body?.body),
        html_url: `https://github.com/o/r/pull/7#issuecomment-${this.comments.length + 1}`,
      };
      this.comments.push(comment);
      return send(201, comment);
    }
    if (method === 'PATCH' && template === '/repos/{owner}/{repo}/issues/comments/{comment_id}') {
      const id = Number(url.split('/').pop());
      const comment = this.comments.find((c) => c.id === id);
      if (!comment) return send(404, { message: 'Not Found' });
      comment.body = String(body?.body);
      return send(200, comment);
    }
    if (method === 'POST' && template === '/repos/{owner}/{repo}/statuses/{sha}')
      return send(201, { id: 1, state: body?.state });
    return send(404, { message: 'Not Found' });
  }
}

const SMALL = `backends: [onnxruntime-cpu]\nscenarios:\n  single_micro: { batch: 1, seq_len: 8 }\nrepetitions: 2\niterations: 4\nwarmup: 1\naccuracy: { max_tokens: 300, window: 128, stride: 64 }\n`;

function payload(fork = false) {
  return {
    action: 'synchronize',
    number: 7,
    pull_request: {
      number: 7,
      head: { sha: 'a'.repeat(40), ref: 'feature', repo: { full_name: fork ? 'someone/r' : 'o/r' } },
      base: { ref: 'main', repo: { full_name: 'o/r' } },
    },
    repository: { full_name: 'o/r', name: 'r', owner: { login: 'o' } },
  };
}

/** action.yml says node24: CI sets TR118_ACTION_NODE to a Node 24 binary (.ci/run); elsewhere this Node runs it. */
const ACTION_NODE = process.env.TR118_ACTION_NODE ?? process.execPath;

interface Runner {
  api: string;
  registry: string;
  checkout: string;
  toolCache: string;
}

interface RunOptions {
  /** The PR comes from a fork. */
  fork?: boolean;
  /** A push to main instead of a pull_request. */
  push?: boolean;
  env?: NodeJS.ProcessEnv;
}

async function runAction(runner: Runner, dir: string, inputs: Record<string, string>, options: RunOptions = {}) {
  const event = path.join(dir, `event-${Date.now()}.json`);
  const push = { ref: 'refs/heads/main', after: 'c'.repeat(40), repository: payload().repository };
  writeFileSync(event, JSON.stringify(options.push ? push : payload(options.fork)));
  const summary = path.join(dir, `summary-${Date.now()}.md`);
  const output = path.join(dir, `output-${Date.now()}.txt`);
  writeFileSync(summary, '');
  writeFileSync(output, '');
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    GITHUB_ACTIONS: 'true',
    GITHUB_EVENT_NAME: options.push ? 'push' : 'pull_request',
    GITHUB_EVENT_PATH: event,
    GITHUB_REPOSITORY: 'o/r',
    GITHUB_SHA: 'b'.repeat(40),
    GITHUB_REF_NAME: options.push ? 'main' : '7/merge',
    GITHUB_API_URL: runner.api,
    RUNNER_TOOL_CACHE: runner.toolCache,
    RUNNER_TEMP: dir,
    TR118_NPM_REGISTRY: runner.registry,
    GITHUB_SERVER_URL: 'https://github.com',
    GITHUB_RUN_ID: '42',
    GITHUB_STEP_SUMMARY: summary,
    GITHUB_OUTPUT: output,
    TR118_BASELINE_DIR: path.join(dir, 'store'),
  };
  Object.assign(env, options.env);
  for (const [name, value] of Object.entries(inputs)) env[`INPUT_${name.toUpperCase()}`] = value;
  const child = spawn(ACTION_NODE, [path.join(runner.checkout, 'dist/index.js')], { env, cwd: dir });
  let stdout = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stdout += c.toString()));
  // A run that does not end by itself is killed (its code is then null): a hang, not a slow run.
  const killer = setTimeout(() => child.kill('SIGKILL'), HANG_GUARD_MS);
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  clearTimeout(killer);
  const outputs: Record<string, string> = {};
  for (const m of readFileSync(output, 'utf8').matchAll(/^(\S+)<<(\S+)\n([\s\S]*?)\n\2$/gm))
    outputs[m[1] ?? ''] = m[3] ?? '';
  return { code, stdout, summary: readFileSync(summary, 'utf8'), outputs };
}

describe('the built Action on a runner, against contract-checked GitHub REST, npm registry and Actions cache', () => {
  const github = new FakeGitHub();
  const registry = new FakeNpmRegistry();
  const actionsCache = new FakeActionsCache();
  let cacheUrl = '';
  const dir = tempDir();
  const runner: Runner = {
    api: '',
    registry: '',
    checkout: freshCheckout(dir),
    toolCache: path.join(dir, 'toolcache'),
  };

  beforeAll(async () => {
    runner.api = await github.start();
    runner.registry = await registry.start();
    cacheUrl = await actionsCache.start();
  });
  afterAll(async () => {
    await github.stop();
    await registry.stop();
    await actionsCache.stop();
  });

  it(`runs on the Node.js that runs it (${ACTION_NODE})`, () => {
    const version = execFileSync(ACTION_NODE, ['--version'], { encoding: 'utf8' }).trim();
    if (process.env.TR118_ACTION_NODE) expect(version).toMatch(/^v24\./);
    else expect(version).toBe(process.version);
  });

  it('provisions ONNX Runtime once from the registry (integrity-checked), then from the tool cache', async () => {
    const config = writeConfig(dir, SMALL);
    const first = await runAction(runner, dir, { config, comment: 'never' });
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/onnxruntime-node: .*toolcache.*node_modules\/onnxruntime-node \(downloaded\)/);
    expect(registry.requests).toEqual([
      '/onnxruntime-node/-/onnxruntime-node-1.30.0.tgz',
      '/onnxruntime-common/-/onnxruntime-common-1.30.0.tgz',
    ]);
    // …and a runner without job summaries (older GHES) gets a warning, not an error
    const second = await runAction(runner, dir, { config, comment: 'never' }, { env: { GITHUB_STEP_SUMMARY: '' } });
    expect(second.code).toBe(0);
    expect(second.stdout).toMatch(/onnxruntime-node: .* \(tool-cache\)/);
    expect(second.stdout).toMatch(/::warning::tr118: no job summary on this runner .*report\.md/);
    expect(second.outputs.verdict).toBe('pass');
    expect(registry.requests).toHaveLength(2);
  });

  it('refuses a tarball whose bytes do not match package-lock.json, naming both hashes', async () => {
    registry.corrupt = true;
    const r = await runAction({ ...runner, toolCache: path.join(dir, 'toolcache-2') }, dir, {
      config: writeConfig(dir, SMALL),
    });
    registry.corrupt = false;
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(
      /::error::tr118: http:\/\/127\.0\.0\.1:\d+\/onnxruntime-node\/-\/onnxruntime-node-1\.30\.0\.tgz: integrity mismatch \(package-lock\.json pins sha512-\S+, got sha512-\S+\); refusing to load it/,
    );
  });

  it('posts one sticky comment, then updates it; sets the status, summary and outputs; exits 0 on pass', async () => {
    const config = writeConfig(dir, SMALL);
    const first = await runAction(runner, dir, { config, 'github-token': 't0ken' });
    expect(first.stdout).not.toMatch(/::error/);
    expect(first.code).toBe(0);
    expect(first.outputs).toMatchObject({
      verdict: 'pass',
      regressions: '0',
      'comment-url': 'https://github.com/o/r/pull/7#issuecomment-1',
    });
    expect(first.outputs['report-path']).toMatch(/tr118-results\/report\.md$/);
    expect(first.summary).toContain('## Overall backend summary');
    const second = await runAction(runner, dir, { config, 'github-token': 't0ken' });
    expect(second.code).toBe(0);

    expect(github.requests.filter((r) => r.template.startsWith('INVALID'))).toEqual([]);
    const writes = github.requests.filter((r) => r.method !== 'GET').map((r) => `${r.method} ${r.template}`);
    expect(writes).toEqual([
      'POST /repos/{owner}/{repo}/issues/{issue_number}/comments',
      'POST /repos/{owner}/{repo}/statuses/{sha}',
      'PATCH /repos/{owner}/{repo}/issues/comments/{comment_id}',
      'POST /repos/{owner}/{repo}/statuses/{sha}',
    ]);
    expect(github.comments).toHaveLength(1);
    expect(github.comments[0]!.body).toMatch(/^<!-- tr118-action:sticky-comment -->\n✅ \*\*tr118: pass\*\*/);
    const status = github.requests.find((r) => r.template.endsWith('/statuses/{sha}'))!;
    expect(status.url).toBe(`/repos/o/r/statuses/${'a'.repeat(40)}`);
    expect(status.body).toMatchObject({ state: 'success', context: 'tr118' });
  });

  it('a failing verdict sets a failure status, annotations, and exits 1 (fail-on: fail), 0 with fail-on: never', async () => {
    github.requests = [];
    const config = writeConfig(dir, `${SMALL}thresholds: { max_perplexity: 1.5 }\n`);
    const failing = await runAction(runner, dir, { config, 'github-token': 't0ken' });
    expect(failing.code).toBe(1);
    expect(failing.outputs.verdict).toBe('fail');
    expect(failing.stdout).toMatch(
      /::error title=tr118%3A onnxruntime-cpu::perplexity .* exceeds thresholds\.max_perplexity 1\.5/,
    );
    expect(github.requests.find((r) => r.template.endsWith('/statuses/{sha}'))!.body).toMatchObject({
      state: 'failure',
    });
    const tolerant = await runAction(runner, dir, { config, 'github-token': 't0ken', 'fail-on': 'never' });
    expect(tolerant.code).toBe(0);
  });

  it('an inconclusive verdict (no backend could run) is a failed step and a failure status unless fail-on: fail', async () => {
    // tensorrt-fp16 is unavailable on every machine without TensorRT (CI's): the matrix measures nothing
    const config = writeConfig(dir, SMALL.replace('[onnxruntime-cpu]', '[tensorrt-fp16]'));
    const statusOf = () => {
      const body = github.requests.find((r) => r.template.endsWith('/statuses/{sha}'))!.body!;
      return { state: body.state, description: String(body.description) };
    };
    github.requests = [];
    const strict = await runAction(runner, dir, { config, 'github-token': 't0ken', comment: 'never' });
    expect(strict.outputs.verdict).toBe('inconclusive');
    expect(strict.code).toBe(1);
    expect(strict.stdout).toMatch(
      /::error::tr118: verdict inconclusive \(.*not run: tensorrt-fp16 \(unavailable\)\); fail-on: inconclusive/,
    );
    expect(strict.stdout).toMatch(/::warning title=tr118%3A tensorrt-fp16::configured but not run/);
    expect(statusOf().state).toBe('failure');
    expect(statusOf().description).toMatch(/^inconclusive: /);

    github.requests = [];
    const tolerant = await runAction(runner, dir, {
      config,
      'github-token': 't0ken',
      comment: 'never',
      'fail-on': 'fail',
    });
    expect(tolerant.code).toBe(0);
    expect(statusOf().state).toBe('success');
    expect(statusOf().description).toMatch(/^inconclusive \(fail-on: fail\): /);
  });

  it('a 403 on the comment keeps the verdict: summary warns, status still set, exit code per verdict', async () => {
    github.requests = [];
    github.failComments = 403;
    const r = await runAction(runner, dir, { config: writeConfig(dir, SMALL), 'github-token': 't0ken' });
    github.failComments = null;
    expect(r.code).toBe(0);
    expect(r.outputs.verdict).toBe('pass');
    expect(r.outputs['comment-url']).toBe('');
    expect(r.summary).toMatch(/⚠️ The PR comment could not be posted: Resource not accessible by integration/);
    expect(r.stdout).toMatch(/::warning::tr118: could not post the PR comment/);
    expect(github.requests.some((r2) => r2.template.endsWith('/statuses/{sha}'))).toBe(true);
  });

  it('refuses a fork PR unless allow-forks, and validates inputs with the input name', async () => {
    const fork = await runAction(
      runner,
      dir,
      { config: writeConfig(dir, SMALL), 'github-token': 't0ken' },
      { fork: true },
    );
    expect(fork.code).toBe(1);
    expect(fork.stdout).toMatch(/::error::tr118: this pull request comes from a fork/);
    const bad = await runAction(runner, dir, { config: writeConfig(dir, SMALL), 'fail-on': 'sometimes' });
    expect(bad.code).toBe(1);
    expect(bad.stdout).toContain(
      '::error::tr118: input fail-on: expected one of warn, inconclusive, fail, never; got "sometimes"',
    );
  });
  it('a config error found once a worker is open (a token id outside the vocabulary) ends the step', async () => {
    const dir2 = tempDir();
    const ids = (JSON.parse(readFileSync(FIXTURE_TOKENS, 'utf8')) as number[]).slice(0, 600);
    ids[3] = 9999;
    const tokens = path.join(dir2, 'bad.tokens.json');
    writeFileSync(tokens, JSON.stringify(ids));
    const config = path.join(dir2, 'c.yml');
    writeFileSync(config, `model: { onnx: ${FIXTURE_MODEL} }\ninputs: { tokens: ${tokens} }\n${SMALL}`);
    const r = await runAction(runner, dir2, { config, comment: 'never' });
    expect(r.code).toBe(1); // null: it never exited and was killed
    expect(r.stdout).toMatch(
      /::error::tr118: config error: .*c\.yml:2:\d+: inputs\.tokens: token id 9999 at position 3 of .* is outside the model's vocabulary/,
    );
  });

  // The workflow's mistakes: each fails the step with one clear line, never "internal error".
  it.each([
    {
      name: 'a working-directory that does not exist',
      inputs: () => ({ 'working-directory': path.join(dir, 'nowhere') }),
      expect: /::error::tr118: input working-directory: \S+\/nowhere: no such folder\n/,
    },
    {
      name: 'a baseline-store that is a file (mode: baseline), found before measuring',
      inputs: () => {
        const store = path.join(dir, 'store-file');
        writeFileSync(store, '');
        return { config: writeConfig(dir, SMALL), mode: 'baseline', 'baseline-store': store };
      },
      expect: /::error::tr118: baseline store \S+\/store-file: \S+\/store-file is a file, not a folder\n/,
    },
  ])('$name', async ({ inputs, expect: message }) => {
    const r = await runAction(runner, dir, inputs(), { push: true });
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(message);
    expect(r.stdout).not.toContain('internal error');
    expect(r.stdout).not.toContain('tr118: measure'); // nothing was measured
  });

  const comparisonMode = (resultsPath: string | undefined): unknown =>
    (JSON.parse(readFileSync(resultsPath ?? '', 'utf8')) as { comparison?: { mode?: string } }).comparison?.mode;

  it('baseline: branch with the local store: none yet → a warning; a push with mode: baseline stores one; the PR compares', async () => {
    const config = writeConfig(dir, SMALL);
    const store = path.join(dir, 'store-local');
    const env = { TR118_BASELINE_DIR: store };
    const before = await runAction(runner, dir, { config, baseline: 'branch', comment: 'never' }, { env });
    expect(before.code).toBe(0);
    expect(before.stdout).toMatch(/::warning::tr118: no stored baseline for branch main yet/);
    expect(comparisonMode(before.outputs['results-path'])).toBeUndefined();

    github.requests = [];
    const push = await runAction(
      runner,
      dir,
      { config, mode: 'baseline', 'github-token': 't0ken' },
      { push: true, env },
    );
    expect(push.code).toBe(0);
    expect(push.stdout).toContain(`stored as baseline main: ${path.join(store, 'main.json')}`);
    expect(github.requests).toEqual([]); // no comment, no status on a baseline refresh

    const pr = await runAction(runner, dir, { config, baseline: 'branch', comment: 'never' }, { env });
    expect(pr.code).toBe(0);
    expect(comparisonMode(pr.outputs['results-path'])).toBe('stored');
  });

  it('cache: actions carries the baseline from the push job to a PR job on a fresh hosted runner', async () => {
    const config = writeConfig(dir, SMALL);
    const store = path.join(dir, 'store-hosted');
    const env = {
      TR118_BASELINE_DIR: store,
      ACTIONS_CACHE_SERVICE_V2: 'true',
      ACTIONS_RESULTS_URL: cacheUrl,
      ACTIONS_RUNTIME_TOKEN: 'runtime-token',
    };
    actionsCache.calls = [];
    const push = await runAction(runner, dir, { config, mode: 'baseline', cache: 'actions' }, { push: true, env });
    expect(push.code).toBe(0);
    expect(push.stdout).toContain('saved the baseline of main to the Actions cache (key tr118-baseline/main/42-1)');
    rmSync(store, { recursive: true }); // a hosted runner's disk does not survive the job

    const pr = await runAction(
      runner,
      dir,
      { config, baseline: 'branch', cache: 'actions', comment: 'never' },
      { env },
    );
    expect(pr.code).toBe(0);
    expect(pr.stdout).toContain('restored the baseline of main from the Actions cache (tr118-baseline/main/42-1)');
    expect(comparisonMode(pr.outputs['results-path'])).toBe('stored');
    expect(actionsCache.calls).toEqual([
      'CreateCacheEntry tr118-baseline/main/42-1',
      'FinalizeCacheEntryUpload tr118-baseline/main/42-1',
      'GetCacheEntryDownloadURL tr118-baseline/main/',
    ]);

    // no cache service on this runner: a warning, and the run goes on without a baseline
    const bare = await runAction(
      runner,
      dir,
      { config, baseline: 'branch', cache: 'actions', comment: 'never' },
      {
        env: { TR118_BASELINE_DIR: path.join(dir, 'store-bare') },
      },
    );
    expect(bare.code).toBe(0);
    expect(bare.stdout).toMatch(/::warning::tr118: the Actions cache service is not available on this runner/);
  });
  it('cache: actions keeps ONNX Runtime for hosted runners: one registry download, then the Actions cache', async () => {
    const config = writeConfig(dir, SMALL);
    const hosted = { ...runner, toolCache: path.join(dir, 'hosted-toolcache') };
    const env = {
      ACTIONS_CACHE_SERVICE_V2: 'true',
      ACTIONS_RESULTS_URL: cacheUrl,
      ACTIONS_RUNTIME_TOKEN: 'runtime-token',
    };
    actionsCache.calls = [];
    const downloads = registry.requests.length;
    const first = await runAction(hosted, dir, { config, cache: 'actions', comment: 'never' }, { env });
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(
      /saved to the Actions cache as tr118-onnxruntime-node\/1\.30\.0\/\w+-\w+\/[0-9a-f]{16}/,
    );
    expect(registry.requests.length).toBe(downloads + 2);

    rmSync(hosted.toolCache, { recursive: true }); // the next job gets a fresh hosted runner
    const second = await runAction(hosted, dir, { config, cache: 'actions', comment: 'never' }, { env });
    expect(second.code).toBe(0);
    expect(second.stdout).toMatch(/onnxruntime-node: .*hosted-toolcache.* \(actions-cache\)/);
    expect(registry.requests.length).toBe(downloads + 2);
    expect(actionsCache.calls.filter((c) => c.startsWith('INVALID'))).toEqual([]);
  });

  it('mode: merge turns the parts of a split matrix into one comment and one status; the worst part decides', async () => {
    const parts = path.join(dir, 'parts');
    // A part is named by its folder: text from outside, which must not mention anyone or reference anything.
    const gpuPart = 'tr118-gpu @octo#1';
    const cpu = await runAction(runner, dir, { config: writeConfig(dir, SMALL), out: path.join(parts, 'tr118-cpu') });
    const strict = writeConfig(dir, `${SMALL}thresholds: { max_perplexity: 1.5 }\n`);
    const gpu = await runAction(runner, dir, {
      config: strict,
      out: path.join(parts, gpuPart),
      'fail-on': 'never',
    });
    expect([cpu.code, gpu.code, cpu.outputs.verdict, gpu.outputs.verdict]).toEqual([0, 0, 'pass', 'fail']);

    github.requests = [];
    github.comments = [];
    // Both parts measured onnxruntime-cpu × the same scenarios: refused unless the input allows it (issue 21).
    const refused = await runAction(runner, dir, { mode: 'merge', results: 'parts/*/results.json' });
    expect(refused.code).toBe(1);
    expect(refused.stdout).toMatch(
      /::error::tr118: the parts do not belong to one split matrix: cell onnxruntime-cpu × \w+ is measured by more than one part \(tr118-cpu, tr118-gpu @octo#1\).*set the input allow-part-differences: cells/,
    );
    expect(github.requests.filter((r) => r.method !== 'GET')).toEqual([]);
    const merge = await runAction(runner, dir, {
      mode: 'merge',
      results: 'parts/*/results.json',
      'allow-part-differences': 'cells',
      'github-token': 't0ken',
    });
    expect(merge.code).toBe(1);
    expect(merge.stdout).toMatch(/merged 2 parts: tr118-cpu \(.*\), tr118-gpu @\u200bocto#\u200b1 \(.*\)/);
    expect(merge.stdout).not.toContain('onnxruntime-node:'); // a merge measures nothing
    expect(merge.outputs).toMatchObject({ verdict: 'fail', regressions: '0' });
    expect(merge.outputs['results-path']).toMatch(/merged\.json$/);
    expect(merge.stdout).toMatch(/::error title=tr118%3A tr118-gpu @\u200bocto#\u200b1%3A onnxruntime-cpu::perplexity/);
    expect(github.comments).toHaveLength(1);
    expect(github.comments[0]!.body).toMatch(
      /^<!-- tr118-action:sticky-comment -->\n❌ \*\*tr118: fail\*\* — 2 parts of a split matrix \(1 fail, 1 pass\)/,
    );
    for (const text of [github.comments[0]!.body, merge.summary]) {
      expect(text).toContain('tr118-gpu @\u200bocto#\u200b1');
      expect(text).not.toMatch(/@octo|#1/);
    }
    const writes = github.requests.filter((r) => r.method !== 'GET').map((r) => `${r.method} ${r.template}`);
    expect(writes).toEqual([
      'POST /repos/{owner}/{repo}/issues/{issue_number}/comments',
      'POST /repos/{owner}/{repo}/statuses/{sha}',
    ]);
    expect(github.requests.filter((r) => r.template.startsWith('INVALID'))).toEqual([]);
    expect(merge.summary).toMatch(/\| tr118-gpu @\u200bocto#\u200b1 \| ❌ fail +\| model\.onnx \|/);

    // Every listed pattern must match: a part whose job did not upload is never silently dropped.
    const none = await runAction(runner, dir, {
      mode: 'merge',
      results: 'parts/tr118-cpu/results.json\nnothing/*/results.json',
    });
    expect(none.code).toBe(1);
    expect(none.stdout).toContain(
      '::error::tr118: input results: "nothing/*/results.json" matched no file (every listed part must be there',
    );
  });
});
