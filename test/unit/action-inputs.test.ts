import { describe, expect, it } from 'vitest';
import { baselineCacheKey, baselineCachePrefix } from '../../src/action/baseline-cache.js';
import { parseInputs } from '../../src/github/inputs.js';

const from =
  (inputs: Record<string, string>) =>
  (name: string): string =>
    inputs[name] ?? '';

describe("the Action's inputs", () => {
  it('defaults: gate on the bundled config, no baseline, comment always, fail on inconclusive or fail, local cache', () => {
    expect(parseInputs(from({}))).toEqual({
      config: undefined,
      model: undefined,
      baseline: { kind: 'none' },
      baselineStore: undefined,
      githubToken: undefined,
      mode: 'gate',
      comment: 'always',
      failOn: 'inconclusive',
      cache: 'local',
      cacheDir: undefined,
      workingDirectory: undefined,
      allowForks: [],
      out: 'tr118-results',
      results: [],
      allowPartDifferences: [],
      onnxruntimeGpu: 'auto',
      onnxruntimeCuda12Sha256: undefined,
      reportArtifact: undefined,
    });
  });

  it('reads a baseline path, branch, and the enumerations', () => {
    const i = parseInputs(
      from({
        baseline: 'base/results.json',
        mode: 'merge',
        results: 'a/results.json, b/*.json\nc/results.json',
        comment: 'on-change',
        'fail-on': 'warn',
        cache: 'actions',
      }),
    );
    expect(i.baseline).toEqual({ kind: 'file', path: 'base/results.json' });
    expect(i).toMatchObject({ mode: 'merge', comment: 'on-change', failOn: 'warn', cache: 'actions' });
    expect(i.results).toEqual(['a/results.json', 'b/*.json', 'c/results.json']);
    expect(parseInputs(from({ baseline: 'branch' })).baseline).toEqual({ kind: 'branch' });
    expect(parseInputs(from({ 'cache-dir': ' /runner/artifacts ' })).cacheDir).toBe('/runner/artifacts');
  });

  it.each(['auto', 'off', 'cuda12', 'cuda13'] as const)('onnxruntime-gpu: %s is read as given', (value) => {
    expect(parseInputs(from({ 'onnxruntime-gpu': value })).onnxruntimeGpu).toBe(value);
  });

  it('onnxruntime-cuda12-sha256 is read in lower case', () => {
    expect(parseInputs(from({ 'onnxruntime-cuda12-sha256': 'AB'.repeat(32) })).onnxruntimeCuda12Sha256).toBe(
      'ab'.repeat(32),
    );
  });

  it.each([
    ['false', []],
    ['true', ['pull_request']],
    ['pull_request_target', ['pull_request_target']],
    [' workflow_run,pull_request \n', ['pull_request', 'workflow_run']],
    ['pull_request, pull_request_target, workflow_run', ['pull_request', 'pull_request_target', 'workflow_run']],
  ])('allow-forks: %j allows %j (true is pull_request alone: the events with secrets are named)', (value, events) => {
    expect(parseInputs(from({ 'allow-forks': value })).allowForks).toEqual(events);
  });

  it('report-artifact is read trimmed', () => {
    expect(parseInputs(from({ 'report-artifact': ' tr118-report ' })).reportArtifact).toBe('tr118-report');
  });

  it.each(['warn', 'inconclusive', 'fail', 'never'] as const)('fail-on: %s is read as given', (value) => {
    expect(parseInputs(from({ 'fail-on': value })).failOn).toBe(value);
  });

  it.each([
    ['mode', 'publish', 'input mode: expected one of gate, baseline, merge; got "publish"'],
    ['comment', 'sometimes', 'input comment: expected one of always, on-change, never; got "sometimes"'],
    ['fail-on', 'error', 'input fail-on: expected one of warn, inconclusive, fail, never; got "error"'],
    ['cache', 's3', 'input cache: expected one of local, actions, off; got "s3"'],
    [
      'allow-forks',
      'yes',
      'input allow-forks: expected true, false, or events among pull_request, pull_request_target, workflow_run (comma-separated); got "yes"',
    ],
    [
      'allow-forks',
      'pull_request, push',
      'input allow-forks: expected true, false, or events among pull_request, pull_request_target, workflow_run (comma-separated); got "push"',
    ],
    ['onnxruntime-gpu', 'cuda11', 'input onnxruntime-gpu: expected one of auto, off, cuda12, cuda13; got "cuda11"'],
    [
      'onnxruntime-cuda12-sha256',
      'sha256:abc',
      'input onnxruntime-cuda12-sha256: expected a sha256 (64 hex digits); got "sha256:abc"',
    ],
  ])('refuses %s: %s, quoting the input and the value', (name, value, message) => {
    expect(() => parseInputs(from({ [name]: value }))).toThrow(message);
  });

  it('results belongs to mode: merge, and merge needs it', () => {
    expect(() => parseInputs(from({ mode: 'merge' }))).toThrow(
      `input results: mode "merge" needs the parts' results.json files (paths or globs)`,
    );
    expect(() => parseInputs(from({ results: 'parts/*/results.json' }))).toThrow(
      'input results: only read with mode "merge" (mode is "gate")',
    );
    expect(parseInputs(from({ mode: 'merge', results: 'parts/*/results.json', cache: 'off' })).mode).toBe('merge');
  });

  it('cache: off refuses what needs a stored baseline, and allows a plain gate', () => {
    expect(parseInputs(from({ cache: 'off' })).cache).toBe('off');
    expect(parseInputs(from({ cache: 'off', baseline: 'results.json' })).cache).toBe('off');
    expect(() => parseInputs(from({ cache: 'off', mode: 'baseline' }))).toThrow(
      'input mode: "baseline" stores a baseline, but cache is "off" (use local or actions)',
    );
    expect(() => parseInputs(from({ cache: 'off', baseline: 'branch' }))).toThrow(
      'input baseline: "branch" reads a stored baseline, but cache is "off" (use local or actions)',
    );
  });
});

describe('baseline keys in the Actions cache', () => {
  it('one key per run and attempt, all under the branch prefix that a PR restores', () => {
    const key = baselineCacheKey('main', { GITHUB_RUN_ID: '42', GITHUB_RUN_ATTEMPT: '2' });
    expect(key).toBe('tr118-baseline/main/42-2');
    expect(key.startsWith(baselineCachePrefix('main'))).toBe(true);
    expect(baselineCacheKey('main', { GITHUB_RUN_ID: '43' })).toBe('tr118-baseline/main/43-1');
    // a branch whose name extends another's is not matched by the shorter prefix
    expect(baselineCacheKey('main-x', { GITHUB_RUN_ID: '1' }).startsWith(baselineCachePrefix('main'))).toBe(false);
    expect(baselineCacheKey('main__x', { GITHUB_RUN_ID: '1' }).startsWith(baselineCachePrefix('main'))).toBe(false);
  });
});
