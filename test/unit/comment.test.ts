import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConfig, type Config } from '../../src/config/load.js';
import type { Environment } from '../../src/env/collect.js';
import { ratioDefinitions, type Comparison } from '../../src/gate/compare.js';
import { decide } from '../../src/gate/verdict.js';
import { COMMENT_MARKER, renderComment, renderMergedComment } from '../../src/github/comment.js';
import { INPUTS, OUTPUTS } from '../../src/github/inputs.js';
import type { Measurement } from '../../src/measure/records.js';
import { renderSummaryCsv } from '../../src/report/csv.js';
import { renderMarkdown } from '../../src/report/markdown.js';
import { buildResults } from '../../src/results/build.js';
import type { MeasuredResults, Results } from '../../src/results/schema.js';
import { verdictRules, withJudgement } from '../../src/results/judgement.js';
import { mergeVerdicts, type Part } from '../../src/results/merge.js';
import { ROOT } from '../helpers/fixture.js';

const CONFIG = parseConfig(
  'model: { onnx: m.onnx, name: "sotu <b>tiny</b>" }\ninputs: { tokens: t.json }\nbackends: [onnxruntime-cpu]\nscenarios:\n  single_micro: { batch: 1, seq_len: 8 }\nrepetitions: 2\niterations: 3\n',
  'tr118.yml',
  '/repo',
);
const ENV: Environment = {
  toolVersion: '0.1.0',
  nodeVersion: 'v20.20.2',
  onnxruntimeVersion: '1.30.0',
  os: 'Linux x64',
  cpuModel: 'Test CPU',
  cpuCount: 2,
  totalMemoryMiB: 1024,
  gpus: [],
  gpuNote: 'no GPU',
};
const AT = '2026-11-28T00:00:00.000Z';
const MEASUREMENT: Measurement = {
  backends: [{ kind: 'backend', backend: 'onnxruntime-cpu', side: 'candidate', status: 'ok', at: AT }],
  runs: [0, 1].map((repetition) => ({
    kind: 'run',
    backend: 'onnxruntime-cpu',
    side: 'candidate',
    scenario: 'single_micro',
    repetition,
    sequence: repetition,
    batch: 1,
    seqLen: 8,
    realTokens: 8,
    warmup: 3,
    iterations: 3,
    status: 'ok',
    latenciesMs: [1, 1.1, 1.2].map((x) => x + repetition / 10),
    at: AT,
  })),
  accuracy: [
    {
      kind: 'accuracy',
      backend: 'onnxruntime-cpu',
      side: 'candidate',
      status: 'ok',
      nllSum: 400,
      scoredTokens: 100,
      windows: 1,
      at: AT,
    },
  ],
  parity: [],
};

/** A run judged with the given comparison (a made-up one here), the way results/judgement.ts judges every run. */
function withComparison(measured: MeasuredResults, config: Config, comparison: Comparison | null): Results {
  const verdict = decide(measured, verdictRules(config), { comparison });
  return withJudgement(measured, { verdict, comparison }, null);
}

function results(measurement: Measurement = MEASUREMENT): Results {
  return withComparison(measured(measurement), CONFIG, null);
}

function measured(measurement: Measurement = MEASUREMENT): MeasuredResults {
  return buildResults({
    config: CONFIG,
    measurement,
    model: { name: 'sotu <b>tiny</b>', path: '/repo/m.onnx', sha256: 'f'.repeat(64), bytes: 1_000_000 },
    backendModels: [],
    environment: ENV,
    git: null,
    startedAt: new Date(AT),
    finishedAt: new Date('2026-11-28T00:00:10.000Z'),
    evaluatedTokens: 101,
    evalTokens: { file: '/repo/t.json', tokenizer: 'ids' },
  });
}

