import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfigFile } from '../../src/config/load.js';
import { UsageError } from '../../src/errors.js';
import { PHASES } from '../../src/measure/phases.js';
import { runPipeline } from '../../src/pipeline/index.js';
import { FIXTURE_HF, FIXTURE_TOKENS, ROOT, tempDir } from '../helpers/fixture.js';

// Two pytorch backends and the export of model.hf, all served by a scripted worker (open-log-worker.mjs) behind a
// stand-in Python: each worker process "imports" for IMPORT_DELAY_MS before it reads a request, the export takes
// EXPORT_DELAY_MS. Long enough apart that a worker started with the export has finished importing before it ends,
// even on a loaded machine.
const IMPORT_DELAY_MS = 1000;
const EXPORT_DELAY_MS = 3000;

interface Event {
  readonly name: string;
  readonly event: 'spawned' | 'imported' | 'start' | 'end' | 'closed';
  readonly pid: number;
  readonly at: number;
}

function runLogged(env: Readonly<Record<string, string>> = {}) {
  const dir = tempDir();
  const log = path.join(dir, 'workers.log');
  const configFile = path.join(dir, 'tr118.yml');
  writeFileSync(
    configFile,
    `model:\n  hf: ${FIXTURE_HF}\n  context_tokens: 512\ninputs:\n  tokens: ${FIXTURE_TOKENS}\n` +
      'backends: [transformers-cpu, transformers-gpu]\nscenarios:\n  s: { batch: 1, seq_len: 8 }\n' +
      'repetitions: 2\niterations: 2\nwarmup: 0\naccuracy: { enabled: false }\ntimeout_s: 120\n',
  );
  const run = runPipeline({
    config: loadConfigFile(configFile),
    outDir: path.join(dir, 'out'),
    cacheDir: path.join(dir, 'cache'),
    backendOptions: {
      env: { ...process.env, ...env },
      nativeWorker: {
        command: path.join(ROOT, 'test/helpers/stand-in-python.sh'),
        args: [path.join(ROOT, 'test/helpers/open-log-worker.mjs')],
        env: {
          STAND_IN_NODE: process.execPath,
          OPEN_LOG: log,
          IMPORT_DELAY_MS: String(IMPORT_DELAY_MS),
          EXPORT_DELAY_MS: String(EXPORT_DELAY_MS),
          ...env,
        },
      },
    },
  });
  const events = (): Event[] =>
    readFileSync(log, 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Event);
  const eventOf = (pid: number, event: Event['event']): Event | undefined =>
    events().find((e) => e.pid === pid && e.event === event);
  return { run, events, eventOf };
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('worker processes start while model.hf is exported (issue 23)', () => {
  it('passes: both workers import during the export, open once it is done, and the phases still sum to the duration', async () => {
    const { run, events, eventOf } = runLogged();
    const { results } = await run;
    const exportJob = events().find((e) => e.name === 'export' && e.event === 'start')!;
    const exportEnd = eventOf(exportJob.pid, 'end')!.at;
    const opens = events().filter((e) => e.event === 'start' && e.name !== 'export');
    expect(opens.map((e) => e.name).sort()).toEqual(['transformers-cpu', 'transformers-gpu']);
    for (const open of opens) {
      // The process that opened is one started before the export ended, and done importing by then: taken from
      // the pool, not spawned anew.
      expect(eventOf(open.pid, 'spawned')!.at, open.name).toBeLessThan(exportEnd);
      expect(eventOf(open.pid, 'imported')!.at, open.name).toBeLessThanOrEqual(exportEnd);
      expect(open.at, open.name).toBeGreaterThanOrEqual(exportEnd);
    }
    // Three processes in all: the export job and one worker per backend, none started twice.
    expect(new Set(events().map((e) => e.pid)).size).toBe(3);
    expect(results.backends.map((b) => [b.spec.name, b.status])).toEqual([
      ['transformers-cpu', 'ok'],
      ['transformers-gpu', 'ok'],
    ]);
    // The imports ran inside the export's span and are charged to it once: the export phase holds its span, worker
    // start keeps only what the run waited for after it (less than one import), and the sum is the duration.
    const phases = results.phases!;
    const sumSeconds = PHASES.reduce((sum, p) => sum + phases[p], 0);
    expect(Math.abs(sumSeconds - results.durationSeconds)).toBeLessThanOrEqual(0.02 * results.durationSeconds);
    expect(phases.export).toBeGreaterThanOrEqual(EXPORT_DELAY_MS / 1000);
    expect(phases.workerStart).toBeLessThan(IMPORT_DELAY_MS / 1000);
  }, 120_000);

  it('fails to overlap with TR118_EARLY_WORKERS=off: workers start after the export, their imports in workerStart', async () => {
    const { run, events, eventOf } = runLogged({ TR118_EARLY_WORKERS: 'off' });
    const { results } = await run;
    const exportJob = events().find((e) => e.name === 'export' && e.event === 'start')!;
    const exportEnd = eventOf(exportJob.pid, 'end')!.at;
    const opens = events().filter((e) => e.event === 'start' && e.name !== 'export');
    expect(opens).toHaveLength(2);
    for (const open of opens) expect(eventOf(open.pid, 'spawned')!.at, open.name).toBeGreaterThanOrEqual(exportEnd);
    const phases = results.phases!;
    const sumSeconds = PHASES.reduce((sum, p) => sum + phases[p], 0);
    expect(Math.abs(sumSeconds - results.durationSeconds)).toBeLessThanOrEqual(0.02 * results.durationSeconds);
    // The import, less the 0.1 s the workers report as their open (moved to sessionOpen).
    expect(phases.workerStart).toBeGreaterThanOrEqual(IMPORT_DELAY_MS / 1000 - 0.1);
  }, 120_000);

  it('an export that fails with workers already started ends them: the run stops with the export error, no process left', async () => {
    const { run, events } = runLogged({ EXPORT_FAIL: '1' });
    await expect(run).rejects.toThrow(UsageError);
    await expect(run).rejects.toThrow(/model\.hf: exporting .* to ONNX failed: the exporter crashed \(scripted\)/);
    const workers = events().filter(
      (e) => e.event === 'spawned' && !events().some((x) => x.pid === e.pid && x.name === 'export'),
    );
    expect(workers).toHaveLength(2);
    // Killed and reaped before runPipeline settled; none was ever asked to open.
    for (const w of workers) expect(isAlive(w.pid), `worker ${w.pid}`).toBe(false);
    expect(events().filter((e) => e.event === 'start' && e.name !== 'export')).toEqual([]);
  }, 120_000);
});
