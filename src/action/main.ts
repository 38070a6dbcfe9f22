/**
 * The Action: inputs → a publication (the verdict, measured by the same pipeline as the CLI or merged from the parts
 * of a split matrix, and what to show of it) → job summary, sticky PR comment, commit status, annotations, outputs,
 * exit code. Only src/action and src/github know about GitHub; a comment or status that fails never loses the
 * verdict (it falls back to the job summary with a warning).
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import * as core from '@actions/core';
import * as glob from '@actions/glob';
import { loadConfigFile } from '../config/load.js';
import { describeError, UsageError } from '../errors.js';
import { failsOn, type Decision, type GateReason } from '../gate/verdict.js';
import { GitHubApi } from '../github/api.js';
import { logLine } from '../github/log.js';
import { COMMENT_MARKER, renderComment, renderMergedComment } from '../github/comment.js';
import { forkRefusal, parseEventPayload, readEvent, type EventInfo, type EventPayload } from '../github/event.js';
import { INPUTS, OUTPUTS, parseInputs, type ActionInputs } from '../github/inputs.js';
import { packageRoot } from '../paths.js';
import { runPipeline } from '../pipeline/index.js';
import { mergeParts } from '../pipeline/merge.js';
import { dropBidiControls, escapeUntrusted } from '../report/escape.js';
import { renderMarkdown } from '../report/markdown.js';
import { regressionCount } from '../results/merge.js';
import { checkWritableDir } from '../out-dir.js';
import { defaultStoreDir, saveBaseline, storedBaselineFile } from '../results/store.js';
import { restoreBaselineFromCache, saveBaselineToCache } from './baseline-cache.js';
import { provisionOnnxRuntime } from './provision-onnxruntime.js';
import { actionsArtifactStore } from './actions-cache-store.js';
import { provisionOrtGpuStep } from './provision-onnxruntime-gpu.js';

/** Every informational log line, made one line that the runner cannot read as a workflow command. */
function info(text: string): void {
  core.info(logLine(text));
}

/** What a run decided and what to show of it: the same whether it measured or merged parts. */
interface Publication {
  readonly decision: Decision;
  readonly basis: string;
  readonly reasons: readonly (GateReason & { readonly part?: string })[];
  readonly regressions: number;
  readonly reportPath: string;
  readonly resultsPath: string;
  readonly summaryMarkdown: string;
  readonly commentBody: (runUrl: string | undefined) => string;
  readonly notes: readonly string[];
}

export async function run(env: NodeJS.ProcessEnv = process.env): Promise<void> {
  try {
    const inputs = parseInputs((name) => core.getInput(name));
    const event = readEvent(env, readEventPayload(env.GITHUB_EVENT_PATH));
    // Before anything runs or is posted: failed (exit 1), no commit status, so a refusal never shows green.
    const refusal = forkRefusal(event, inputs.allowForks);
    if (refusal !== null) {
      core.setFailed(escapeUntrusted(refusal, 'plain'));
      return;
    }
    if (inputs.workingDirectory) changeDirectory(inputs.workingDirectory);
    const publication =
      inputs.mode === 'merge' ? await merge(inputs, process.cwd()) : await measure(inputs, event, env, process.cwd());
    await publish(publication, inputs, event, env);
  } catch (error) {
    // One line with no bidirectional override (names in a message are the user's text); setFailed escapes the
    // rest. Not escapeUntrusted: an annotation is plain text that mentions nobody, and a URL in it must stay whole.
    if (error instanceof UsageError) core.setFailed(`tr118: ${logLine(dropBidiControls(error.message))}`);
    else core.setFailed(`tr118: internal error: ${describeError(error)}`);
  }
}

