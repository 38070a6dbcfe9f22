/** results → report.md: the seed report's tables, with the verdict first. Pure: one builder, many sinks. */
import { parityNotComparedLines } from './parity-lines.js';
import { sessionNotesOf, settingsOf } from '../engines/registry.js';
import { markdownTable } from 'markdown-table';
import { median } from 'simple-statistics';
import { DEFAULT_MAX_SECONDS } from '../config/schema.js';
import { ratioDefinitions, type CellDecision } from '../gate/compare.js';
import type { Results } from '../results/schema.js';
import { escapeUntrusted } from './escape.js';
import { answerSeedQuestion, type AnswerDecision, type SeedAnswer } from './answer.js';
import { artifactTables } from './artifact-tables.js';
import { gitText, gpuClockLines, phasesLine } from './environment.js';
import { interval, num } from '../format.js';
import { answerChart, backendChart, changeChart, medianChart, speedupText } from './mermaid.js';

export const VERDICT_ICON = { pass: '✅', warn: '⚠️', fail: '❌', inconclusive: '❔' } as const;
const DECISION_ICON: Record<CellDecision, string> = {
  pass: '✅',
  improvement: '🚀',
  new: '🆕',
  warn: '⚠️',
  fail: '❌',
  inconclusive: '❔',
  incomparable: '≠',
  missing: '∅',
};

function signedPercent(fraction: number): string {
  return `${fraction >= 0 ? '+' : ''}${(fraction * 100).toFixed(1)}%`;
}

export interface MarkdownOptions {
  /**
   * Mermaid charts beside the tables (default true). The PR comment draws its own charts above the folded report
   * and renders the report without them, so no chart appears twice.
   */
  readonly charts?: boolean;
}

/** The seed's question answered (when more than one backend ran): a table, and a chart beside it. */
export function renderAnswer(
  answer: SeedAnswer,
  options: { readonly charts: boolean; readonly heading: string },
): string[] {
  const out: string[] = [];
  const level = `${Math.round(answer.confidence * 100)}%`;
  out.push(
    options.heading,
    '',
    `Can another backend match or exceed the baseline backend **${escapeUntrusted(answer.baselineBackend)}** ` +
      `(${escapeUntrusted(answer.baselineFrom)}) while preserving accuracy? Per scenario, the fastest backend that ` +
      `${escapeUntrusted(answer.accuracyBasis)}, and its speed-up: the baseline's median ÷ its median, with a ${level} ` +
      'bootstrap interval; "not decidable" where the interval includes 1 (or the runner-up ties with the baseline). ' +
      `Figure compared: ${escapeUntrusted(answer.figureBasis)}.`,
    '',
    markdownTable([
      ['Scenario', 'Fastest accurate backend', 'Speed-up', `${level} CI`, 'Answer'],
      ...answer.rows.map((r) => [
        escapeUntrusted(r.scenario),
        r.fastest
          ? escapeUntrusted(r.fastest) + (r.tiedWith ? ` (tied with ${escapeUntrusted(r.tiedWith)})` : '')
          : '—',
        speedupText(r.speedup),
        r.speedupCi ? `[${speedupText(r.speedupCi[0])}, ${speedupText(r.speedupCi[1])}]` : '—',
        `${ANSWER_ICON[r.decision]} ${escapeUntrusted(r.text)}`,
      ]),
    ]),
    '',
  );
  if (options.charts) {
    const c = answerChart(answer);
    if (c) out.push(...c.lines);
  }
  return out;
}

const ANSWER_ICON: Record<AnswerDecision, string> = {
  faster: '🚀',
  'baseline fastest': '🟰',
  'not decidable': '❔',
  'no answer': '∅',
};

export function renderMarkdown(results: Results, options: MarkdownOptions = {}): string {
  const charts = options.charts ?? true;
  return [
    ...headerSection(results, charts),
    ...comparisonSection(results, charts),
    ...backendSummarySection(results),
    ...scenarioSection(results, charts),
    ...accuracySection(results),
    ...setupSection(results),
    ...methodSection(results),
  ].join('\n');
}

