import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfigFile } from '../../src/config/load.js';
import { PHASES } from '../../src/measure/phases.js';
import type { RunRecord } from '../../src/measure/records.js';
import { measureMatrix } from '../../src/measure/runner.js';
import { readResultsFile } from '../../src/results/read.js';
import { cliArgs } from '../helpers/cli.js';
import { FIXTURE_TOKENS, ROOT, tempDir, writeConfig } from '../helpers/fixture.js';
import { runProcess } from '../helpers/run.js';

const SMALL = `backends: [onnxruntime-cpu]
scenarios:
  single_micro: { batch: 1, seq_len: 8 }
  batch_short: { batch: 4, seq_len: 32 }
repetitions: 2
warmup: 1
iterations: 3
accuracy: { max_tokens: 300, window: 128, stride: 64 }
`;

describe('results.json phases: every second of a real run accounted for (issue 23)', () => {
  it('sum to durationSeconds within 2%, through the CLI on the fixture model, and the report says them', async () => {
    const dir = tempDir();
    const out = path.join(dir, 'out');
    const config = writeConfig(dir, SMALL);
    const ran = await runProcess(process.execPath, cliArgs(['run', '--config', config, '--out', out, '-q']), {
      cwd: ROOT,
      timeoutMs: 300_000,
    });
    expect(ran.stderr).toBe('');
    expect(ran.status).toBe(0);
    const results = readResultsFile(path.join(out, 'results.json'));
    const phases = results.phases!;
    expect(Object.keys(phases).sort()).toEqual([...PHASES].sort());
    const sumSeconds = PHASES.reduce((sum, p) => sum + phases[p], 0);
    expect(Math.abs(sumSeconds - results.durationSeconds)).toBeLessThanOrEqual(0.02 * results.durationSeconds);
    // What this run did: it timed passes, scored perplexity, judged and wrote raw records; a CPU worker makes no
    // end-to-end passes and nothing was exported or built.
    for (const p of ['timedPasses', 'warmUp', 'perplexity', 'judging', 'writing', 'sessionOpen'] as const)
      expect(phases[p], p).toBeGreaterThan(0);
    for (const p of ['export', 'engineBuild', 'endToEndPasses', 'compile'] as const) expect(phases[p], p).toBe(0);
    // The timed passes' phase is the gated samples' sum, by the worker's timer.
    const timedMs = results.cells.flatMap((c) => c.repetitionLatenciesMs.flat()).reduce((a, b) => a + b, 0);
    expect(phases.timedPasses).toBeCloseTo(timedMs / 1000, 6);
    expect(readFileSync(path.join(out, 'report.md'), 'utf8')).toMatch(
      /- Duration: [\d.]+ s; where it went: .*timed passes [\d.]+ s.*wall [\d.]+× the timed passes \(the reports are written after\)\./,
    );
    expect(readFileSync(path.join(out, 'report.html'), 'utf8')).toContain('where the seconds went');
  }, 300_000);
});

describe('end_to_end_passes samples the reported end-to-end figure, and changes nothing gated', () => {
  const configWith = (dir: string, extra: string) => loadConfigFile(writeConfig(dir, `${SMALL}${extra}`));

  it('is 5 by default, and refused unless a whole number from 0', () => {
    const dir = tempDir();
    expect(configWith(dir, '').endToEndPasses).toBe(5);
    expect(configWith(dir, 'end_to_end_passes: 0\n').endToEndPasses).toBe(0);
    expect(() => configWith(dir, 'end_to_end_passes: -1\n')).toThrow(/end_to_end_passes/);
    expect(() => configWith(dir, 'end_to_end_passes: 1.5\n')).toThrow(/end_to_end_passes/);
  });

  it('the same seed gives the same pass order and as many gated samples at the default, 0 and 17', async () => {
    const orders: string[][] = [];
    const samples: number[][] = [];
    const asked: number[] = [];
    for (const extra of ['', 'end_to_end_passes: 0\n', 'end_to_end_passes: 17\n']) {
      const config = configWith(tempDir(), `${extra}seed: 7\n`);
      asked.push(config.endToEndPasses);
      const runs: RunRecord[] = [];
      const tokens = JSON.parse(readFileSync(FIXTURE_TOKENS, 'utf8')) as number[];
      await measureMatrix({
        config,
        inputTokens: tokens,
        accuracyTokens: undefined,
        record: (r) => {
          if (r.kind === 'run') runs.push(r);
        },
      });
      orders.push(runs.map((r) => `${r.repetition}:${r.sequence}:${r.backend}/${r.scenario}`));
      samples.push(runs.map((r) => r.latenciesMs.length));
    }
    expect(asked).toEqual([5, 0, 17]);
    expect(orders[1]).toEqual(orders[0]);
    expect(orders[2]).toEqual(orders[0]);
    expect(samples[0]).toEqual(Array(4).fill(3)); // 2 scenarios × 2 repetitions, each run `iterations` samples
    expect(samples[1]).toEqual(samples[0]);
    expect(samples[2]).toEqual(samples[0]);
  }, 300_000);
});