/** gate and baseline: measure the matrix here (baseline: and store the result as this branch's baseline). */
async function measure(
  inputs: ActionInputs,
  event: EventInfo,
  env: NodeJS.ProcessEnv,
  cwd: string,
): Promise<Publication> {
  const notes: string[] = [];
  core.startGroup('tr118: config');
  const configFile = inputs.config
    ? path.resolve(cwd, inputs.config)
    : path.join(packageRoot(), 'fixtures/configs/default.yml');
  const config = loadConfigFile(configFile, { modelPath: inputs.model ? path.resolve(cwd, inputs.model) : undefined });
  info(
    `config ${configFile}: ${config.backends.length} backends × ${config.scenarios.length} scenarios × ${config.repetitions} repetitions`,
  );
  core.endGroup();

  // After the config: a bad config should not wait for a 113 MB download to be reported.
  core.startGroup('tr118: ONNX Runtime');
  const ort = await provisionOnnxRuntime({ log: (line) => info(line), actionsCache: inputs.cache === 'actions' });
  info(`onnxruntime-node: ${ort.dir} (${ort.source})`);
  core.endGroup();

  core.startGroup('tr118: ONNX Runtime GPU providers');
  await provisionOrtGpuStep({
    mode: inputs.onnxruntimeGpu,
    cuda12Sha256: inputs.onnxruntimeCuda12Sha256,
    actionsCache: inputs.cache === 'actions',
    backends: config.backends,
    searchFrom: path.dirname(configFile),
    info: (line) => info(line),
    warning: (line) => core.warning(line),
  });
  core.endGroup();

  // The default store needs a home folder: found only when a stored baseline is read or written.
  const storeInput = inputs.baselineStore ? path.resolve(cwd, inputs.baselineStore) : undefined;
  const storeDir = (): string => storeInput ?? defaultStoreDir();
  // A store that cannot take the baseline is found before the measurement, not after it.
  if (inputs.mode === 'baseline') checkWritableDir(storeDir(), 'baseline store');
  let baseline: string | undefined;
  if (inputs.mode === 'gate' && inputs.baseline.kind === 'file') baseline = path.resolve(cwd, inputs.baseline.path);
  if (inputs.mode === 'gate' && inputs.baseline.kind === 'branch') {
    const name = branchName(event.pullRequest?.baseRef ?? event.refName ?? '');
    const file = storedBaselineFile(storeDir(), name);
    if (inputs.cache === 'actions') {
      const restored = await restoreBaselineFromCache(file, name);
      if (restored.ok) info(restored.message);
      else core.warning(`tr118: ${restored.message}`);
    }
    if (existsSync(file)) baseline = file;
    else {
      // The first PR after installing the gate has nothing to compare with: say so, do not fail.
      core.warning(
        `tr118: no stored baseline for branch ${name} yet (${file}); compared with no baseline. ` +
          `A run with mode: baseline on a push to ${name} stores one.`,
      );
      notes.push(`⚠️ No stored baseline for branch ${escapeUntrusted(name)} yet: compared with no baseline.`);
    }
  }

  core.startGroup('tr118: measure');
  const { results, files } = await runPipeline({
    config,
    outDir: path.resolve(cwd, inputs.out),
    modelFromFlag: inputs.model !== undefined,
    baseline,
    baselineStore: storeInput,
    cacheDir: inputs.cacheDir !== undefined ? path.resolve(cwd, inputs.cacheDir) : undefined,
    ...(inputs.cache === 'actions' ? { remoteStore: actionsArtifactStore() } : {}),
    log: (line) => info(line),
    cwd,
    warn: (message) => core.warning(`tr118: ${message}`),
    progress: (e) => {
      if (e.phase === 'open') info(`backend ${e.backend}: ${e.status}`);
      else if (e.phase === 'run' && e.record.status === 'degraded')
        core.warning(`${e.record.backend} × ${e.record.scenario}: ${e.record.reason ?? 'degraded'}`);
      else if (e.phase === 'run' && e.done % 10 === 0) info(`${e.done}/${e.total} runs`);
    },
  });
  core.endGroup();

  if (inputs.mode === 'baseline') {
    const name = branchName(event.refName ?? 'main');
    const target = saveBaseline(files.results, name, storeDir());
    info(`stored as baseline ${name}: ${target}`);
    notes.push(`Stored as the baseline for branch ${escapeUntrusted(name)}.`);
    if (inputs.cache === 'actions') {
      const saved = await saveBaselineToCache(target, name, env);
      if (saved.ok) info(saved.message);
      else {
        core.warning(`tr118: ${saved.message}`);
        notes.push(`⚠️ ${escapeUntrusted(saved.message)}`);
      }
    }
  }

  return {
    decision: results.verdict.decision,
    basis: results.verdict.basis,
    reasons: results.verdict.reasons,
    regressions: regressionCount(results),
    reportPath: files.report,
    resultsPath: files.results,
    summaryMarkdown: renderMarkdown(results),
    commentBody: (runUrl) => renderComment(results, runUrl, inputs.reportArtifact),
    notes,
  };
}

/** merge: the parts of a split matrix, measured by other jobs, become one verdict, comment and status. */
async function merge(inputs: ActionInputs, cwd: string): Promise<Publication> {
  // Each pattern on its own: one that matches nothing is a part missing (a job that failed to upload), never ignored.
  const files = new Set<string>();
  for (const pattern of inputs.results) {
    const matched = await (await glob.create(path.resolve(cwd, pattern), { matchDirectories: false })).glob();
    if (matched.length === 0)
      throw new UsageError(
        `input ${INPUTS.results}: ${JSON.stringify(pattern)} matched no file (every listed part must be there: did its job upload it?)`,
      );
    for (const file of matched) files.add(file);
  }
  const outcome = mergeParts([...files].sort(), path.resolve(cwd, inputs.out), {
    allowed: inputs.allowPartDifferences,
    allowedSaidAs: `set the input ${INPUTS.allowPartDifferences}:`,
  });
  const { merged, parts } = outcome;
  info(
    escapeUntrusted(`merged ${parts.length} parts: ${parts.map((p) => `${p.name} (${p.file})`).join(', ')}`, 'plain'),
  );
  return {
    ...merged,
    reportPath: outcome.reportPath,
    resultsPath: outcome.resultsPath,
    summaryMarkdown: outcome.summaryMarkdown,
    commentBody: (runUrl) => renderMergedComment(merged, parts, runUrl, inputs.reportArtifact),
    notes: [],
  };
}