/** The title, the verdict and its reasons, notes, and the seed's question answered. */
function headerSection(results: Results, charts: boolean): string[] {
  const out: string[] = [];
  const v = results.verdict;
  out.push(`# tr118 prefill benchmark: ${escapeUntrusted(results.model.name)}`, '');
  out.push(`**Verdict: ${VERDICT_ICON[v.decision]} ${v.decision}** — ${escapeUntrusted(v.basis)}.`, '');
  if (v.reasons.length > 0) {
    for (const r of v.reasons)
      out.push(
        `- ${VERDICT_ICON[r.decision]} **${escapeUntrusted(r.subject)}** (${escapeUntrusted(r.rule)}): ${escapeUntrusted(r.message)}`,
      );
    out.push('');
  }
  for (const note of results.notes) out.push(`> ⚠️ ${escapeUntrusted(note)}`, '');
  const answer = answerSeedQuestion(results);
  if (answer) out.push(...renderAnswer(answer, { charts, heading: '## Fastest accurate backend per scenario' }));
  return out;
}

/** The comparison with the same-run base or the stored baseline, per cell and for accuracy. */
function comparisonSection(results: Results, charts: boolean): string[] {
  const out: string[] = [];
  const comparison = results.comparison;
  if (comparison) {
    const title =
      comparison.mode === 'same-run' ? 'Same-run A/B against the base model' : 'Comparison with the stored baseline';
    out.push(`## ${title}`, '');
    const defined = ratioDefinitions(comparison.mode);
    out.push(
      `Base: ${escapeUntrusted(comparison.base.label)} (model sha256 ${escapeUntrusted(comparison.base.modelSha256.slice(0, 12))}…, measured ${escapeUntrusted(comparison.base.startedAt)}).`,
      '',
      `- \`change\` (\`change_ci\`): ${defined.ratio}; as a percentage (ratio − 1).`,
      `- \`median_change\`: ${defined.medianRatio}; as a percentage. \`delta_ms\`: candidate median − base median.`,
      '',
    );
    out.push(
      markdownTable([
        [
          'Backend',
          'Scenario',
          'Decision',
          'base_median_ms',
          'cand_median_ms',
          'median_change',
          'change',
          'change_ci',
          'delta_ms',
          'min_detectable',
          'Reason',
        ],
        ...comparison.cells.map((c) => [
          escapeUntrusted(c.backend),
          escapeUntrusted(c.scenario),
          `${DECISION_ICON[c.decision]} ${escapeUntrusted(c.decision)}`,
          num(c.baseMedianMs),
          num(c.candidateMedianMs),
          c.medianRatio === null ? '—' : signedPercent(c.medianRatio - 1),
          c.ratio === null ? '—' : signedPercent(c.ratio - 1),
          c.ratioCi ? `[${signedPercent(c.ratioCi[0] - 1)}, ${signedPercent(c.ratioCi[1] - 1)}]` : '—',
          num(c.deltaMs, 3),
          c.minDetectableFraction === null ? '—' : signedPercent(c.minDetectableFraction),
          escapeUntrusted(c.reason),
        ]),
      ]),
      '',
    );
    if (charts) {
      for (const c of [changeChart(results), medianChart(results)]) if (c) out.push(...c.lines);
    }
    if (comparison.accuracy.length > 0) {
      out.push(
        markdownTable([
          ['Backend', 'base PPL', 'candidate PPL', 'Δ frac', 'Threshold', 'Decision'],
          ...comparison.accuracy.map((a) => [
            escapeUntrusted(a.backend),
            num(a.basePerplexity, 6),
            num(a.candidatePerplexity, 6),
            num(a.deltaFraction, 3),
            num(a.thresholdFraction, 3),
            escapeUntrusted(a.decision),
          ]),
        ]),
        '',
      );
    }
  }
  return out;
}

/** Per backend: geometric means across scenarios of each cell's median. */
function backendSummarySection(results: Results): string[] {
  const out: string[] = [];
  out.push('## Overall backend summary', '');
  out.push(
    'Latency and throughput here are **geometric means across scenarios of each cell’s median** (never a pooled ' +
      'interval over different shapes); the interval is a bootstrap of that geometric mean.',
    '',
  );
  out.push(
    markdownTable([
      [
        'Backend',
        'Status',
        'n_ok',
        'n_total',
        'degraded_rate',
        'scenarios',
        'lat_geomean_median_ms',
        'lat_ci95',
        'thr_geomean_tok_s',
      ],
      ...results.backends.map((b) => [
        escapeUntrusted(b.spec.name),
        escapeUntrusted(b.status),
        String(b.okRuns),
        String(b.runs),
        num(b.degradedRate, 3),
        b.geomean ? `${b.geomean.scenarios}/${results.cells.filter((c) => c.backend === b.spec.name).length}` : '0',
        num(b.geomean?.latencyMs),
        interval(b.geomean?.latencyCi95),
        num(b.geomean?.tokensPerSecond),
      ]),
    ]),
    '',
  );
  return out;
}

