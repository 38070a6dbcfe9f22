/** `tr118 report`: the reports of an earlier run rendered again from its results.json, measuring nothing. */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ExitCode } from '../../src/errors.js';
import { runCliInProcess } from '../helpers/cli.js';
import { tempDir } from '../helpers/fixture.js';
import { writePart, writeResults } from '../helpers/results.js';

describe('tr118 report RESULTS.json [--html] [--out DIR]', () => {
  it('writes report.md and summary.csv beside the results (report.html with --html), from the file alone', async () => {
    const dir = tempDir();
    mkdirSync(path.join(dir, 'old'));
    const file = writeResults(path.join(dir, 'old', 'results.json'));
    const plain = await runCliInProcess(['report', 'old/results.json'], dir);
    expect(plain).toMatchObject({ code: ExitCode.pass, stderr: '' });
    expect(plain.stdout).toBe(
      `wrote ${path.join(dir, 'old', 'report.md')}\nwrote ${path.join(dir, 'old', 'summary.csv')}\n`,
    );
    expect(readFileSync(path.join(dir, 'old', 'report.md'), 'utf8')).toMatch(/^# tr118 prefill benchmark: m\n/);
    expect(existsSync(path.join(dir, 'old', 'report.html'))).toBe(false);

    const html = await runCliInProcess(['report', file, '--html', '--out', 'new'], dir);
    expect(html.code).toBe(ExitCode.pass);
    const page = readFileSync(path.join(dir, 'new', 'report.html'), 'utf8');
    expect(page).toMatch(/^<!doctype html>/);
    expect(page).toContain('id="tr118-charts"');
    expect(page).toContain('id="medians"');
    // the results file itself is never rewritten
    expect(existsSync(path.join(dir, 'new', 'results.json'))).toBe(false);
  });

  it('several results.json, or the merged.json of mode: merge, give the merged report of the parts', async () => {
    const dir = tempDir();
    for (const [part, backend] of [
      ['tr118-cpu', 'onnxruntime-cpu'],
      ['tr118-gpu', 'ort-gpu'],
    ] as const) {
      mkdirSync(path.join(dir, 'parts', part), { recursive: true });
      writePart(path.join(dir, 'parts', part, 'results.json'), backend);
    }
    // As mode: merge records its parts: absolute paths of a runner that is gone; found again beside merged.json.
    writeFileSync(
      path.join(dir, 'parts', 'merged.json'),
      JSON.stringify({
        decision: 'pass',
        parts: ['tr118-cpu', 'tr118-gpu'].map((name) => ({
          name,
          file: `/home/runner/work/parts/${name}/results.json`,
          decision: 'pass',
        })),
      }),
    );
    const merged = await runCliInProcess(['report', 'parts/merged.json', '--html'], dir);
    expect(merged.code).toBe(ExitCode.pass);
    expect(readFileSync(path.join(dir, 'parts', 'report.md'), 'utf8')).toMatch(/^# tr118 prefill benchmark: 2 parts\n/);
    expect(readFileSync(path.join(dir, 'parts', 'report.html'), 'utf8')).toContain('<h2>Part tr118-gpu</h2>');
    const listed = await runCliInProcess(
      ['report', 'parts/tr118-cpu/results.json', 'parts/tr118-gpu/results.json', '--out', 'both'],
      dir,
    );
    expect(listed.code).toBe(ExitCode.pass);
    expect(readFileSync(path.join(dir, 'both', 'report.md'), 'utf8')).toMatch(/^## Part tr118-gpu$/m);
  });

  it.each([
    { name: 'no results file', args: ['report'], message: "error: missing required argument 'results'" },
    { name: 'a missing file', args: ['report', 'nowhere.json'], message: 'results {dir}/nowhere.json: no such file' },
    { name: 'not JSON', args: ['report', 'bad.txt'], message: 'results {dir}/bad.txt: not valid JSON' },
    {
      name: 'JSON that is not a results.json',
      args: ['report', 'other.json'],
      message: 'part {dir}/other.json: unknown results schema version null',
    },
    {
      name: 'a merged.json whose part is nowhere',
      args: ['report', 'lost/merged.json'],
      message: 'lost/merged.json: part "tr118-gpu": its results.json is not at /nowhere/results.json or',
    },
    { name: 'an empty --out', args: ['report', 'ok.json', '--out', ''], message: '--out: expected an output folder' },
  ])('refuses $name: exit 2, one line naming it', async ({ args, message }) => {
    const dir = tempDir();
    writeFileSync(path.join(dir, 'bad.txt'), 'not json');
    writeFileSync(path.join(dir, 'other.json'), '{"hello": 1}');
    writeResults(path.join(dir, 'ok.json'));
    mkdirSync(path.join(dir, 'lost'));
    writeFileSync(
      path.join(dir, 'lost', 'merged.json'),
      JSON.stringify({ parts: [{ name: 'tr118-gpu', file: '/nowhere/results.json' }] }),
    );
    const r = await runCliInProcess(args, dir);
    expect(r.code).toBe(ExitCode.usage);
    expect(r.stderr).toContain(message.replace('{dir}', dir));
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });
});

describe("tr118 merge PART… (the Action's mode: merge on any machine, with its exit code; issue 21)", () => {
  /** Two parts in `dir`: tr118-cpu (passes) and tr118-gpu (edited by `edit`, e.g. to fail). */
  function parts(dir: string, gpu: (r: Record<string, unknown>) => void = () => undefined, gpuBackend = 'ort-gpu') {
    return [
      ['tr118-cpu', 'onnxruntime-cpu', () => undefined],
      ['tr118-gpu', gpuBackend, gpu],
    ].map(([name, backend, edit]) => {
      mkdirSync(path.join(dir, name as string));
      writePart(path.join(dir, name as string, 'results.json'), backend as string, edit as (r: object) => void);
      return `${name as string}/results.json`;
    });
  }
  const failing = (r: Record<string, unknown>) => {
    const verdict = r.verdict as { decision: string; reasons: unknown[] };
    verdict.decision = 'fail';
    verdict.reasons = [{ rule: 'accuracy', subject: 'ort-gpu', decision: 'fail', message: 'perplexity rose' }];
  };

  it('parts that pass: exit 0, the merged report, report.html and merged.json', async () => {
    const dir = tempDir();
    const r = await runCliInProcess(['merge', ...parts(dir), '--out', 'merged'], dir);
    expect(r).toMatchObject({ code: ExitCode.pass, stderr: '' });
    expect(r.stdout).toMatch(/^verdict: pass \(2 parts of a split matrix \(2 pass\); the worst part decides\)\n/);
    for (const file of ['report.md', 'report.html', 'merged.json'])
      expect(existsSync(path.join(dir, 'merged', file))).toBe(true);
  });

  it("a part that fails: exit 1 (as the Action's step), the reason labelled by its part; --fail-on never: exit 0", async () => {
    const dir = tempDir();
    const files = parts(dir, failing);
    const r = await runCliInProcess(['merge', ...files, '--out', 'merged'], dir);
    expect(r.code).toBe(ExitCode.gateFailed);
    expect(r.stdout).toContain('  fail: tr118-gpu: ort-gpu: perplexity rose\n');
    expect((await runCliInProcess(['merge', ...files, '--out', 'merged2', '--fail-on', 'never'], dir)).code).toBe(
      ExitCode.pass,
    );
  });

  it('parts of two models: exit 2 naming what differs, nothing written; --allow-part-differences model merges them', async () => {
    const dir = tempDir();
    const files = parts(dir, (r) => (r.model = { ...(r.model as object), name: 'other', sha256: 'e'.repeat(64) }));
    const r = await runCliInProcess(['merge', ...files, '--out', 'merged'], dir);
    expect(r.code).toBe(ExitCode.usage);
    expect(r.stderr).toMatch(
      /^tr118: the parts do not belong to one split matrix: model differs \(tr118-cpu: m .* vs tr118-gpu: other .*give --allow-part-differences model\n$/,
    );
    expect(existsSync(path.join(dir, 'merged', 'merged.json'))).toBe(false);
    const allowed = await runCliInProcess(
      ['merge', ...files, '--out', 'merged', '--allow-part-differences', 'model'],
      dir,
    );
    expect(allowed.code).toBe(ExitCode.pass);
    // tr118 report of the same parts applies the same rule.
    expect((await runCliInProcess(['report', ...files, '--out', 'r'], dir)).code).toBe(ExitCode.usage);
  });
});
