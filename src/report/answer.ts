/**
 * The seed report's question, answered per scenario: "can another backend match or exceed the baseline backend
 * while preserving accuracy?" Among the backends that passed the accuracy gate, the fastest one (lowest median),
 * and its speed-up over the baseline backend (baseline median ÷ its median) with a bootstrap interval; "not
 * decidable" where that interval includes 1. Pure (the bootstrap is seeded by the run's seed).
 *
 * One timer definition across devices: a GPU worker's gated timer leaves the logits on the device, the CPU's
 * includes their copy into the caller. When the compared backends differ in device, every backend is ranked on its
 * end-to-end figure (host tokens in, host logits out), and the answer says so.
 */
import { median } from 'simple-statistics';
import type { CommonSpec } from '../engines/family.js';
import { openQueueOf } from '../engines/registry.js';
import { bootstrapRatio } from '../stats/ratio.js';
import type { CellResult, Results } from '../results/schema.js';

export type AnswerDecision =
  /** The fastest accurate backend is faster than the baseline backend: its interval lies above 1. */
  | 'faster'
  /** The baseline backend is itself the fastest accurate one, and no other comes within its interval. */
  | 'baseline fastest'
  /** The intervals overlap: the data cannot tell which is faster. */
  | 'not decidable'
  /** No backend that passed the accuracy gate measured this scenario, or the baseline backend did not. */
  | 'no answer';

export interface AnswerRow {
  readonly scenario: string;
  /** The fastest backend that passed the accuracy gate (by median latency); null when none measured the scenario. */
  readonly fastest: string | null;
  readonly fastestMedianMs: number | null;
  readonly baselineMedianMs: number | null;
  /** Baseline backend's median ÷ the fastest's median (> 1: the fastest is faster); 1 when it is the baseline. */
  readonly speedup: number | null;
  /** Its bootstrap interval; null when the fastest is the baseline itself (no ratio to estimate). */
  readonly speedupCi: readonly [number, number] | null;
  /** The next fastest accurate backend when its interval against the fastest includes 1 (a tie), else null. */
  readonly tiedWith: string | null;
  readonly decision: AnswerDecision;
  /** The answer in words (one line, plain text from backend names). */
  readonly text: string;
}

/**
 * Which figure the answer compared: each backend's gated timer, or (backends on more than one device) the
 * end-to-end figure, where a GPU worker's end-to-end passes stand in for its device-side timer.
 */
export type AnswerFigure = 'timer' | 'end-to-end';

export interface SeedAnswer {
  readonly figure: AnswerFigure;
  /** Which figure, and why, in words. */
  readonly figureBasis: string;
  readonly baselineBackend: string;
  /** Where the baseline backend came from, in words. */
  readonly baselineFrom: string;
  /** The backends that count (passed the accuracy gate), and how accuracy was judged, in words. */
  readonly accurate: readonly string[];
  readonly accuracyBasis: string;
  readonly confidence: number;
  readonly rows: readonly AnswerRow[];
}

const measured = (c: CellResult | undefined): c is CellResult =>
  c !== undefined && c.status === 'ok' && c.repetitionLatenciesMs.some((r) => r.length > 0);

const cellMedian = (c: CellResult): number => median(c.repetitionLatenciesMs.flat());

/** The device a backend's passes ran on: `cpu`, or the GPU whose queue its open shares (`cuda:0`). */
const deviceOf = (spec: CommonSpec): string => openQueueOf(spec) ?? 'cpu';

/**
 * A cell's passes on the end-to-end figure: a cell with its own end-to-end passes (a GPU worker) has every timed
 * pass shifted by the difference of the two medians (the copy out, which the device-side timer leaves out), so the
 * bootstrap keeps the pass-to-pass spread; a cell whose timer is end to end already is as measured.
 */
export function endToEndPasses(cell: CellResult): number[][] {
  if (cell.endToEnd === null) return cell.repetitionLatenciesMs.map((r) => [...r]);
  const shiftMs = cell.endToEnd.medianMs - cellMedian(cell);
  return cell.repetitionLatenciesMs.map((r) => r.map((ms) => ms + shiftMs));
}

const times = (x: number): string => `${Number(x.toPrecision(3))}×`;

/**
 * The answer, when more than one backend measured something; null otherwise (a single backend answers nothing).
 * The baseline backend is `report.baseline_backend`, else the accuracy gate's reference, else the first backend
 * that measured a cell.
 */
export function answerSeedQuestion(results: Results): SeedAnswer | null {
  // report.md, the comment and report.html all ask for it: the bootstrap runs once per results object.
  if (answers.has(results)) return answers.get(results) ?? null;
  const answer = computeAnswer(results);
  answers.set(results, answer);
  return answer;
}

const answers = new WeakMap<Results, SeedAnswer | null>();

