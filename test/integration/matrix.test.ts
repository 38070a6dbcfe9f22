import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadConfigFile } from '../../src/config/load.js';
import type { RawRecord } from '../../src/measure/records.js';
import { runPipeline, type PipelineResult } from '../../src/pipeline/index.js';
import { readResultsFile } from '../../src/results/read.js';
import { FIXTURE_MODEL, FIXTURE_TOKENS, foreignModel, ROOT, tempDir, writeConfig } from '../helpers/fixture.js';

const MATRIX = `backends:
  - onnxruntime-cpu
  - { name: ort-basic-1t, engine: onnxruntime, provider: cpu, graph_optimization: basic, intra_op_threads: 1 }
  - onnxruntime-gpu
  - tensorrt-fp16
scenarios:
  single_micro: { batch: 1, seq_len: 8 }
  batch_short: { batch: 4, seq_len: 32 }
repetitions: 2
warmup: 1
iterations: 3
accuracy: { max_tokens: 600, window: 128, stride: 64 }
`;

function readJsonl(file: string): RawRecord[] {
  return readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as RawRecord);
}

describe('the prefill matrix on the fixture model (real onnxruntime-node)', () => {
  let run: PipelineResult;
  let out: string;

  beforeAll(async () => {
    const dir = tempDir();
    out = path.join(dir, 'out');
    run = await runPipeline({ config: loadConfigFile(writeConfig(dir, MATRIX)), outDir: out });
  });

  it('measures every cell of the backends that can run here, and says why the others cannot', () => {
    const { results } = run;
    const status = Object.fromEntries(results.backends.map((b) => [b.spec.name, b.status]));
    expect(status).toEqual({
      'onnxruntime-cpu': 'ok',
      'ort-basic-1t': 'ok',
      'onnxruntime-gpu': 'unavailable',
      'tensorrt-fp16': 'unavailable',
    });
    expect(results.backends.find((b) => b.spec.name === 'onnxruntime-gpu')?.reason).toMatch(
      /no NVIDIA GPU on this machine/,
    );
    // No TensorRT here (and no GPU): the worker's probe says what to install, or no Python was found for it.
    expect(results.backends.find((b) => b.spec.name === 'tensorrt-fp16')?.reason).toMatch(
      /TensorRT engines cannot be built here: .*not installed for .*pip install tensorrt-cu13|Python/,
    );
    const measured = results.cells.filter((c) => c.stats !== null);
    expect(measured.map((c) => `${c.backend}/${c.scenario}`).sort()).toEqual([
      'onnxruntime-cpu/batch_short',
      'onnxruntime-cpu/single_micro',
      'ort-basic-1t/batch_short',
      'ort-basic-1t/single_micro',
    ]);
    for (const c of measured) {
      expect(c.stats!.samples).toBe(6);
      expect(c.stats!.latencyMs.median).toBeGreaterThan(0);
      // 2 repetitions: a t-interval is given only where it stays above 0 ms (else "n too small")
      const ci = c.stats!.latencyMs.meanCi95;
      if (ci) expect(ci[0]).toBeGreaterThan(0);
    }
    const batchShort = measured.find((c) => c.backend === 'onnxruntime-cpu' && c.scenario === 'batch_short')!;
    expect(batchShort.realTokens).toBe(128);
    expect(batchShort.stats!.tokensPerSecond.atMedian).toBeCloseTo(
      128 / (batchShort.stats!.latencyMs.median / 1000),
      6,
    );
  });

  it('appends one raw record per backend, per run and per perplexity, in the order they happened', () => {
    const records = readJsonl(path.join(out, 'results.jsonl'));
    expect(records.filter((r) => r.kind === 'backend')).toHaveLength(4);
    const runs = records.filter((r) => r.kind === 'run');
    expect(runs).toHaveLength(2 * 2 * 2);
    expect(runs.map((r) => r.sequence)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(runs.every((r) => r.status === 'ok' && r.latenciesMs.length === 3)).toBe(true);
    // interleaved: within a repetition, the backends alternate rather than running back to back in config order
    const firstRep = runs.filter((r) => r.repetition === 0).map((r) => r.backend);
    expect(new Set(firstRep).size).toBe(2);
    expect(records.filter((r) => r.kind === 'accuracy')).toHaveLength(2);
  });

  it('computes perplexity far below the vocabulary size, and the same for both CPU settings', () => {
    const a = run.results.accuracy!;
    expect(a.reference).toBe('onnxruntime-cpu');
    const [ref, basic] = a.rows;
    const card = JSON.parse(readFileSync(path.join(ROOT, 'fixtures/model/model-card.json'), 'utf8')) as {
      vocab_size?: number;
      config?: { vocab_size?: number };
    };
    const vocab = card.vocab_size ?? card.config?.vocab_size ?? 4096;
    expect(ref!.perplexity).toBeGreaterThan(1);
    expect(ref!.perplexity).toBeLessThan(vocab / 10);
    expect(ref!.scoredTokens).toBe(599);
    expect(basic!.status).toBe('ok');
    expect(Math.abs(basic!.deltaFraction!)).toBeLessThan(1e-4);
    expect(basic!.pass).toBe(true);
    expect(a.rows.find((r) => r.backend === 'onnxruntime-gpu')?.status).toBe('unavailable');
    // the two backends that could not run here are named, not passed over in silence
    expect(run.results.verdict.decision).toBe('warn');
    expect(run.results.verdict.basis).toMatch(/; not run: onnxruntime-gpu, tensorrt-fp16 \(unavailable\)$/);
    expect(
      run.results.verdict.reasons.filter((r) => r.rule === 'coverage').map((r) => [r.subject, r.decision]),
    ).toEqual([
      ['onnxruntime-gpu', 'warn'],
      ['tensorrt-fp16', 'warn'],
    ]);
  });

  it('writes the report files', () => {
    const report = readFileSync(path.join(out, 'report.md'), 'utf8');
    for (const heading of [
      '## Overall backend summary',
      '## Per-scenario summary',
      '## Accuracy (perplexity gate)',
      '## Backends and setup',
      '## Method',
    ]) {
      expect(report).toContain(heading);
    }
    expect(report).toContain('**Verdict: ⚠️ warn**');
    expect(report).toContain('geometric means across scenarios');
    const csv = readFileSync(path.join(out, 'summary.csv'), 'utf8').trim().split('\n');
    expect(csv[0]).toMatch(
      /^backend,scenario,batch,seq_len,real_tokens,status,n_ok,n_total,degraded_rate,lat_mean_ms,lat_median_ms/,
    );
    expect(csv).toHaveLength(1 + 4 * 2);
    const manifest = JSON.parse(readFileSync(path.join(out, 'manifest.json'), 'utf8')) as {
      versions: { onnxruntime: string };
      config: { sha256: string };
      machine: { cpuCount: number };
      model: { sha256: string };
    };
    expect(manifest.versions.onnxruntime).toBe('1.30.0');
    expect(manifest.config.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(manifest.machine.cpuCount).toBeGreaterThan(0);
    expect(manifest.model.sha256).toMatch(/^[0-9a-f]{64}$/);
    const results = JSON.parse(readFileSync(path.join(out, 'results.json'), 'utf8')) as {
      schemaVersion: number;
      config: { repetitions: number };
    };
    expect(results.schemaVersion).toBe(1);
    expect(results.config.repetitions).toBe(2);
    // The one schema describes every field a run writes: read back in full, nothing is dropped.
    expect(readResultsFile(path.join(out, 'results.json'))).toEqual(results);
  });
});

describe('a hung backend', () => {
  it('is killed at the timeout, recorded as degraded, and leaves a readable results.jsonl', async () => {
    const dir = tempDir();
    const out = path.join(dir, 'out');
    const config = loadConfigFile(
      writeConfig(
        dir,
        `backends: [onnxruntime-cpu]\nscenarios:\n  single_micro: { batch: 1, seq_len: 8 }\nrepetitions: 2\niterations: 2\nwarmup: 0\ntimeout_s: 0.5\naccuracy: { enabled: false }\n`,
      ),
    );
    const { results } = await runPipeline({
      config,
      outDir: out,
      backendOptions: {
        nodeWorker: { command: process.execPath, args: [path.join(ROOT, 'test/helpers/hanging-worker.mjs')] },
      },
    });
    // The worker busy-waits forever: that the run ended at all, with this reason for each run, is the kill at the
    // timeout (a wall-clock bound here measured the machine, not the timeout).
    const runs = readJsonl(path.join(out, 'results.jsonl')).filter((r) => r.kind === 'run');
    expect(runs).toHaveLength(2);
    for (const r of runs) {
      expect(r.status).toBe('degraded');
      expect(r.reason).toBe('timed out after 0.5 s; the worker was killed');
    }
    expect(results.cells[0]!.degradedRate).toBe(1);
    expect(results.verdict.decision).toBe('fail');
    expect(results.verdict.reasons[0]!.message).toContain('2 of 2 runs degraded');
  });
});

/** One request the scripted same-run worker (ab-worker.mjs) logged, with the process that got it. */
interface AbLogEntry {
  readonly type: string;
  readonly baseFirst?: boolean;
  readonly paired?: string;
  readonly refused?: boolean;
  readonly pid: number;
}

function describeAsked(a: AbLogEntry): string {
  if (a.type === 'run') return `run ${a.paired}`;
  return `${a.type} baseFirst=${String(a.baseFirst)}${a.refused ? ' (refused)' : ''}`;
}

/** A same-run A/B run of the fixture config with the scripted worker: what it asked, in order, and what it wrote. */
/** One tiny cell of a same-run A/B against the fixture, sequential by default, with a budget of `repetitions`. */
function sequentialAbYaml(repetitions: number): string {
  return (
    `backends: [onnxruntime-cpu]\nscenarios:\n  s: { batch: 1, seq_len: 8 }\nrepetitions: ${repetitions}\niterations: 3\n` +
    `warmup: 0\naccuracy: { enabled: false }\ncompare: { base_model: ${FIXTURE_MODEL} }\n`
  );
}

async function abRun(yaml: string, env: Record<string, string> = {}) {
  const dir = tempDir();
  const log = path.join(dir, 'worker.log');
  const out = path.join(dir, 'out');
  const { results } = await runPipeline({
    config: loadConfigFile(writeConfig(dir, yaml)),
    outDir: out,
    backendOptions: {
      nodeWorker: {
        command: process.execPath,
        args: [path.join(ROOT, 'test/helpers/ab-worker.mjs')],
        env: { AB_WORKER_LOG: log, ...env },
      },
    },
  });
  const asked = readFileSync(log, 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as AbLogEntry);
  return { asked, results, out };
}

describe('same-run A/B: the sides are data (a scripted worker whose base model is twice as slow)', () => {
  it('alternates which side goes first, reopens halfway with the base first, and records each side by its field', async () => {
    const { asked, results, out } = await abRun(
      `backends: [onnxruntime-cpu]\nscenarios:\n  s: { batch: 1, seq_len: 8 }\nrepetitions: 4\nstopping: fixed\niterations: 3\nwarmup: 0\n` +
        `accuracy: { max_tokens: 40, window: 8, stride: 4, parity: { enabled: false } }\ncompare: { base_model: ${FIXTURE_MODEL} }\n`,
    );
    expect(asked.map(describeAsked)).toEqual([
      'open baseFirst=false',
      'run candidate-first',
      'run base-first',
      'reopen baseFirst=true',
      'run candidate-first',
      'run base-first',
    ]);
    // Reopened in the same worker process: no restart, no second start of its imports.
    expect(new Set(asked.map((a) => a.pid)).size).toBe(1);
    const records = readJsonl(path.join(out, 'results.jsonl'));
    // Both sides under the backend's own name, told apart by `side` (no name suffix).
    expect(records.every((r) => r.backend === 'onnxruntime-cpu')).toBe(true);
    const runs = records.filter((r) => r.kind === 'run');
    expect(runs.map((r) => `${r.side} ${r.repetition} ${r.latenciesMs.join(',')}`)).toEqual([
      'candidate 0 1,1,1',
      'base 0 2,2,2',
      'candidate 1 1,1,1',
      'base 1 2,2,2',
      'candidate 2 1,1,1',
      'base 2 2,2,2',
      'candidate 3 1,1,1',
      'base 3 2,2,2',
    ]);
    expect(records.filter((r) => r.kind === 'backend').map((r) => r.side)).toEqual(['candidate', 'base']);
    expect(records.filter((r) => r.kind === 'accuracy').map((r) => r.side)).toEqual(['candidate', 'base']);
    // …and split into the two sides of the comparison: the base's own results, the candidate's, and their change.
    expect(results.sameRunBase?.cells[0]?.stats?.latencyMs.median).toBe(2);
    expect(results.cells[0]?.stats?.latencyMs.median).toBe(1);
    expect(results.sameRunBase?.accuracy?.rows[0]?.meanNll).toBe(2);
    expect(results.accuracy?.rows[0]?.meanNll).toBe(1);
    expect(results.comparison?.cells[0]).toMatchObject({ decision: 'improvement', medianRatio: 0.5 });
    // A same-run result (with its base's own results inside) reads back in full.
    const written = JSON.parse(readFileSync(path.join(out, 'results.json'), 'utf8')) as unknown;
    expect(readResultsFile(path.join(out, 'results.json'))).toEqual(written);
  });

  it('sequential stopping: reopens C B B C, stops the cell once settled, and records where and why', async () => {
    const { asked, results, out } = await abRun(sequentialAbYaml(10));
    // The base is twice as slow, with no noise: settled (an improvement) at the third look, of a budget of 10.
    expect(asked.map(describeAsked)).toEqual([
      'open baseFirst=false',
      'run candidate-first',
      'reopen baseFirst=true',
      'run base-first',
      'run candidate-first',
    ]);
    const stops = readJsonl(path.join(out, 'results.jsonl')).filter((r) => r.kind === 'stop');
    expect(stops).toMatchObject([{ scenario: 's', repetitions: 3, why: 'settled', decision: 'improvement' }]);
    expect(results.cells[0]?.sequential).toMatchObject({ repetitions: 3, why: 'settled' });
    expect(results.method.stopping).toMatch(/^sequential: asymptotic confidence sequence/);
    expect(results.comparison?.cells[0]).toMatchObject({
      decision: 'improvement',
      stopping: { repetitions: 3, why: 'settled' },
    });
    const report = readFileSync(path.join(out, 'report.md'), 'utf8');
    expect(report).toContain('stopped after 3 repetitions (settled improvement)');
    // A look of 20 passes is more than the config's 3: its repetitions are the looks, as written.
    expect(report).toContain('within a budget of 10 repetitions of 3 timed passes and 120 s.');
  });

  it('sequential stopping looks every look_iterations passes within the config’s budget of passes', async () => {
    const { results, out } = await abRun(
      sequentialAbYaml(10).replace('iterations: 3', 'iterations: 6\nlook_iterations: 3'),
    );
    const runs = readJsonl(path.join(out, 'results.jsonl')).filter((r) => r.kind === 'run');
    // Every repetition is a look of 3 timed passes per side; settled at the third look, 9 of its 60 passes.
    expect(runs.map((r) => [r.repetition, r.iterations, (r.latenciesMs as number[]).length])).toEqual(
      [0, 0, 1, 1, 2, 2].map((rep) => [rep, 3, 3]),
    );
    expect(results.method).toMatchObject({ repetitions: 20, iterations: 3 });
    expect(readFileSync(path.join(out, 'report.md'), 'utf8')).toContain(
      "within a budget of 20 repetitions of 3 timed passes (the config's 10 × 6 passes, looked at every 3) and 120 s.",
    );
  });
});

describe('same-run A/B reopens its sessions in the worker process it started', () => {
  const sequentialYaml = sequentialAbYaml(6);

  it('sequential stopping: one process for the whole run, its sessions opened C B B C C B', async () => {
    // Swinging latencies never settle: the run goes through its budget of 6, with every reopen the order asks for.
    const { asked } = await abRun(sequentialYaml, { AB_WORKER_SWING: '1' });
    expect(asked.map(describeAsked)).toEqual([
      'open baseFirst=false',
      'run candidate-first',
      'reopen baseFirst=true',
      'run base-first',
      'run candidate-first',
      'reopen baseFirst=false',
      'run base-first',
      'run candidate-first',
      'reopen baseFirst=true',
      'run base-first',
    ]);
    expect(new Set(asked.map((a) => a.pid)).size).toBe(1);
  });

  it('a worker that refuses reopen (one from before it) is restarted with the order asked, as before', async () => {
    const { asked } = await abRun(sequentialYaml, { AB_WORKER_SWING: '1', AB_WORKER_REOPEN: 'refuse' });
    expect(asked.filter((a) => a.type !== 'run').map(describeAsked)).toEqual([
      'open baseFirst=false',
      'reopen baseFirst=true (refused)',
      'open baseFirst=true',
      'reopen baseFirst=false (refused)',
      'open baseFirst=false',
      'reopen baseFirst=true (refused)',
      'open baseFirst=true',
    ]);
    // A new process for each refused reopen, its first request the open.
    const pids = [...new Set(asked.map((a) => a.pid))];
    expect(pids).toHaveLength(4);
    expect(pids.map((pid) => asked.find((a) => a.pid === pid)!.type)).toEqual(['open', 'open', 'open', 'open']);
  });
});

describe('a worker killed from outside (the OOM killer)', () => {
  it("says it was probably memory, with the pass's estimated logits size", async () => {
    const dir = tempDir();
    const config = loadConfigFile(
      writeConfig(
        dir,
        `backends: [onnxruntime-cpu]\nscenarios:\n  s: { batch: 2, seq_len: 64 }\nrepetitions: 1\niterations: 1\nwarmup: 0\naccuracy: { enabled: false }\n`,
      ),
    );
    const { results } = await runPipeline({
      config,
      outDir: path.join(dir, 'out'),
      backendOptions: {
        nodeWorker: { command: process.execPath, args: [path.join(ROOT, 'test/helpers/oom-worker.mjs')] },
      },
    });
    expect(results.cells[0]!.firstReason).toBe(
      "the worker process was killed by SIGKILL, not by tr118's timeout: probably out of memory (the kernel's OOM killer); " +
        "a 2×64 pass's logits alone are 2 MiB (batch × seq_len × vocabulary 4096 × 4 bytes)",
    );
    expect(results.verdict.decision).toBe('fail');
  });
});

describe("memory: each pass's logits against the budget, before anything is measured", () => {
  it('a pass above limits.memory_budget_mib is a warning, in the results and the report', async () => {
    const dir = tempDir();
    const config = loadConfigFile(
      writeConfig(
        dir,
        // 1×8 tokens × 4,096 × 4 bytes = 0.125 MiB: above a 0.1 MiB budget, below 4× it
        `backends: [onnxruntime-cpu]\nscenarios:\n  s: { batch: 1, seq_len: 8 }\nrepetitions: 1\niterations: 1\nwarmup: 0\naccuracy: { enabled: false }\nlimits: { memory_budget_mib: 0.1 }\n`,
      ),
    );
    const warnings: string[] = [];
    const { results, files } = await runPipeline({
      config,
      outDir: path.join(dir, 'out'),
      warn: (message) => warnings.push(message),
    });
    expect(warnings).toEqual([
      "scenarios.s: a 1×8 pass's logits alone are 0.125 MiB (batch × seq_len × vocabulary 4096 × 4 bytes), above limits.memory_budget_mib 0.1; a worker's peak memory is several times its logits (5× on the fixture model): it may be killed for memory",
    ]);
    expect(results.notes).toEqual(warnings);
    expect(results.cells[0]!.status).toBe('ok');
    expect(readFileSync(files.report, 'utf8')).toContain('> ⚠️ scenarios.s: a 1×8 pass');
  });
});

describe('token ids for a model that is not the fixture', () => {
  const TINY = `backends: [onnxruntime-cpu]\nscenarios:\n  s: { batch: 2, seq_len: 8 }\nrepetitions: 1\niterations: 1\nwarmup: 0\n`;

  it('without inputs.tokens, the fixture ids fed to another model are a warning, in the results and the report', async () => {
    const dir = tempDir();
    const config = path.join(dir, 'c.yml');
    writeFileSync(
      config,
      `model: { onnx: ${foreignModel(dir)} }\n${TINY}accuracy: { max_tokens: 300, window: 64, stride: 32 }\n`,
    );
    const warnings: string[] = [];
    const { results, files } = await runPipeline({
      config: loadConfigFile(config),
      outDir: path.join(dir, 'out'),
      warn: (message) => warnings.push(message),
    });
    expect(warnings).toEqual([
      `the scenarios and the perplexity (meaningless for another tokenizer) use the bundled fixture's token ids (inputs.tokens is not set), made by the fixture model's tokenizer (${FIXTURE_TOKENS}), but ${path.join(dir, 'foreign.onnx')} is not the fixture model: set inputs.tokens (and accuracy.tokens or accuracy.text) to text tokenized for this model`,
    ]);
    expect(results.notes).toEqual(warnings);
    expect(readFileSync(files.report, 'utf8')).toContain(`> ⚠️ the scenarios and the perplexity`);
  });

  it('--model with the built-in default config (which names the fixture ids) warns before measuring', async () => {
    const dir = tempDir();
    const warnings: string[] = [];
    const stop = new Error('stopped at the first warning');
    await expect(
      runPipeline({
        config: loadConfigFile(path.join(ROOT, 'fixtures/configs/default.yml'), { modelPath: foreignModel(dir) }),
        modelFromFlag: true,
        outDir: path.join(dir, 'out'),
        warn: (message) => {
          warnings.push(message);
          throw stop; // the default matrix need not run for this
        },
      }),
    ).rejects.toBe(stop);
    expect(warnings[0]).toMatch(
      /^the scenarios and the perplexity \(meaningless for another tokenizer\) use the bundled fixture's token ids \(the built-in default config names them\), made by .*foreign\.onnx is not the fixture model/,
    );
  });

  it("a user's config that names the fixture ids chose them: no warning", async () => {
    const dir = tempDir();
    const warnings: string[] = [];
    await runPipeline({
      config: loadConfigFile(writeConfig(dir, `${TINY}accuracy: { enabled: false }\n`), {
        modelPath: foreignModel(dir),
      }),
      modelFromFlag: true,
      outDir: path.join(dir, 'out'),
      warn: (message) => warnings.push(message),
    });
    expect(warnings).toEqual([]);
  });

  it('with accuracy.tokens and no inputs.tokens, the scenarios use the evaluation tokens: no warning', async () => {
    const dir = tempDir();
    const evalFile = path.join(dir, 'eval.json');
    writeFileSync(
      evalFile,
      JSON.stringify((JSON.parse(readFileSync(FIXTURE_TOKENS, 'utf8')) as number[]).slice(0, 300)),
    );
    const config = path.join(dir, 'c.yml');
    const body = `model: { onnx: ${foreignModel(dir)} }\n${TINY}accuracy: { tokens: ${evalFile}, window: 64, stride: 32 }\n`;
    writeFileSync(config, body);
    const warnings: string[] = [];
    const { results } = await runPipeline({
      config: loadConfigFile(config),
      outDir: path.join(dir, 'out'),
      warn: (message) => warnings.push(message),
    });
    expect(warnings).toEqual([]);
    expect(results.notes).toEqual([]);
    // the 300 evaluation tokens are what the rows are cut from: a scenario needing more names accuracy.tokens
    writeFileSync(config, body.replace('{ batch: 2, seq_len: 8 }', '{ batch: 2, seq_len: 400 }'));
    await expect(runPipeline({ config: loadConfigFile(config), outDir: path.join(dir, 'out2') })).rejects.toThrow(
      /scenarios\.s: a 2×400 batch of distinct rows needs 401 tokens; accuracy\.tokens \(.*eval\.json\) has 300 \(inputs\.tokens is not set/,
    );
  });
});
