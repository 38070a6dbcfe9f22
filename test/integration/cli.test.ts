import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { ExitCode } from '../../src/errors.js';
import { ROOT, tempDir, writeConfig } from '../helpers/fixture.js';

/** Runs the CLI from source, as a separate process, the way a user's shell does. */
function tr118(args: string[], cwd = ROOT) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(ROOT, 'src/cli/index.ts'), ...args], {
    cwd,
    encoding: 'utf8',
    timeout: 120_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const SMALL = `backends: [onnxruntime-cpu]\nscenarios:\n  single_micro: { batch: 1, seq_len: 8 }\nrepetitions: 2\niterations: 2\nwarmup: 1\naccuracy: { max_tokens: 300, window: 128, stride: 64 }\n`;

describe('tr118 exit codes (README "Exit codes")', () => {
  it('--help and --version exit 0', () => {
    const help = tr118(['--help']);
    expect(help.code).toBe(ExitCode.pass);
    expect(help.stdout).toContain('Usage: tr118');
    expect(help.stdout).toContain('Exit codes');
    const runHelp = tr118(['run', '--help']);
    expect(runHelp.stdout).toContain('--config <file>');
    const version = tr118(['--version']);
    expect(version.code).toBe(0);
    expect(version.stdout.trim()).toBe(
      (JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string }).version,
    );
  });

  it('no command and unknown flags exit 2', () => {
    expect(tr118([]).code).toBe(ExitCode.usage);
    const bad = tr118(['run', '--frobnicate']);
    expect(bad.code).toBe(ExitCode.usage);
    expect(bad.stderr).toContain("unknown option '--frobnicate'");
  });

  it('a bad config exits 2 with one clear line and no stack trace', () => {
    const dir = tempDir();
    const file = path.join(dir, 'bad.yml');
    writeFileSync(
      file,
      'model:\n  onnx: m.onnx\nbackends: [onnxruntime-cpu]\nscenarios:\n  s: { batch: 0, seq_len: 8 }\n',
    );
    const r = tr118(['run', '--config', file, '--out', path.join(dir, 'out')]);
    expect(r.code).toBe(ExitCode.usage);
    expect(r.stderr.trim()).toBe(`tr118: config error: ${file}:5:15: scenarios.s.batch: expected a number ≥ 1; got 0`);
  });

  it('a missing model file exits 2 naming the key and its line', () => {
    const dir = tempDir();
    const file = path.join(dir, 'c.yml');
    writeFileSync(
      file,
      'model:\n  onnx: nowhere.onnx\nbackends: [onnxruntime-cpu]\nscenarios:\n  s: { batch: 1, seq_len: 8 }\n',
    );
    const r = tr118(['run', '--config', file, '--out', path.join(dir, 'out')]);
    expect(r.code).toBe(ExitCode.usage);
    expect(r.stderr).toContain(
      `${file}:2:9: model.onnx: expected an existing ONNX file; got "${path.join(dir, 'nowhere.onnx')}"`,
    );
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('a passing run exits 0 and writes the report; a failing gate exits 1', () => {
    const dir = tempDir();
    const pass = tr118(['run', '--config', writeConfig(dir, SMALL), '--out', path.join(dir, 'pass')]);
    expect(pass.stderr).toContain('[1/2] onnxruntime-cpu × single_micro');
    expect(pass.code).toBe(ExitCode.pass);
    expect(pass.stdout).toContain('verdict: pass');
    expect(existsSync(path.join(dir, 'pass', 'report.md'))).toBe(true);

    // A perplexity ceiling below what the model achieves must fail the gate.
    const failing = tr118([
      'run',
      '--config',
      writeConfig(dir, `${SMALL}thresholds: { max_perplexity: 1.5 }\n`),
      '--out',
      path.join(dir, 'fail'),
      '--quiet',
    ]);
    expect(failing.code).toBe(ExitCode.gateFailed);
    expect(failing.stdout).toContain('verdict: fail');
    expect(failing.stdout).toMatch(/exceeds thresholds\.max_perplexity 1\.5/);
    expect(failing.stderr).toBe('');
  });

  it('a backend that did not run is never a silent pass; --fail-on decides which verdict exits 1', () => {
    const dir = tempDir();
    // tensorrt-fp16 is unavailable everywhere in this version (no native worker yet): a stand-in for a GPU backend
    // on a machine without one.
    const gpuOnly = writeConfig(dir, SMALL.replace('[onnxruntime-cpu]', '[tensorrt-fp16]'));
    const nothing = tr118(['run', '--config', gpuOnly, '--out', path.join(dir, 'a'), '-q']);
    expect(nothing.stdout).toMatch(/^verdict: inconclusive \(.*; not run: tensorrt-fp16 \(unavailable\)\)$/m);
    expect(nothing.stdout).toMatch(/^ {2}warn: tensorrt-fp16: configured but not run \(unavailable: /m);
    expect(nothing.code).toBe(ExitCode.gateFailed);
    expect(tr118(['run', '--config', gpuOnly, '--out', path.join(dir, 'b'), '-q', '--fail-on', 'fail']).code).toBe(
      ExitCode.pass,
    );

    const mixed = writeConfig(dir, SMALL.replace('[onnxruntime-cpu]', '[onnxruntime-cpu, tensorrt-fp16]'));
    const warned = tr118(['run', '--config', mixed, '--out', path.join(dir, 'c'), '-q']);
    expect(warned.stdout).toMatch(/^verdict: warn \(.*; not run: tensorrt-fp16 \(unavailable\)\)$/m);
    expect(warned.code).toBe(ExitCode.pass);
    const report = readFileSync(path.join(dir, 'c', 'report.md'), 'utf8');
    expect(report).toMatch(/^\*\*Verdict: ⚠️ warn\*\* — .*not run: tensorrt-fp16 \(unavailable\)\.$/m);
    expect(tr118(['run', '--config', mixed, '--out', path.join(dir, 'd'), '-q', '--fail-on', 'warn']).code).toBe(
      ExitCode.gateFailed,
    );

    const bad = tr118(['run', '--config', mixed, '--out', path.join(dir, 'e'), '--fail-on', 'sometimes']);
    expect(bad.code).toBe(ExitCode.usage);
    expect(bad.stderr).toContain('Allowed choices are warn, inconclusive, fail, never');
  });

  it('an impossible results.json (all-zero latencies) exits 2 naming the file and key: baseline save, compare', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'zero.json');
    const fingerprint = { hash: 'h', cpuModel: 'c', cpuCount: 2, gpus: '', gpuDriver: '', nodeVersion: 'v22' };
    const cell = {
      ...{ backend: 'onnxruntime-cpu', scenario: 's', batch: 1, seqLen: 8, realTokens: 8, status: 'ok' },
      ...{
        runs: 2,
        degradedRuns: 0,
        degradedRate: 0,
        repetitionLatenciesMs: [
          [0, 0],
          [0, 0],
        ],
      },
      fingerprint: {
        ...fingerprint,
        ...{ onnxruntimeVersion: '1.30.0', engine: 'onnxruntime', provider: 'cpu', precision: 'fp32' },
        ...{ intraOpThreads: 0, interOpThreads: 0, graphOptimization: 'all', batch: 1, seqLen: 8 },
        ...{ warmup: 1, iterations: 2, timing: 'plain' },
      },
    };
    writeFileSync(
      file,
      JSON.stringify({
        schemaVersion: 1,
        startedAt: 'x',
        model: { name: 'm', sha256: 's' },
        cells: [cell],
        accuracy: null,
      }),
    );
    const run = async (argv: string[]) => {
      let err = '';
      const stderr = new PassThrough();
      stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
      const stdout = new PassThrough() as unknown as NodeJS.WriteStream;
      const code = await main(argv, { stdout, stderr: stderr as unknown as NodeJS.WriteStream, cwd: dir });
      return { code, err };
    };
    const key = 'impossible figure: cells[0].repetitionLatenciesMs[0][0]: expected a latency > 0 ms; got 0';
    expect(await run(['baseline', 'save', file, '--store', path.join(dir, 'store')])).toEqual({
      code: ExitCode.usage,
      err: `tr118: results ${file}: ${key}\n`,
    });
    expect(await run(['compare', file, file, '--out', path.join(dir, 'out')])).toEqual({
      code: ExitCode.usage,
      err: `tr118: base ${file}: ${key}\n`,
    });
  });

  it('an unexpected error exits 3 with a one-line message', async () => {
    const broken = new PassThrough() as unknown as NodeJS.WriteStream;
    broken.write = () => {
      throw new Error('stdout is gone');
    };
    const stderr = new PassThrough();
    let text = '';
    stderr.on('data', (chunk: Buffer) => (text += chunk.toString()));
    const code = await main(['--version'], {
      stdout: broken,
      stderr: stderr as unknown as NodeJS.WriteStream,
      cwd: ROOT,
    });
    expect(code).toBe(ExitCode.internal);
    expect(text).toContain('tr118: internal error: stdout is gone');
  });
});

describe('the built bundle (dist/), as `npm start` and the bin run it', () => {
  it('runs a small matrix end to end with its bundled worker', () => {
    const dir = tempDir();
    const r = spawnSync(
      process.execPath,
      [
        path.join(ROOT, 'dist/cli.js'),
        'run',
        '--config',
        writeConfig(dir, SMALL),
        '--out',
        path.join(dir, 'out'),
        '-q',
      ],
      { encoding: 'utf8', timeout: 120_000 },
    );
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('onnxruntime-cpu: ok; geomean median');
  });
});