/** Outputs, annotations, the comment, the status, the job summary and the exit code, from any publication. */
async function publish(p: Publication, inputs: ActionInputs, event: EventInfo, env: NodeJS.ProcessEnv): Promise<void> {
  const notes = [...p.notes];
  core.setOutput(OUTPUTS.verdict, p.decision);
  core.setOutput(OUTPUTS.reportPath, p.reportPath);
  core.setOutput(OUTPUTS.resultsPath, p.resultsPath);
  core.setOutput(OUTPUTS.regressions, String(p.regressions));
  // Annotations are plain text: one line, no mention, reference or link from a model or part name.
  for (const r of p.reasons) {
    const title = escapeUntrusted(`tr118: ${r.part ? `${r.part}: ` : ''}${r.subject}`, 'plain');
    const message = escapeUntrusted(r.message, 'plain');
    if (r.decision === 'fail') core.error(message, { title });
    else if (r.decision === 'warn') core.warning(message, { title });
  }

  const runUrl =
    env.GITHUB_SERVER_URL && env.GITHUB_REPOSITORY && env.GITHUB_RUN_ID
      ? `${env.GITHUB_SERVER_URL}/${env.GITHUB_REPOSITORY}/actions/runs/${env.GITHUB_RUN_ID}`
      : undefined;
  let commentUrl = '';
  // A baseline refresh posts nothing; gate and merge report on the PR.
  if (inputs.mode !== 'baseline' && event.pullRequest && event.repo && inputs.githubToken) {
    const api = new GitHubApi(inputs.githubToken, event.repo, env.GITHUB_API_URL);
    let post = inputs.comment === 'always';
    if (inputs.comment === 'on-change') {
      const existing = await api.findComment(event.pullRequest.number, COMMENT_MARKER);
      // On change: post when there is something to say, or keep an existing comment up to date.
      post = p.decision !== 'pass' || (existing.ok && existing.value !== null);
    }
    if (post) {
      const posted = await api.upsertComment(event.pullRequest.number, COMMENT_MARKER, p.commentBody(runUrl));
      if (posted.ok) commentUrl = posted.value.url;
      else {
        core.warning(`tr118: could not post the PR comment (${posted.error}); the report is in the job summary.`);
        notes.push(`⚠️ The PR comment could not be posted: ${escapeUntrusted(posted.error)}`);
      }
    }
    // The status follows fail-on, as the step's exit code does: one rule, so a required check is never greener than
    // the step (an inconclusive run is a failure unless fail-on says fail or never).
    const state = failsOn(p.decision, inputs.failOn) ? 'failure' : 'success';
    const tolerated = state === 'success' && p.decision !== 'pass' ? ` (fail-on: ${inputs.failOn})` : '';
    const description = escapeUntrusted(
      `${p.decision}${tolerated}: ${p.reasons.find((r) => r.decision === p.decision)?.message ?? p.basis}`,
      'plain',
    );
    const status = await api.setStatus(event.pullRequest.headSha, state, description, runUrl);
    if (!status.ok) {
      core.warning(
        `tr118: could not set the commit status (${status.error}); the verdict is still this step's exit code.`,
      );
      notes.push(`⚠️ The commit status could not be set: ${escapeUntrusted(status.error)}`);
    }
  }
  core.setOutput(OUTPUTS.commentUrl, commentUrl);
  if (env.GITHUB_STEP_SUMMARY) {
    await core.summary.addRaw([...notes, '', p.summaryMarkdown].join('\n')).write();
  } else {
    // Older GHES runners and local runs have no job summary: the report file is still there.
    core.warning(`tr118: no job summary on this runner (GITHUB_STEP_SUMMARY unset); the report is ${p.reportPath}`);
  }

  if (failsOn(p.decision, inputs.failOn))
    core.setFailed(`tr118: verdict ${p.decision} (${escapeUntrusted(p.basis, 'plain')}); fail-on: ${inputs.failOn}`);
}

/** The webhook payload at GITHUB_EVENT_PATH (none outside a workflow): validated, or a clear error naming the file. */
function readEventPayload(file: string | undefined): EventPayload {
  if (!file) return {};
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new UsageError(`event payload ${file}: cannot read: ${code === 'ENOENT' ? 'no such file' : String(code)}`);
  }
  return parseEventPayload(text, file);
}

/** working-directory: a folder that is not there is the workflow's mistake (exit code of a usage error). */
function changeDirectory(dir: string): void {
  try {
    process.chdir(dir);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such folder' : code === 'ENOTDIR' ? 'not a folder' : String(code);
    throw new UsageError(`input ${INPUTS.workingDirectory}: ${path.resolve(dir)}: ${why}`);
  }
}

/** A branch name as a baseline name (feature/x → feature__x). */
function branchName(ref: string): string {
  const name = ref.replace(/^refs\/heads\//, '').replace(/\//g, '__');
  if (!name) throw new UsageError('baseline: branch needs the base branch (a pull_request event) or GITHUB_REF_NAME');
  return name;
}
