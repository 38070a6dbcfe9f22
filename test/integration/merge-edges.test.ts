/**
 * Issue 21's two merge cases that had only indirect tests, each through the real merge path: the Action's source entry
 * (src/action/index.ts, as a runner starts it: INPUT_* variables, GITHUB_OUTPUT and GITHUB_STEP_SUMMARY files, its
 * stdout the job's log) and `tr118 merge` / `tr118 report` (in process, as report-command.test.ts runs them).
 * - another project's stored baseline, as `tr118 baseline save` stored it, given as a part is refused, naming what
 *   differs; a stored baseline of this project's own part still merges;
 * - a part folder named with a newline and a workflow command cannot start a line of the log as that command.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ExitCode } from '../../src/errors.js';
import { runCliInProcess } from '../helpers/cli.js';
import { ROOT, tempDir } from '../helpers/fixture.js';
import { writePart } from '../helpers/results.js';
import { runProcess } from '../helpers/run.js';

/** tsx by its file: the Action runs in a folder of its own, where a bare `--import tsx` finds no package. */
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

/** The Action's entry from source in `dir`, with `inputs` as a runner passes them; stdout is what the log shows. */
async function action(dir: string, inputs: Record<string, string>) {
  const summary = path.join(dir, `summary-${process.hrtime.bigint()}.md`);
  const output = path.join(dir, `output-${process.hrtime.bigint()}.txt`);
  writeFileSync(summary, '');
  writeFileSync(output, '');
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    GITHUB_ACTIONS: 'true',
    GITHUB_STEP_SUMMARY: summary,
    GITHUB_OUTPUT: output,
  };
  for (const [name, value] of Object.entries(inputs)) env[`INPUT_${name.toUpperCase()}`] = value;
  const r = await runProcess(process.execPath, ['--import', TSX, path.join(ROOT, 'src/action/index.ts')], {
    cwd: dir,
    env,
  });
  return { ...r, outputs: readFileSync(output, 'utf8') };
}

/** Reasons that fail a part (the merged verdict then fails, and the Action writes its own error annotations). */
const failing = (r: Record<string, unknown>): void => {
  const verdict = r.verdict as { decision: string; reasons: unknown[] };
  verdict.decision = 'fail';
  verdict.reasons = [{ rule: 'accuracy', subject: 'ort-gpu', decision: 'fail', message: 'perplexity rose' }];
};

/** Another project: its own commit and model, measuring the same backend and scenario as this project's CPU part. */
const otherProject = (r: Record<string, unknown>): void => {
  r.git = { commit: 'd'.repeat(40), dirty: false };
  r.model = { ...(r.model as object), name: 'other-project-model', sha256: 'e'.repeat(64) };
};

describe("another project's stored baseline given as a part of a merge (issue 21)", () => {
  /**
   * In `dir`: this project's part parts/tr118-cpu/results.json, and the stores `theirs` (another project's result,
   * stored by `tr118 baseline save` as main) and `ours` (this project's GPU part stored as gpu).
   */
  async function setUp(dir: string) {
    for (const folder of ['parts/tr118-cpu', 'parts/tr118-gpu', 'other'])
      mkdirSync(path.join(dir, folder), { recursive: true });
    writePart(path.join(dir, 'parts/tr118-cpu/results.json'), 'onnxruntime-cpu');
    writePart(path.join(dir, 'parts/tr118-gpu/results.json'), 'ort-gpu');
    writePart(path.join(dir, 'other/results.json'), 'onnxruntime-cpu', otherProject);
    const saved = await runCliInProcess(
      ['baseline', 'save', 'other/results.json', '--name', 'main', '--store', 'theirs'],
      dir,
    );
    expect(saved).toMatchObject({ code: ExitCode.pass, stderr: '' });
    expect(saved.stdout).toBe(`saved baseline main: ${path.join(dir, 'theirs', 'main.json')}\n`);
    const ours = await runCliInProcess(
      ['baseline', 'save', 'parts/tr118-gpu/results.json', '--name', 'gpu', '--store', 'ours'],
      dir,
    );
    expect(ours.code).toBe(ExitCode.pass);
  }
  const WHAT_DIFFERS =
    /the parts do not belong to one split matrix: commit differs \(tr118-cpu: unknown \(no git\) vs theirs: dddddddddddd\); model differs \(tr118-cpu: m \(sha256 ffffffffffff…\) vs theirs: other-project-model \(sha256 eeeeeeeeeeee…\)\); cell onnxruntime-cpu × s is measured by more than one part \(tr118-cpu, theirs\)/;

  it("tr118 merge and tr118 report: exit 2 naming what differs, nothing written; this project's stored part merges", async () => {
    const dir = tempDir();
    await setUp(dir);
    const refused = await runCliInProcess(
      ['merge', 'parts/tr118-cpu/results.json', 'theirs/main.json', '--out', 'merged'],
      dir,
    );
    expect(refused.code).toBe(ExitCode.usage);
    expect(refused.stdout).toBe('');
    expect(refused.stderr).toMatch(WHAT_DIFFERS);
    expect(refused.stderr).toMatch(/give --allow-part-differences commit,model,cells\n$/);
    expect(existsSync(path.join(dir, 'merged', 'merged.json'))).toBe(false);
    const report = await runCliInProcess(
      ['report', 'parts/tr118-cpu/results.json', 'theirs/main.json', '--out', 'r'],
      dir,
    );
    expect(report.code).toBe(ExitCode.usage);
    expect(report.stderr).toMatch(WHAT_DIFFERS);

    // A stored baseline is not refused as such: this project's own part, stored, merges with the other part ...
    const ours = await runCliInProcess(
      ['merge', 'parts/tr118-cpu/results.json', 'ours/gpu.json', '--out', 'ours-merged'],
      dir,
    );
    expect(ours.code).toBe(ExitCode.pass);
    expect(ours.stdout).toMatch(/^verdict: pass \(2 parts of a split matrix \(2 pass\); the worst part decides\)\n/);
    // ... and the other project's merges only when every difference named is allowed.
    const allowed = ['--allow-part-differences', 'commit,model,cells'];
    const forced = await runCliInProcess(
      ['merge', 'parts/tr118-cpu/results.json', 'theirs/main.json', '--out', 'm2', ...allowed],
      dir,
    );
    expect(forced.code).toBe(ExitCode.pass);
  });

  it("the Action's mode: merge: a failed step naming what differs, no verdict; this project's stored part merges", async () => {
    const dir = tempDir();
    await setUp(dir);
    const refused = await action(dir, { mode: 'merge', results: 'parts/tr118-cpu/results.json\ntheirs/main.json' });
    expect(refused.status).toBe(1);
    expect(refused.stdout).toMatch(/^::error::tr118: the parts do not belong to one split matrix: /m);
    expect(refused.stdout).toMatch(WHAT_DIFFERS);
    expect(refused.stdout).toMatch(/set the input allow-part-differences: commit,model,cells$/m);
    expect(refused.outputs).not.toContain('verdict');

    const ours = await action(dir, { mode: 'merge', results: 'parts/tr118-cpu/results.json\nours/gpu.json' });
    expect(ours.status).toBe(0);
    expect(ours.stdout).toMatch(/^merged 2 parts: ours \(.*\/ours\/gpu\.json\), tr118-cpu \(.*\)$/m);
    expect(ours.outputs).toMatch(/^verdict<<(\S+)\npass\n\1$/m);
  });
});

