/**
 * The pictures, checked where people look at them: a real headless Chromium (Debian's `chromium`, driven by
 * playwright-core) opens report.html of real fixture runs of the built CLI, and the PR comment's Mermaid charts
 * rendered by the Mermaid version GitHub uses. Any console error or warning, page error, failed request or request
 * for anything outside the page fails; every chart must have drawn marks. Screenshots go to a temp folder, and to
 * docs/ with TR118_UPDATE_SCREENSHOTS=1 (the README shows those). Skipped, saying why, only when there is no
 * chromium (.ci/run installs it).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { marked } from 'marked';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderComment } from '../../src/github/comment.js';
import { parseResults } from '../../src/results/read.js';
import type { Results } from '../../src/results/schema.js';
import { FIXTURE_MODEL, ROOT, tempDir, writeConfig } from '../helpers/fixture.js';
import { HANG_GUARD_MS, runProcess } from '../helpers/run.js';

const CHROMIUM = process.env.TR118_CHROMIUM ?? '/usr/bin/chromium';
const HAVE_CHROMIUM = existsSync(CHROMIUM);
/** The Mermaid version GitHub renders with (docs/output.md "Charts" says where that was found). */
const GITHUB_MERMAID_VERSION = '11.3.0';
const MERMAID_JS = path.join(ROOT, 'node_modules/mermaid/dist/mermaid.min.js');
const SHOTS = process.env.TR118_UPDATE_SCREENSHOTS ? path.join(ROOT, 'docs') : path.join(os.tmpdir(), 'tr118-browser');

// Three CPU backends (so the seed's question has an answer), same-run A/B against the fixture itself (so the
// paired ratios are drawn), perplexity and logits parity; small enough for a 2-core CI machine.
const MATRIX = `backends:
  - onnxruntime-cpu
  - { name: ort-cpu-basic, engine: onnxruntime, graph_optimization: basic }
  - { name: ort-cpu-1thread, engine: onnxruntime, intra_op_threads: 1 }
scenarios:
  single_micro: { batch: 1, seq_len: 8 }
  single_medium: { batch: 1, seq_len: 128 }
  batch_short: { batch: 4, seq_len: 32 }
repetitions: 4
warmup: 2
iterations: 20
accuracy: { max_tokens: 1024, window: 128, stride: 64 }
`;

async function tr118(args: string[]): Promise<string> {
  const r = await runProcess(process.execPath, [path.join(ROOT, 'dist/cli.js'), ...args]);
  // exit 0 or 1 (a gate may warn or fail on a busy machine): the pictures are what is tested here
  if (r.status !== 0 && r.status !== 1) throw new Error(`tr118 ${args.join(' ')}: exit ${r.status}\n${r.stderr}`);
  return r.stdout;
}

/** Opens `url` with every kind of trouble recorded and waits for `ready`; returns the troubles. */
async function visit(page: Page, url: string, ready: () => Promise<void>): Promise<{ problems: string[] }> {
  const problems: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') problems.push(`console ${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('requestfailed', (r) => problems.push(`failed request: ${r.url()}`));
  page.on('request', (r) => {
    if (r.url() !== url && !r.url().startsWith('data:')) problems.push(`request outside the page: ${r.url()}`);
  });
  await page.goto(url);
  await ready();
  return { problems };
}