function comparison(decision: 'fail' | 'inconclusive'): Comparison {
  return {
    mode: 'same-run',
    base: { label: 'main.onnx', startedAt: AT, modelSha256: 'e'.repeat(64) },
    cells: [
      {
        backend: 'onnxruntime-cpu',
        scenario: 'single_micro',
        decision,
        reason:
          decision === 'fail'
            ? 'slower by 12.0% (paired, 95% CI 8.0% … 16.0%; medians +12.4%), +0.130 ms: above the fail threshold 5.0%'
            : 'change 2.0% is not significant, but the interval (paired, 95% CI -3.0% … 9.0%; medians +1.9%) is too wide to rule out a slowdown beyond 5.0%; minimum detectable effect ≈ 7.0% (add repetitions or iterations)',
        baseMedianMs: 1.05,
        candidateMedianMs: decision === 'fail' ? 1.18 : 1.07,
        ratio: decision === 'fail' ? 1.12 : 1.02,
        ratioCi: decision === 'fail' ? [1.08, 1.16] : [0.97, 1.09],
        medianRatio: decision === 'fail' ? 1.18 / 1.05 : 1.07 / 1.05,
        deltaMs: decision === 'fail' ? 0.13 : 0.02,
        minDetectableFraction: 0.05,
        baseTokensPerSecond: 7619,
        candidateTokensPerSecond: 6780,
        differences: [],
      },
    ],
    accuracy: [
      {
        backend: 'onnxruntime-cpu',
        precision: 'fp32',
        basePerplexity: 54.6,
        candidatePerplexity: 54.6,
        deltaFraction: 0,
        thresholdFraction: 0.001,
        decision: 'pass',
        reason: 'perplexity 54.6000 → 54.6000 (+0.0%)',
      },
    ],
  };
}

const RUN_URL = 'https://github.com/o/r/actions/runs/42';

describe('the PR comment, exact text', () => {
  it.each([
    { name: 'pass', make: () => results() },
    { name: 'fail', make: () => withComparison(measured(), CONFIG, comparison('fail')) },
    { name: 'inconclusive', make: () => withComparison(measured(), CONFIG, comparison('inconclusive')) },
  ])('$name', async ({ name, make }) => {
    const text = renderComment(make(), RUN_URL).replace(/Duration: .* s\./, 'Duration: X s.');
    expect(text.startsWith(`${COMMENT_MARKER}\n`)).toBe(true);
    await expect(text).toMatchFileSnapshot(`./__snapshots__/comment-${name}.md`);
  });

  it('leads with the verdict and the cells that decided it', () => {
    const text = renderComment(withComparison(measured(), CONFIG, comparison('fail')), RUN_URL);
    const lines = text.split('\n');
    expect(lines[1]).toBe(
      '❌ **tr118: fail** — same-run A/B against the base model main.onnx (interleaved, paired by repetition): latency and perplexity; degraded runs per cell',
    );
    expect(lines[3]).toBe('Decided by:');
    expect(lines[5]).toMatch(/^- \*\*onnxruntime-cpu × single_micro\*\* \(latency\): fail: slower by 12\.0%/);
    expect(text).toContain('xychart-beta');
  });
});