describe('a part folder named with a newline and a workflow command (issue 21)', () => {
  const hostile = 'tr118-gpu\n::error::x';
  /**
   * A CPU part and a part in the hostile folder. Failing, so that the output also holds the tool's own lines about
   * this part (the Action's annotations name it in their titles; the CLI's verdict names it).
   */
  const hostileParts = (): string => {
    const dir = tempDir();
    mkdirSync(path.join(dir, 'parts', 'tr118-cpu'), { recursive: true });
    mkdirSync(path.join(dir, 'parts', hostile));
    writePart(path.join(dir, 'parts', 'tr118-cpu', 'results.json'), 'onnxruntime-cpu');
    writePart(path.join(dir, 'parts', hostile, 'results.json'), 'ort-gpu', failing);
    return dir;
  };

  it("the Action's merge log: the name stays on its line; only the Action's own commands start a line with ::", async () => {
    const dir = hostileParts();

    const r = await action(dir, { mode: 'merge', results: 'parts/*/results.json' });
    expect(r.status).toBe(1);
    expect(r.outputs).toMatch(/^verdict<<(\S+)\nfail\n\1$/m);
    const lines = r.stdout.split('\n');
    // Lines the runner reads as commands: @actions/glob's debug lines (escaped by @actions/core), the failed
    // reason's annotation (its title, which names the part, escaped alike) and the failed step; never one that the
    // folder name started.
    const commands = lines.filter((l) => l.startsWith('::'));
    const toolkitDebug =
      /^::debug::(matchDirectories|followSymbolicLinks|implicitDescendants|omitBrokenSymbolicLinks|excludeHiddenFiles|Search path) /;
    expect(commands.filter((l) => !toolkitDebug.test(l))).toEqual([
      expect.stringMatching(/^::error title=tr118%3A tr118-gpu %3A%3Aerror%3A%3Ax%3A ort-gpu::perplexity rose$/),
      expect.stringMatching(/^::error::tr118: verdict fail \(2 parts of a split matrix \(1 fail, 1 pass\)/),
    ]);
    // The informational line that lists the parts (and their paths) is one line, the name and its path on it.
    const listed = lines.filter((l) => l.includes('merged 2 parts:'));
    expect(listed).toHaveLength(1);
    expect(listed[0]).toMatch(
      /^merged 2 parts: tr118-cpu \(.*\), tr118-gpu ::error::x \(.*tr118-gpu ::error::x\/results\.json\)$/,
    );
  });

  it('tr118 merge in a workflow step: no line of its stdout or stderr starts with ::, the failing part named', async () => {
    const dir = hostileParts();
    const parts = ['parts/tr118-cpu/results.json', `parts/${hostile}/results.json`];

    const failed = await runCliInProcess(['merge', ...parts, '--out', 'merged'], dir);
    expect(failed.code).toBe(ExitCode.gateFailed);
    const lines = `${failed.stdout}${failed.stderr}`.split(/[\n\r\u2028\u2029]/);
    expect(lines.filter((l) => l.startsWith('::'))).toEqual([]);
    expect(failed.stdout).toMatch(/^ {2}fail: tr118-gpu ::error::x: ort-gpu: perplexity rose$/m);

    // Refused (another commit in the hostile part): the usage error names it, and still starts no command.
    writePart(path.join(dir, 'parts', hostile, 'results.json'), 'ort-gpu', (r) => {
      failing(r);
      r.git = { commit: 'd'.repeat(40), dirty: false };
    });
    const refused = await runCliInProcess(['merge', ...parts, '--out', 'refused'], dir);
    expect(refused.code).toBe(ExitCode.usage);
    expect(refused.stderr).toContain('commit differs');
    expect(refused.stderr.split(/[\n\r\u2028\u2029]/).filter((l) => l.startsWith('::'))).toEqual([]);
  });
});
