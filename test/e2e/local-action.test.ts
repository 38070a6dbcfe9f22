/**
 * The Action's source entry point (src/action/main.ts run()) under @github/local-action, GitHub's local runner for
 * JavaScript actions: it reads action.yml, stubs the toolkit (@actions/core) with its own implementation, and
 * reports outputs, annotations and the job summary the way a runner would.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, tempDir } from '../helpers/fixture.js';
import { runProcess } from '../helpers/run.js';
import { checkWebhookPayload } from '../helpers/github-contract.js';

const BIN = path.join(ROOT, 'node_modules/@github/local-action/bin/local-action.js');

/** The .env file holds the inputs (local-action lets it override the environment). */
async function localAction(envFile: string) {
  const dir = tempDir();
  const summary = path.join(dir, 'summary.md');
  writeFileSync(summary, '');
  const r = await runProcess(process.execPath, [BIN, 'run', '.', 'src/action/main.ts', envFile], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, GITHUB_STEP_SUMMARY: summary },
  });
  return { output: r.stdout + r.stderr, summary: readFileSync(summary, 'utf8'), status: r.status };
}

/** An .env of gate.env's inputs plus `extra` lines, for the event GitHub would write for `event`. */
function eventEnv(event: string, webhook: string, payload: unknown, extra: readonly string[] = []): string {
  const dir = tempDir();
  const file = path.join(dir, 'event.json');
  writeFileSync(file, JSON.stringify(checkWebhookPayload(webhook, payload)));
  const env = path.join(dir, 'event.env');
  const gate = readFileSync(path.join(ROOT, 'test/local-action/gate.env'), 'utf8');
  const lines = [`GITHUB_EVENT_NAME=${event}`, `GITHUB_EVENT_PATH=${file}`, 'GITHUB_REPOSITORY=o/r', ...extra];
  writeFileSync(env, `${gate}${lines.join('\n')}\n`);
  return env;
}

const REPOSITORY = { full_name: 'o/r', name: 'r', owner: { login: 'o' } };
const FORK_PULL_REQUEST = {
  action: 'synchronize',
  number: 7,
  pull_request: {
    number: 7,
    head: { sha: 'a'.repeat(40), ref: 'feature', repo: { full_name: 'someone/r' } },
    base: { ref: 'main', repo: { full_name: 'o/r' } },
  },
  repository: REPOSITORY,
};
/** The completed run of a fork's pull_request workflow, as the workflow_run event that follows it carries it. */
const FORK_WORKFLOW_RUN = {
  action: 'completed',
  workflow_run: {
    event: 'pull_request',
    head_sha: 'a'.repeat(40),
    head_branch: 'feature',
    head_repository: { full_name: 'someone/r' },
    pull_requests: [],
  },
  repository: REPOSITORY,
};

describe('the Action under @github/local-action', () => {
  it('a passing run: outputs, the job summary, no error annotation', async () => {
    const { output, summary } = await localAction('test/local-action/gate.env');
    expect(output).toContain('Running Action');
    expect(output).toMatch(/│ 'verdict'\s+│ 'pass'\s+│/);
    expect(output).toMatch(/│ 'regressions'\s+│ '0'\s+│/);
    expect(output).not.toContain('::error::');
    expect(summary).toContain('## Overall backend summary');
  });

  it.each([
    { event: 'pull_request_target', webhook: 'pull-request-synchronize', payload: FORK_PULL_REQUEST },
    { event: 'workflow_run', webhook: 'workflow-run-completed', payload: FORK_WORKFLOW_RUN },
  ])("$event with a fork's code: a failed step before anything runs, allowed once allow-forks names it", async (c) => {
    const refused = await localAction(eventEnv(c.event, c.webhook, c.payload));
    // local-action records a failed step (setFailed) but exits 0 itself: the error annotation is the failed step.
    expect(refused.output).toMatch(
      new RegExp(
        `::error::tr118: this ${c.event} run .* fork \\(someone/r\\)\\. .* Set allow-forks: ${c.event} only if`,
      ),
    );
    expect(refused.output).not.toContain('tr118: measure'); // nothing ran
    // allow-forks: true is pull_request alone: it does not hand a fork's code this repository's secrets.
    const onlyTrue = await localAction(eventEnv(c.event, c.webhook, c.payload, ['INPUT_ALLOW-FORKS=true']));
    expect(onlyTrue.output).toMatch(new RegExp(`::error::tr118: this ${c.event} run `));
    const allowed = await localAction(eventEnv(c.event, c.webhook, c.payload, [`INPUT_ALLOW-FORKS=${c.event}`]));
    expect(allowed.output).toContain('::group::tr118: measure');
    expect(allowed.output).not.toContain('::error::');
  });

  it('a failing run: the error annotation and the failed step', async () => {
    const { output } = await localAction('test/local-action/fail.env');
    expect(output).toMatch(/│ 'verdict'\s+│ 'fail'\s+│/);
    expect(output).toMatch(/::error::tr118: verdict fail/);
  });
});
