import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfigFile } from '../../src/config/load.js';
import { UsageError } from '../../src/errors.js';
import { runPipeline } from '../../src/pipeline/index.js';
import { FIXTURE_HF, ROOT, tempDir, writeConfig } from '../helpers/fixture.js';

// Two CPU backends (no device queue) and two on cuda:0 (one queue), all served by a scripted worker whose open takes
// OPEN_DELAY_MS: long enough that two opens started together overlap on a loaded machine.
const BACKENDS = `backends:
  - transformers-cpu
  - { name: torch-cpu-2, engine: pytorch, device: cpu }
  - transformers-gpu
  - { name: gpu-compiled, engine: pytorch, device: cuda, compile: default }
scenarios:
  s: { batch: 1, seq_len: 8 }
repetitions: 2
iterations: 2
warmup: 0
accuracy: { enabled: false }
`;
const OPEN_DELAY_MS = 1500;

interface Event {
  readonly name: string;
  readonly event: 'spawned' | 'start' | 'end' | 'closed';
  readonly pid: number;
  readonly at: number;
}

function runLogged(usageBackend?: string) {
  const dir = tempDir();
  const log = path.join(dir, 'open.log');
  const config = loadConfigFile(writeConfig(dir, BACKENDS, FIXTURE_HF));
  const run = runPipeline({
    config,
    outDir: path.join(dir, 'out'),
    backendOptions: {
      nativeWorker: {
        command: process.execPath,
        args: [path.join(ROOT, 'test/helpers/open-log-worker.mjs')],
        env: { OPEN_LOG: log, OPEN_DELAY_MS: String(OPEN_DELAY_MS), USAGE_BACKEND: usageBackend ?? '' },
      },
    },
  });
  const events = (): Event[] =>
    readFileSync(log, 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Event);
  const at = (name: string, event: Event['event']): number =>
    events().find((e) => e.name === name && e.event === event)!.at;
  return { run, events, at };
}

describe('workers start together; opens on one device queue wait for each other (issue 23)', () => {
  it('passes: CPU opens overlap, cuda:0 opens run one after the other in config order, records stay in config order', async () => {
    const { run, at, events } = runLogged();
    const { results } = await run;
    // Both CPU opens started before either ended: they ran at the same time.
    expect(at('torch-cpu-2', 'start')).toBeLessThan(at('transformers-cpu', 'end'));
    expect(at('transformers-cpu', 'start')).toBeLessThan(at('torch-cpu-2', 'end'));
    // The second cuda:0 open started only once the first had ended; its worker process had started long before.
    expect(at('gpu-compiled', 'start')).toBeGreaterThanOrEqual(at('transformers-gpu', 'end'));
    const pid = events().find((e) => e.name === 'gpu-compiled' && e.event === 'start')!.pid;
    const spawned = events().find((e) => e.pid === pid && e.event === 'spawned')!.at;
    expect(spawned).toBeLessThan(at('transformers-gpu', 'end'));
    expect(results.backends.map((b) => [b.spec.name, b.status])).toEqual([
      ['transformers-cpu', 'ok'],
      ['torch-cpu-2', 'ok'],
      ['transformers-gpu', 'ok'],
      ['gpu-compiled', 'ok'],
    ]);
    // The span went to workerStart; the workers' own figures moved once, along the longest queue (cuda:0: 100 + 100
    // ms of which 60 compile), never once per backend.
    expect(results.phases!.sessionOpen).toBeCloseTo(0.14, 9);
    expect(results.phases!.compile).toBeCloseTo(0.06, 9);
    expect(results.phases!.workerStart).toBeGreaterThan(0);
  }, 120_000);

  it('fails: one backend whose model does not fit is a usage error, and every started worker is still closed', async () => {
    const { run, events } = runLogged('torch-cpu-2');
    await expect(run).rejects.toThrow(UsageError);
    await expect(run).rejects.toThrow(/model\.logits_output.*no output named logits/);
    const closed = events()
      .filter((e) => e.event === 'closed')
      .map((e) => e.name)
      .sort();
    // The worker that failed was killed at its failure; the three others were asked to close.
    expect(closed).toEqual(['gpu-compiled', 'transformers-cpu', 'transformers-gpu']);
  }, 120_000);
});
