/**
 * The Action: inputs → the same pipeline as the CLI → job summary, sticky PR comment, commit status, annotations,
 * outputs, exit code. Only this file and src/github/ know about GitHub; a comment or status that fails never
 * loses the verdict (it falls back to the job summary with a warning).
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import * as core from '@actions/core';
import { loadConfigFile } from '../config/load.js';
import { describeError, UsageError } from '../errors.js';
import type { Decision } from '../gate/verdict.js';
import { GitHubApi } from '../github/api.js';
import { COMMENT_MARKER, renderComment } from '../github/comment.js';
import { readEvent } from '../github/event.js';
import { OUTPUTS, parseInputs, type ActionInputs } from '../github/inputs.js';
import { packageRoot } from '../paths.js';
import { provisionOnnxRuntime } from './onnxruntime.js';
import { runPipeline } from '../pipeline.js';
import { renderMarkdown } from '../report/markdown.js';
import { defaultStoreDir, saveBaseline, storedBaselineFile } from '../results/store.js';
import { restoreBaselineFromCache, saveBaselineToCache } from './baseline-cache.js';

const STATUS_STATE: Record<Decision, 'success' | 'failure'> = {
  pass: 'success',
  warn: 'success',
  inconclusive: 'success',
  fail: 'failure',
};

function failsRun(decision: Decision, failOn: ActionInputs['failOn']): boolean {
  if (failOn === 'never') return false;
  return decision === 'fail' || (failOn === 'warn' && decision === 'warn');
}

export async function run(env: NodeJS.ProcessEnv = process.env): Promise<void> {
  try {
    const inputs = parseInputs((name) => core.getInput(name));
    const payload: unknown = env.GITHUB_EVENT_PATH ? JSON.parse(readFileSync(env.GITHUB_EVENT_PATH, 'utf8')) : {};
    const event = readEvent(env, payload);
    if (event.pullRequest?.fromFork && !inputs.allowForks) {
      core.setFailed(
        'tr118: this pull request comes from a fork; its code would run on this (self-hosted) runner with access to it. ' +
          'Refused. Set allow-forks: true only if the runner is disposable and holds no secrets.',
      );
      return;
    }
    if (inputs.workingDirectory) process.chdir(inputs.workingDirectory);
    const cwd = process.cwd();
    const summaryNotes: string[] = [];

    core.startGroup('tr118: config');
    const configFile = inputs.config
      ? path.resolve(cwd, inputs.config)
      : path.join(packageRoot(), 'fixtures/configs/default.yml');
    const config = loadConfigFile(configFile, {
      modelPath: inputs.model ? path.resolve(cwd, inputs.model) : undefined,
    });
    core.info(
      `config ${configFile}: ${config.backends.length} backends × ${config.scenarios.length} scenarios × ${config.repetitions} repetitions`,
    );
    core.endGroup();

    // After the config: a bad config should not wait for a 113 MB download to be reported.
    core.startGroup('tr118: ONNX Runtime');
    const ort = await provisionOnnxRuntime((line) => core.info(line));
    core.info(`onnxruntime-node: ${ort.dir} (${ort.source})`);
    core.endGroup();

    const store = inputs.baselineStore ? path.resolve(cwd, inputs.baselineStore) : defaultStoreDir();
    // gate and merge compare (merge: a push to the default branch, gated, then stored); baseline only stores.
    let baseline: string | undefined;
    if (inputs.mode !== 'baseline' && inputs.baseline.kind === 'file')
      baseline = path.resolve(cwd, inputs.baseline.path);
    if (inputs.mode !== 'baseline' && inputs.baseline.kind === 'branch') {
      const name = branchName(event.pullRequest?.baseRef ?? event.refName ?? '');
      const file = storedBaselineFile(store, name);
      if (inputs.cache === 'actions') {
        const restored = await restoreBaselineFromCache(file, name);
        if (restored.ok) core.info(restored.message);
        else core.warning(`tr118: ${restored.message}`);
      }
      if (existsSync(file)) baseline = file;
      else {
        // The first PR after installing the gate has nothing to compare with: say so, do not fail.
        core.warning(
          `tr118: no stored baseline for branch ${name} yet (${file}); compared with no baseline. ` +
            `A run with mode: baseline on a push to ${name} stores one.`,
        );
        summaryNotes.push(`⚠️ No stored baseline for branch \`${name}\` yet: compared with no baseline.`);
      }
    }

    core.startGroup('tr118: measure');
    const { results, files } = await runPipeline({
      config,
      outDir: path.resolve(cwd, inputs.out),
      modelFromFlag: inputs.model !== undefined,
      baseline,
      baselineStore: store,
      cwd,
      progress: (e) => {
        if (e.phase === 'open') core.info(`backend ${e.backend}: ${e.status}`);
        else if (e.phase === 'run' && e.record.status === 'degraded')
          core.warning(`${e.record.backend} × ${e.record.scenario}: ${e.record.reason ?? 'degraded'}`);
        else if (e.phase === 'run' && e.done % 10 === 0) core.info(`${e.done}/${e.total} runs`);
      },
    });
    core.endGroup();

    const v = results.verdict;
    const regressions = results.comparison?.cells.filter((c) => c.decision === 'fail').length ?? 0;
    core.setOutput(OUTPUTS.verdict, v.decision);
    core.setOutput(OUTPUTS.reportPath, files.report);
    core.setOutput(OUTPUTS.resultsPath, files.results);
    core.setOutput(OUTPUTS.regressions, String(regressions));
    for (const r of v.reasons) {
      if (r.decision === 'fail') core.error(r.message, { title: `tr118: ${r.subject}` });
      else if (r.decision === 'warn') core.warning(r.message, { title: `tr118: ${r.subject}` });
    }

    if (inputs.mode === 'baseline' || inputs.mode === 'merge') {
      const name = branchName(event.refName ?? 'main');
      const target = saveBaseline(files.results, name, store);
      core.info(`stored as baseline ${name}: ${target}`);
      summaryNotes.push(`Stored as the baseline for branch \`${name}\`.`);
      if (inputs.cache === 'actions') {
        const saved = await saveBaselineToCache(target, name, env);
        if (saved.ok) core.info(saved.message);
        else {
          core.warning(`tr118: ${saved.message}`);
          summaryNotes.push(`⚠️ ${saved.message}`);
        }
      }
    }

    const runUrl =
      env.GITHUB_SERVER_URL && env.GITHUB_REPOSITORY && env.GITHUB_RUN_ID
        ? `${env.GITHUB_SERVER_URL}/${env.GITHUB_REPOSITORY}/actions/runs/${env.GITHUB_RUN_ID}`
        : undefined;
    let commentUrl = '';
    if (inputs.mode === 'gate' && event.pullRequest && event.repo && inputs.githubToken) {
      const api = new GitHubApi(inputs.githubToken, event.repo, env.GITHUB_API_URL);
      const body = renderComment(results, runUrl);
      let post = inputs.comment === 'always';
      if (inputs.comment === 'on-change') {
        const existing = await api.findComment(event.pullRequest.number, COMMENT_MARKER);
        // On change: post when there is something to say, or keep an existing comment up to date.
        post = v.decision !== 'pass' || (existing.ok && existing.value !== null);
      }
      if (post) {
        const posted = await api.upsertComment(event.pullRequest.number, COMMENT_MARKER, body);
        if (posted.ok) commentUrl = posted.value.url;
        else {
          core.warning(`tr118: could not post the PR comment (${posted.error}); the report is in the job summary.`);
          summaryNotes.push(`⚠️ The PR comment could not be posted: ${posted.error}`);
        }
      }
      const description = `${v.decision}: ${v.reasons.find((r) => r.decision === v.decision)?.message ?? v.basis}`;
      const status = await api.setStatus(event.pullRequest.headSha, STATUS_STATE[v.decision], description, runUrl);
      if (!status.ok) {
        core.warning(
          `tr118: could not set the commit status (${status.error}); the verdict is still this step's exit code.`,
        );
        summaryNotes.push(`⚠️ The commit status could not be set: ${status.error}`);
      }
    }
    core.setOutput(OUTPUTS.commentUrl, commentUrl);
    if (env.GITHUB_STEP_SUMMARY) {
      await core.summary.addRaw([...summaryNotes, '', renderMarkdown(results)].join('\n')).write();
    } else {
      // Older GHES runners and local runs have no job summary: the report file is still there.
      core.warning(`tr118: no job summary on this runner (GITHUB_STEP_SUMMARY unset); the report is ${files.report}`);
    }

    if (failsRun(v.decision, inputs.failOn)) core.setFailed(`tr118: verdict ${v.decision} (${v.basis})`);
  } catch (error) {
    if (error instanceof UsageError) core.setFailed(`tr118: ${error.message}`);
    else core.setFailed(`tr118: internal error: ${describeError(error)}`);
  }
}

/** A branch name as a baseline name (feature/x → feature__x). */
function branchName(ref: string): string {
  const name = ref.replace(/^refs\/heads\//, '').replace(/\//g, '__');
  if (!name) throw new UsageError('baseline: branch needs the base branch (a pull_request event) or GITHUB_REF_NAME');
  return name;
}