/** Per cell: the latency and throughput statistics. */
function scenarioSection(results: Results, charts: boolean): string[] {
  const out: string[] = [];
  out.push('## Per-scenario summary', '');
  // GPU workers also time end to end (host ids in, host logits out): shown beside, never gated.
  const endToEnd = results.cells.some((c) => c.endToEnd !== null);
  out.push(
    markdownTable([
      [
        'Backend',
        'Scenario',
        'batch×seq',
        'n_ok/n',
        'median_ms',
        'median_ci95',
        'mean_ms',
        'mean_ci95',
        'p95_ms',
        'p99_ms',
        'thr_tok_s',
        ...(endToEnd ? ['e2e_median_ms', 'e2e_p95_ms'] : []),
      ],
      // Unavailable backends have no cells to show; the setup table says why.
      ...results.cells
        .filter((c) => c.status !== 'unavailable')
        .map((c) => [
          escapeUntrusted(c.backend),
          escapeUntrusted(c.scenario),
          `${c.batch}×${c.seqLen}`,
          `${c.runs - c.degradedRuns}/${c.runs}`,
          num(c.stats?.latencyMs.median),
          interval(c.stats?.latencyMs.medianCi95),
          num(c.stats?.latencyMs.mean),
          // summary.csv leaves the same interval empty
          c.stats && !c.stats.latencyMs.meanCi95 ? 'n too small' : interval(c.stats?.latencyMs.meanCi95),
          num(c.stats?.latencyMs.p95),
          num(c.stats?.latencyMs.p99),
          num(c.stats?.tokensPerSecond.atMedian),
          ...(endToEnd ? [num(c.endToEnd?.medianMs), num(c.endToEnd?.p95Ms)] : []),
        ]),
    ]),
    '',
  );
  const perBackend = charts ? backendChart(results) : null;
  if (perBackend) out.push(...perBackend.lines);
  if (endToEnd) {
    out.push(
      '`median_ms` … `thr_tok_s`: the gated figure (on a GPU worker the forward pass on the device); `e2e_*`: the same ' +
        'passes end to end, host inputs to host logits (see "Backends and setup").',
      '',
    );
  }
  return out;
}

/** The accuracy gate: perplexity against the reference, logits parity. */
function accuracySection(results: Results): string[] {
  const out: string[] = [];
  if (results.accuracy) {
    const a = results.accuracy;
    out.push('## Accuracy (perplexity gate)', '');
    const probe = a.parityProbe
      ? `; logits parity on a ${a.parityProbe.batch}×${a.parityProbe.seqLen} probe batch`
      : '';
    out.push(
      `Evaluation tokens: ${a.evaluatedTokens} (${a.tokenizer === 'ids' ? 'token ids' : a.tokenizer === 'bytes' ? 'UTF-8 bytes' : 'tokenizer.json'} from ${escapeUntrusted(a.tokensFrom)}), ` +
        `window ${a.windowTokens}, stride ${a.strideTokens}${probe}; ` +
        `reference: ${a.reference ? escapeUntrusted(a.reference) : `none (${escapeUntrusted(a.referenceProblem ?? '')})`}.`,
      '',
    );
    out.push(
      markdownTable([
        [
          'Backend',
          'PPL',
          'Δ frac',
          'Threshold',
          'Pass',
          'Error',
          'mean NLL',
          'scored tokens',
          'max abs Δ logit',
          'mean abs Δ logit',
          'top-1 agree',
        ],
        ...a.rows.map((r) => [
          escapeUntrusted(r.backend) + (r.isReference ? ' (reference)' : ''),
          num(r.perplexity, 6),
          num(r.deltaFraction, 3),
          num(r.thresholdFraction, 3),
          r.pass === null ? '—' : r.pass ? 'True' : 'False',
          r.error ? escapeUntrusted(r.error) : '—',
          num(r.meanNll, 6),
          r.scoredTokens === null ? '—' : String(r.scoredTokens),
          num(r.maxAbsLogitDelta, 3),
          num(r.meanAbsLogitDelta, 3),
          num(r.top1Agreement, 4),
        ]),
      ]),
      '',
    );
    const skipped = parityNotComparedLines(a);
    if (skipped.length > 0) out.push(...skipped.map((line) => `- ${escapeUntrusted(line)}`), '');
  }
  return out;
}