describe.skipIf(!HAVE_CHROMIUM)(
  HAVE_CHROMIUM
    ? 'the pictures in headless Chromium'
    : `the pictures in headless Chromium: SKIPPED, no chromium at ${CHROMIUM} (apt-get install chromium; .ci/run installs it; TR118_CHROMIUM names another)`,
  () => {
    const dir = tempDir();
    let browser: Browser;
    let sameRun: Results;
    const sameRunHtml = path.join(dir, 'same-run', 'report.html');
    const storedHtml = path.join(dir, 'stored', 'report.html');

    beforeAll(async () => {
      const config = writeConfig(dir, MATRIX);
      const store = path.join(dir, 'store');
      await tr118(['run', '-c', config, '--base-model', FIXTURE_MODEL, '-o', path.join(dir, 'same-run'), '-q']);
      // A stored baseline with its history (one earlier plain run: a paired run's cells are not comparable with a
      // plain one's), then a run compared with it.
      await tr118(['run', '-c', config, '-o', path.join(dir, 'earlier'), '-q']);
      await tr118(['baseline', 'save', path.join(dir, 'earlier', 'results.json'), '--name', 'main', '--store', store]);
      await tr118(['run', '-c', config, '--baseline', 'main', '--store', store, '-o', path.join(dir, 'stored'), '-q']);
      sameRun = parseResults(JSON.parse(readFileSync(path.join(dir, 'same-run', 'results.json'), 'utf8')), 'run');
      browser = await chromium.launch({ executablePath: CHROMIUM });
      mkdirSync(SHOTS, { recursive: true });
    });
    afterAll(async () => {
      await browser?.close();
    });

    async function checkReport(file: string, screenshot: string | null) {
      const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
      const url = `file://${file}`;
      const result = await visit(page, url, () =>
        page
          .waitForFunction(
            "[...document.querySelectorAll('.vega')].every((el) => el.hasAttribute('data-rendered'))",
            null,
            // Playwright's own wait, a hang guard like the others (test/helpers/run.ts HANG_GUARD_MS).
            { timeout: HANG_GUARD_MS },
          )
          .then(() => undefined),
      );
      // In the page (no DOM types here: the expression is a string). Data marks only (Vega's role-mark groups),
      // not axes, legends or titles.
      // emptyLayers: mark groups that drew nothing (a threshold line without data, say).
      const charts = await page.evaluate<{ id: string; state: string | null; marks: number; emptyLayers: number }[]>(
        `[...document.querySelectorAll('.vega')].map((el) => ({ id: el.id, state: el.getAttribute('data-rendered'),
          marks: el.querySelectorAll('svg g.role-mark > path, svg g.role-mark > line, svg g.role-mark > rect').length,
          emptyLayers: [...el.querySelectorAll('svg g.role-mark')].filter((g) => g.children.length === 0).length }))`,
      );
      if (screenshot) await page.screenshot({ path: path.join(SHOTS, screenshot), fullPage: true });
      await page.close();
      return { ...result, charts };
    }

    it('report.html of a same-run A/B run: every chart drawn, nothing asked of the network, no console error', async () => {
      const { problems, charts } = await checkReport(sameRunHtml, 'report-html.png');
      expect(problems).toEqual([]);
      const ids = charts.map((c) => c.id);
      // the seed's answer, the change per cell, one paired-ratio histogram per cell, medians, one box plot per
      // scenario, perplexity with its band, parity
      expect(ids).toEqual(
        expect.arrayContaining([
          'answer',
          'change',
          'medians',
          'ppl',
          'parity',
          'paired-0',
          'paired-8',
          'dist-0',
          'dist-2',
        ]),
      );
      expect(ids.filter((id) => id.startsWith('paired-'))).toHaveLength(9);
      for (const c of charts)
        expect({ id: c.id, state: c.state, drawn: c.marks > 0 }).toEqual({ id: c.id, state: 'ok', drawn: true });
      // Every layer of the change chart and of the paired ratios draws: band, bars, 1, warn, fail and the estimate.
      for (const c of charts.filter((x) => x.id === 'change' || x.id.startsWith('paired-')))
        expect({ id: c.id, emptyLayers: c.emptyLayers }).toEqual({ id: c.id, emptyLayers: 0 });
    });

    it('report.html of a run against a stored baseline: the history chart and the stored base beside the candidate', async () => {
      const { problems, charts } = await checkReport(storedHtml, null);
      expect(problems).toEqual([]);
      const ids = charts.map((c) => c.id);
      expect(ids).toEqual(expect.arrayContaining(['change', 'history-0', 'history-2', 'dist-0']));
      for (const c of charts)
        expect({ id: c.id, state: c.state, drawn: c.marks > 0 }).toEqual({ id: c.id, state: 'ok', drawn: true });
      expect(readFileSync(storedHtml, 'utf8')).toContain('base (stored)');
    });

    it(`the PR comment's Mermaid charts render with Mermaid ${GITHUB_MERMAID_VERSION}, GitHub's version`, async () => {
      const installed = JSON.parse(readFileSync(path.join(ROOT, 'node_modules/mermaid/package.json'), 'utf8')) as {
        version: string;
      };
      expect(installed.version).toBe(GITHUB_MERMAID_VERSION);
      const comment = renderComment(sameRun, 'https://github.com/o/r/actions/runs/42', 'tr118-report');
      const blocks = comment.match(/```mermaid\n[\s\S]*?```/g) ?? [];
      expect(blocks.length).toBeGreaterThanOrEqual(3);
      // The comment as GitHub shows it, roughly: GFM to HTML, <details> opened, ```mermaid blocks handed to Mermaid.
      const body = (await marked.parse(comment, { gfm: true }))
        .replace(/<details>/g, '<details open>')
        .replace(/<pre><code class="language-mermaid">([\s\S]*?)<\/code><\/pre>/g, '<pre class="mermaid">$1</pre>');
      const file = path.join(dir, 'comment.html');
      writeFileSync(
        file,
        `<!doctype html><html><head><meta charset="utf-8"><link rel="icon" href="data:,"><style>
body { font: 14px/1.5 -apple-system, "Segoe UI", system-ui, sans-serif; color: #1f2328; max-width: 860px; margin: 1rem auto; padding: 0 1rem; }
table { border-collapse: collapse; } th, td { border: 1px solid #d0d7de; padding: 4px 10px; } blockquote { color: #57606a; border-left: 4px solid #d0d7de; margin: 0; padding: 0 1rem; }
pre.mermaid { background: none; } details { margin: .5rem 0; }
</style></head><body class="markdown-body">${body}</body></html>`,
      );
      const page = await browser.newPage({ viewport: { width: 900, height: 900 } });
      const { problems } = await visit(page, `file://${file}`, async () => {
        await page.addScriptTag({ path: MERMAID_JS });
        await page.evaluate(
          "mermaid.initialize({ startOnLoad: false, theme: 'default' }); mermaid.run({ querySelector: 'pre.mermaid' })",
        );
      });
      const drawn = await page.evaluate<{ svg: boolean; error: boolean; marks: number }[]>(
        `[...document.querySelectorAll('pre.mermaid')].map((el) => ({ svg: el.querySelector('svg') !== null,
          error: /syntax error|error in text/i.test(el.textContent ?? ''),
          marks: el.querySelectorAll('svg g.plot rect, svg g.plot path').length }))`,
      );
      // As a reader first sees it: the full report folded (the charts were drawn open, where Mermaid can measure).
      await page.evaluate(
        "document.querySelectorAll('details').forEach((d) => { if (d.textContent.includes('Full report')) d.open = false; })",
      );
      await page.screenshot({ path: path.join(SHOTS, 'pr-comment.png'), fullPage: true });
      await page.close();
      expect(problems).toEqual([]);
      expect(drawn).toHaveLength(blocks.length);
      for (const d of drawn)
        expect({ svg: d.svg, error: d.error, drawn: d.marks > 0 }).toEqual({ svg: true, error: false, drawn: true });
    });
  },
);