function computeAnswer(results: Results): SeedAnswer | null {
  const ran = results.backends
    .map((b) => b.spec.name)
    .filter((name) => results.cells.some((c) => c.backend === name && measured(c)));
  if (ran.length < 2) return null;
  const configured = results.config.report?.baseline_backend;
  const reference = results.accuracy?.reference ?? null;
  const baselineBackend = configured ?? reference ?? ran[0]!;
  const baselineFrom = configured
    ? 'report.baseline_backend'
    : reference
      ? 'the accuracy reference'
      : 'the first backend that ran (no accuracy reference, no report.baseline_backend)';

  // Accurate: passed the accuracy gate; the reference counts as accurate when others were judged against it.
  const rows = results.accuracy?.rows ?? [];
  const gated = rows.some((r) => r.pass !== null);
  const accurate = gated ? ran.filter((name) => rows.find((r) => r.backend === name)?.pass === true) : ran;
  const accuracyBasis = gated
    ? `passed the accuracy gate (${results.accuracy?.checks.join('; ') || 'perplexity'})`
    : results.accuracy
      ? 'accuracy was not gated in this run (nothing to compare with): every backend counts'
      : 'accuracy was not measured (accuracy.enabled: false): every backend counts';
  const confidence = results.config.thresholds.latency.confidence;
  const compared = new Set([...accurate, baselineBackend]);
  const devices = [
    ...new Set(results.backends.filter((b) => compared.has(b.spec.name)).map((b) => deviceOf(b.spec))),
  ].sort();
  const figure: AnswerFigure = devices.length > 1 ? 'end-to-end' : 'timer';
  const figureBasis =
    figure === 'end-to-end'
      ? `the end-to-end figure (host tokens in, host logits out), because the compared backends ran on ${devices.join(' and ')}: a GPU worker's timer leaves the logits on the device, the CPU's includes their copy`
      : `each backend's gated timer (every compared backend ran on ${devices[0] ?? 'one device'})`;
  const passesOf = (cell: CellResult): readonly (readonly number[])[] =>
    figure === 'end-to-end' ? endToEndPasses(cell) : cell.repetitionLatenciesMs;
  const figureMedian = (cell: CellResult): number => median(passesOf(cell).flat());
  const scenarios = [...new Set(results.cells.map((c) => c.scenario))];
  const cellOf = (backend: string, scenario: string): CellResult | undefined =>
    results.cells.find((c) => c.backend === backend && c.scenario === scenario);

  const answerRows = scenarios.map((scenario, index): AnswerRow => {
    const seed = results.config.seed + 1009 * (index + 1);
    const base = cellOf(baselineBackend, scenario);
    const ranked = accurate
      .map((name) => cellOf(name, scenario))
      .filter(measured)
      .map((cell) => ({ cell, medianMs: figureMedian(cell) }))
      .sort((a, b) => a.medianMs - b.medianMs);
    const none = {
      scenario,
      fastest: ranked[0]?.cell.backend ?? null,
      fastestMedianMs: ranked[0]?.medianMs ?? null,
      baselineMedianMs: measured(base) ? figureMedian(base) : null,
      speedup: null,
      speedupCi: null,
      tiedWith: null,
      decision: 'no answer' as const,
    };
    if (ranked.length === 0)
      return { ...none, text: 'no backend that passed the accuracy gate measured this scenario' };
    if (!measured(base))
      return { ...none, text: `the baseline backend ${baselineBackend} did not measure this scenario` };
    const first = ranked[0]!;
    const second = ranked[1];
    const interval = (faster: CellResult, slower: CellResult, s: number) =>
      bootstrapRatio(passesOf(faster), passesOf(slower), {
        paired: false,
        seed: s,
        confidence,
      });
    // A tie for first place: the runner-up's interval against the fastest includes 1.
    const tie = second ? interval(first.cell, second.cell, seed + 1) : null;
    const tiedWith = second && tie && tie.ci[0] <= 1 ? second.cell.backend : null;
    const common = { ...none, fastest: first.cell.backend, fastestMedianMs: first.medianMs };
    if (first.cell.backend === baselineBackend) {
      const text = tiedWith
        ? `not decidable: ${baselineBackend} (the baseline) is fastest, but ${tiedWith} is within the interval`
        : `no: ${baselineBackend} (the baseline) is the fastest accurate backend`;
      return {
        ...common,
        speedup: 1,
        speedupCi: null,
        tiedWith,
        decision: tiedWith ? 'not decidable' : 'baseline fastest',
        text,
      };
    }
    const est = interval(first.cell, base, seed)!;
    const decidable = est.ci[0] > 1;
    const level = `${Math.round(confidence * 100)}% CI ${times(est.ci[0])}–${times(est.ci[1])}`;
    const also = tiedWith ? ` (tied with ${tiedWith})` : '';
    return {
      ...common,
      speedup: est.ratio,
      speedupCi: est.ci,
      tiedWith,
      decision: decidable ? 'faster' : 'not decidable',
      text: decidable
        ? `yes: ${first.cell.backend}${also} is ${times(est.ratio)} as fast as ${baselineBackend} (${level})`
        : `not decidable: ${first.cell.backend}${also} at ${times(est.ratio)} of ${baselineBackend}'s speed, but the interval (${level}) includes 1`,
    };
  });
  return { figure, figureBasis, baselineBackend, baselineFrom, accurate, accuracyBasis, confidence, rows: answerRows };
}