/** How each backend ran: its settings, what its timer covers, its runtime; the artifacts and model files. */
function setupSection(results: Results): string[] {
  const out: string[] = [];
  out.push('## Backends and setup', '');
  out.push(
    markdownTable([
      [
        'Backend',
        'Engine',
        'Providers',
        'Precision',
        'Threads (intra/inter)',
        'Settings',
        'Session open ms',
        'Compile ms',
        'Status',
        'Reason',
      ],
      ...results.backends.map((b) => [
        escapeUntrusted(b.spec.name),
        escapeUntrusted(b.spec.engine),
        escapeUntrusted(b.session ? b.session.providers.join(' → ') : '—'),
        escapeUntrusted(b.spec.precision),
        `${b.spec.intraOpThreads || 'default'}/${b.spec.interOpThreads || 'default'}`,
        escapeUntrusted(settingsOf(b.spec)),
        num(b.session?.openMs),
        num(b.session?.compileMs),
        escapeUntrusted(b.status),
        b.reason ? escapeUntrusted(b.reason) : '—',
      ]),
    ]),
    '',
  );
  // What one latency sample is differs by engine and device: said per backend, never assumed alike.
  const opened = results.backends.filter((b) => b.session !== null);
  if (opened.length > 0) {
    out.push("What each backend's latency covers (the gated figure; GPU workers also report an end-to-end one):", '');
    for (const b of opened) {
      const session = b.session!;
      const covers = session.timerCovers ?? results.method.timerCovers;
      const endToEnd = session.endToEndTimerCovers ? `; ${escapeUntrusted(session.endToEndTimerCovers)}` : '';
      out.push(`- **${escapeUntrusted(b.spec.name)}**: ${escapeUntrusted(covers)}${endToEnd}.`);
    }
    out.push('');
  }
  // What each family says of its opened sessions (ONNX Runtime: where the graph's nodes ran).
  for (const group of sessionNotesOf(results.backends)) {
    out.push(`${group.heading}:`, '');
    for (const line of group.lines) out.push(`- **${escapeUntrusted(line.backend)}**: ${escapeUntrusted(line.note)}`);
    out.push('');
  }
  const withRuntime = opened.filter((b) => b.session!.environment !== undefined);
  if (withRuntime.length > 0) {
    out.push('Worker runtimes:', '');
    for (const b of withRuntime) {
      const e = b.session!.environment!;
      const parts = Object.entries(e).map(([k, v]) => `${escapeUntrusted(k)} ${escapeUntrusted(v)}`);
      out.push(`- **${escapeUntrusted(b.spec.name)}**: ${parts.join(', ')}`);
    }
    out.push('');
  }
  out.push(...renderArtifacts(results));
  out.push(
    markdownTable([
      ['Field', 'Value'],
      ['model', escapeUntrusted(results.model.path)],
      ['sha256', escapeUntrusted(results.model.sha256)],
      ['size_mb', num(results.model.bytes / 1e6)],
      ...results.backendModels.map((m) => [
        `backend model`,
        `${escapeUntrusted(m.path)} (sha256 ${escapeUntrusted(m.sha256.slice(0, 16))}…, ${num(m.bytes / 1e6)} MB)`,
      ]),
    ]),
    '',
  );
  return out;
}

/**
 * How the repetitions were stopped (docs/sequential-stopping.md): the sequential method and each cell's stop, or
 * for a stored baseline the smallest change the comparison could resolve, against the thresholds.
 */