describe('report.md and summary.csv say what each figure is', () => {
  it('same-run A/B: the paired change and the ratio of medians, each under its own name', () => {
    const c = comparison('fail');
    const cell = { ...c.cells[0]!, ratio: 1.014, ratioCi: [1.009, 1.02] as const, medianRatio: 1.207 };
    const md = renderMarkdown(withComparison(measured(), CONFIG, { ...c, cells: [cell] }));
    expect(md).not.toContain('Change = candidate ÷ base median latency − 1');
    expect(md).toContain(`- \`change\` (\`change_ci\`): ${ratioDefinitions('same-run').ratio}`);
    expect(md).toContain(`- \`median_change\`: ${ratioDefinitions('same-run').medianRatio}`);
    const header = md.split('\n').find((l) => l.startsWith('| Backend ') && l.includes('median_change'))!;
    const row = md.split('\n').find((l) => l.startsWith('| onnxruntime-cpu ') && l.includes('❌'))!;
    const column = (name: string): string | undefined => {
      const at = header.split('|').findIndex((h) => h.trim() === name);
      return row.split('|')[at]?.trim();
    };
    expect([column('median_change'), column('change'), column('change_ci')]).toEqual([
      '+20.7%',
      '+1.4%',
      '[+0.9%, +2.0%]',
    ]);
  });

  it('a mean interval that would reach below zero is "n too small" in report.md and empty in summary.csv', () => {
    // 2 repetitions whose means differ threefold: the t-interval (df 1) would be about 2.2 ± 14 ms
    const wide: Measurement = {
      ...MEASUREMENT,
      runs: MEASUREMENT.runs.map((r) => ({
        ...r,
        latenciesMs: r.latenciesMs.map((ms) => ms * (1 + 2 * r.repetition)),
      })),
    };
    const r = results(wide);
    expect(r.cells[0]!.stats!.latencyMs.meanCi95).toBeNull();
    const row = renderMarkdown(r)
      .split('\n')
      .find((l) => l.startsWith('| onnxruntime-cpu | single_micro | 1×8 '))!;
    expect(row).toContain('| n too small |');
    expect(row).not.toMatch(/\[-/);
    const [header, line] = renderSummaryCsv(r).trim().split('\n') as [string, string];
    const fields = Object.fromEntries(header.split(',').map((h, i) => [h, line.split(',')[i]]));
    expect(fields).toMatchObject({
      lat_mean_ci95_low: '',
      lat_mean_ci95_high: '',
      thr_mean_ci95_low: '',
      thr_mean_ci95_high: '',
    });
    expect(Number(fields.lat_median_ci95_low)).toBeGreaterThan(0);
  });
});

describe('the merged comment of a split matrix, exact text', () => {
  const parts: Part[] = [
    { name: 'tr118-cpu', file: 'parts/tr118-cpu/results.json', results: results() },
    {
      name: 'tr118-gpu <b>',
      file: 'parts/tr118-gpu/results.json',
      results: withComparison(measured(), CONFIG, comparison('fail')),
    },
  ];

  it('the worst part decides; its reasons carry the part name; charts per compared part', async () => {
    const merged = mergeVerdicts(parts);
    expect(merged.decision).toBe('fail');
    expect(merged.regressions).toBe(1);
    expect(merged.basis).toBe('2 parts of a split matrix (1 fail, 1 pass); the worst part decides');
    const text = renderMergedComment(merged, parts, RUN_URL).replace(/Duration: .* s\./g, 'Duration: X s.');
    expect(text.split('\n').slice(0, 8)).toEqual([
      COMMENT_MARKER,
      '❌ **tr118: fail** — 2 parts of a split matrix (1 fail, 1 pass); the worst part decides',
      '',
      'Decided by:',
      '',
      expect.stringMatching(
        /^- \*\*tr118-gpu \\<b\\>: onnxruntime-cpu × single_micro\*\* \(latency\): fail: slower by 12\.0%/,
      ),
      '',
      '- tr118-cpu: ✅ **pass**',
    ]);
    // the compared part: its change chart in the open, its medians folded; the other part has no comparison
    expect(text.match(/xychart-beta/g)).toHaveLength(2);
    expect(text).toContain('title "tr118-gpu b: latency change per cell (candidate / base)"');
    await expect(text).toMatchFileSnapshot('./__snapshots__/comment-merged.md');
  });

  it('all parts passing gives pass', () => {
    const merged = mergeVerdicts([parts[0]!, { ...parts[0]!, name: 'tr118-cpu-2' }]);
    expect(merged).toMatchObject({ decision: 'pass', regressions: 0 });
    expect(merged.basis).toBe('2 parts of a split matrix (2 pass); the worst part decides');
  });
});

describe('a run whose model is named "@octo/team see https://evil.example"', () => {
  const HOSTILE = '@octo/team see https://evil.example';
  const config = parseConfig(
    `model: { onnx: "@octo/m.onnx", name: "${HOSTILE}" }\ninputs: { tokens: t.json }\nbackends: [onnxruntime-cpu]\nscenarios:\n  single_micro: { batch: 1, seq_len: 8 }\nrepetitions: 2\niterations: 3\n`,
    'tr118.yml',
    '/repo',
  );
  // A worker's error carries user text too: the reason of a degraded run.
  const measurement: Measurement = {
    ...MEASUREMENT,
    runs: [
      ...MEASUREMENT.runs,
      {
        ...MEASUREMENT.runs[0]!,
        repetition: 1,
        sequence: 2,
        status: 'degraded',
        reason: `cannot read ${HOSTILE} <img src=x> [x](https://evil.example) fixes #1`,
        latenciesMs: [],
      },
    ],
  };
  const hostileResults = (): Results =>
    withComparison(
      buildResults({
        config,
        measurement,
        model: { name: HOSTILE, path: `/repo/${HOSTILE}.onnx`, sha256: 'f'.repeat(64), bytes: 1_000_000 },
        backendModels: [],
        environment: ENV,
        git: null,
        startedAt: new Date(AT),
        finishedAt: new Date('2026-11-28T00:00:10.000Z'),
        evaluatedTokens: 101,
        evalTokens: { file: `/repo/${HOSTILE}.json`, tokenizer: 'ids' },
      }),
      config,
      { ...comparison('fail'), base: { label: HOSTILE, startedAt: AT, modelSha256: 'e'.repeat(64) } },
    );

  it('renders neither a mention nor a link anywhere in report.md and the comment', () => {
    const report = renderMarkdown(hostileResults());
    const comment = renderComment(hostileResults(), RUN_URL);
    expect(report.split('\n')[0]).toBe('# tr118 prefill benchmark: @\u200bocto/team see https:\u200b//evil.example');
    expect(report).toContain(
      ': cannot read @\u200bocto/team see https:\u200b//evil.example \\<img src=x\\> ' +
        '\\[x\\](https:\u200b//evil.example) fixes #\u200b1\n',
    );
    expect(report).toMatch(/^\| model +\| \/repo\/@\u200bocto\/team see https:\u200b\/\/evil\.example\.onnx +\|$/m);
    expect(report).toContain('Base: @\u200bocto/team see https:\u200b//evil.example (model sha256');
    for (const text of [report, comment]) {
      expect(text).not.toMatch(/@(?!\u200b)/); // no mention (nor an e-mail autolink)
      expect(text).not.toMatch(/#(?!\u200b)\d/); // no issue reference
      expect(text).not.toMatch(/https?:\/\/(?!github\.com\/o\/r\/actions\/runs\/42\))/); // no URL but the run's
      expect(text).not.toMatch(/www\./);
      // no raw HTML but the comment's own marker (once) and the <details> that fold charts and the report
      const tags = text.match(/(?<!\\)<[^>]*>/g) ?? [];
      const folds = ['<details>', '<summary>', '</summary>', '</details>'];
      expect(tags.filter((t) => !folds.includes(t))).toEqual(text === comment ? [COMMENT_MARKER] : []);
      if (text === comment) expect(tags.filter((t) => t === '<details>').length).toBeGreaterThan(0);
    }
    // The only link: the workflow run's.
    expect(comment.match(/(?<!\\)\]\(/g)).toHaveLength(1);
    expect(comment).toContain(`[Workflow run](${RUN_URL})`);
    expect(report).not.toMatch(/(?<!\\)\]\(/);
  });
});

describe('action.yml', () => {
  const yml = readFileSync(path.join(ROOT, 'action.yml'), 'utf8');
  it('declares exactly the inputs and outputs the code reads and writes, and runs dist/index.js', () => {
    const block = (name: string) =>
      [...(yml.split(`\n${name}:\n`)[1]?.split(/\n(?=\S)/)[0] ?? '').matchAll(/^ {2}([a-z0-9-]+):$/gm)].map(
        (m) => m[1],
      );
    expect(block('inputs').sort()).toEqual(Object.values(INPUTS).sort());
    expect(block('outputs').sort()).toEqual(Object.values(OUTPUTS).sort());
    expect(yml).toMatch(/runs:\n {2}using: node24\n {2}main: dist\/index\.js/);
  });
});

describe('README', () => {
  const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  it('documents every input and output of action.yml', () => {
    for (const name of [...Object.values(INPUTS), ...Object.values(OUTPUTS)])
      expect(readme).toContain(`| \`${name}\` |`);
  });
});