function stoppingLines(results: Results): string[] {
  const m = results.method;
  const t = results.config.thresholds.latency;
  const pct = (f: number): string => `${(f * 100).toFixed(1)}%`;
  const out: string[] = [];
  if (m.stopping?.startsWith('sequential')) {
    const raw = results.config;
    const budget = raw.max_seconds ?? DEFAULT_MAX_SECONDS;
    // A look is a repetition of look_iterations passes; the budget is the config's repetitions × iterations.
    const looks =
      raw.iterations !== m.iterations
        ? ` (the config's ${raw.repetitions} × ${raw.iterations} passes, looked at every ${m.iterations})`
        : '';
    out.push(
      `- Stopping: ${escapeUntrusted(m.stopping)}; each cell stops once its decision is settled, within a budget of ${m.repetitions} repetitions of ${m.iterations} timed passes${looks} and ${budget} s.`,
    );
    for (const c of results.cells) {
      const s = c.sequential;
      if (!s) continue;
      const what = s.why === 'settled' ? `settled ${s.decision ?? ''}` : s.why;
      out.push(
        `  - ${escapeUntrusted(c.backend)} × ${escapeUntrusted(c.scenario)}: stopped after ${s.repetitions} repetitions (${what})${s.why === 'noise-floor' ? `: ${escapeUntrusted(s.reason)}` : ''}.`,
      );
    }
  }
  const comparison = results.comparison;
  if (comparison?.mode === 'stored') {
    const mdes = comparison.cells.flatMap((c) => (c.minDetectableFraction === null ? [] : [c.minDetectableFraction]));
    if (mdes.length > 0)
      out.push(
        `- Achievable effect (stored baseline, fixed sample): this comparison resolves ≈ ${pct(median(mdes))} (median minimum detectable effect over ${mdes.length} cells); thresholds are ${pct(t.warn_fraction)}/${pct(t.fail_fraction)}.`,
      );
  }
  return out;
}

/** How the run measured, and on what machine. */
function methodSection(results: Results): string[] {
  const out: string[] = [];
  const m = results.method;
  const env = results.environment;
  out.push('## Method', '');
  out.push(
    `- Timer (ONNX Runtime from Node): ${escapeUntrusted(m.timerCovers)}; other engines: see "Backends and setup".`,
  );
  out.push(
    `- ${m.repetitions} repetitions × ${m.iterations} timed passes per cell, ${m.warmup} warm-up passes before each run; ${escapeUntrusted(m.order)} (seed ${m.seed}).`,
  );
  out.push(...stoppingLines(results));
  out.push(
    `- Timeout per run: ${m.timeoutSeconds} s (the backend's process is killed and the run recorded as degraded).`,
  );
  out.push(`- Inputs: distinct rows of real held-out tokens, no padding; throughput counts real tokens only.`);
  out.push(
    `- Machine: ${escapeUntrusted(env.cpuModel)} × ${env.cpuCount}, ${escapeUntrusted(env.os)}; GPU: ${env.gpus.length > 0 ? env.gpus.map((g) => escapeUntrusted(g.name)).join(', ') : escapeUntrusted(env.gpuNote ?? 'none')}; ` +
      `Node ${escapeUntrusted(env.nodeVersion)}, onnxruntime-node ${escapeUntrusted(env.onnxruntimeVersion)}, tr118 ${escapeUntrusted(env.toolVersion)}.`,
  );
  for (const line of gpuClockLines(env)) out.push(`- GPU clocks (nvidia-smi): ${escapeUntrusted(line)}.`);
  if (results.git) out.push(`- Commit: ${escapeUntrusted(gitText(results.git))}.`);
  const phases = phasesLine(results.phases);
  // The reports are rendered and written after the duration ends (results/schema.ts phases): said, not hidden.
  const where = phases ? `; where it went: ${phases} (the reports are written after)` : '';
  out.push(`- Duration: ${num(results.durationSeconds)} s${where}.`, '');
  return out;
}

/** The artifact line and tables (report/artifact-tables.ts), as markdown. */
export function renderArtifacts(results: Results): string[] {
  const artifacts = artifactTables(results);
  if (!artifacts) return [];
  const out = [escapeUntrusted(artifacts.line), ''];
  for (const t of artifacts.tables) {
    out.push(
      `**${t.title}**${t.note ? ` (${escapeUntrusted(t.note)})` : ''}`,
      '',
      markdownTable([t.header, ...t.rows.map((row) => row.map((cell) => escapeUntrusted(cell)))]),
      '',
    );
  }
  return out;
}
