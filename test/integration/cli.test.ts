import { spawn, spawnSync } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  chmodSync,
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { ExitCode } from '../../src/errors.js';
import { LOCK_FILE } from '../../src/out-dir.js';
import { FIXTURE_HF, FIXTURE_MODEL, FIXTURE_TOKENS, ROOT, tempDir, writeConfig } from '../helpers/fixture.js';
import { writeResults } from '../helpers/results.js';
import { HANG_GUARD_MS, runProcess } from '../helpers/run.js';
import { cliArgs } from '../helpers/cli.js';

/**
 * Runs the CLI from source, as a separate process, the way a user's shell does. A process that has not exited
 * after `timeoutMs` is killed: its code is then null (a hang, not a slow run).
 */
async function tr118(
  args: string[],
  cwd = ROOT,
  env: NodeJS.ProcessEnv = process.env,
  timeoutMs = HANG_GUARD_MS,
  uid?: number,
) {
  const r = await runProcess(process.execPath, cliArgs(args), {
    cwd,
    env,
    timeoutMs,
    ...(uid !== undefined ? { uid, gid: uid } : {}),
  });
  return { code: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

const SMALL = `backends: [onnxruntime-cpu]\nscenarios:\n  single_micro: { batch: 1, seq_len: 8 }\nrepetitions: 2\niterations: 2\nwarmup: 1\naccuracy: { max_tokens: 300, window: 128, stride: 64 }\n`;

describe('tr118 exit codes (docs/cli.md "Exit codes")', () => {
  it('--help and --version exit 0', async () => {
    const help = await tr118(['--help']);
    expect(help.code).toBe(ExitCode.pass);
    expect(help.stdout).toContain('Usage: tr118');
    expect(help.stdout).toContain('Exit codes');
    const runHelp = await tr118(['run', '--help']);
    expect(runHelp.stdout).toContain('--config <file>');
    const version = await tr118(['--version']);
    expect(version.code).toBe(0);
    expect(version.stdout.trim()).toBe(
      (JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string }).version,
    );
  });

  it('no command and unknown flags exit 2', async () => {
    expect((await tr118([])).code).toBe(ExitCode.usage);
    const bad = await tr118(['run', '--frobnicate']);
    expect(bad.code).toBe(ExitCode.usage);
    expect(bad.stderr).toContain("unknown option '--frobnicate'");
  });

  it('a bad config exits 2 with one clear line and no stack trace', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'bad.yml');
    writeFileSync(
      file,
      'model:\n  onnx: m.onnx\nbackends: [onnxruntime-cpu]\nscenarios:\n  s: { batch: 0, seq_len: 8 }\n',
    );
    const r = await tr118(['run', '--config', file, '--out', path.join(dir, 'out')]);
    expect(r.code).toBe(ExitCode.usage);
    expect(r.stderr.trim()).toBe(`tr118: config error: ${file}:5:15: scenarios.s.batch: expected a number ≥ 1; got 0`);
  });

  it('a missing model file exits 2 naming the key and its line', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'c.yml');
    writeFileSync(
      file,
      'model:\n  onnx: nowhere.onnx\nbackends: [onnxruntime-cpu]\nscenarios:\n  s: { batch: 1, seq_len: 8 }\n',
    );
    const r = await tr118(['run', '--config', file, '--out', path.join(dir, 'out')]);
    expect(r.code).toBe(ExitCode.usage);
    expect(r.stderr).toContain(
      `${file}:2:9: model.onnx: expected an existing ONNX file; got "${path.join(dir, 'nowhere.onnx')}"`,
    );
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('a passing run exits 0 and writes the report; a failing gate exits 1', async () => {
    const dir = tempDir();
    const pass = await tr118(['run', '--config', writeConfig(dir, SMALL), '--out', path.join(dir, 'pass')]);
    expect(pass.stderr).toContain('[1/2] onnxruntime-cpu × single_micro');
    expect(pass.code).toBe(ExitCode.pass);
    expect(pass.stdout).toContain('verdict: pass');
    expect(existsSync(path.join(dir, 'pass', 'report.md'))).toBe(true);

    // A perplexity ceiling below what the model achieves must fail the gate.
    const failing = await tr118([
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

  it('a backend that did not run is never a silent pass; --fail-on decides which verdict exits 1', async () => {
    const dir = tempDir();
    // tensorrt-fp16 is unavailable on every machine without TensorRT (all of this project's): a GPU backend on a
    // machine without one.
    const gpuOnly = writeConfig(dir, SMALL.replace('[onnxruntime-cpu]', '[tensorrt-fp16]'));
    const nothing = await tr118(['run', '--config', gpuOnly, '--out', path.join(dir, 'a'), '-q']);
    expect(nothing.stdout).toMatch(/^verdict: inconclusive \(.*; not run: tensorrt-fp16 \(unavailable\)\)$/m);
    expect(nothing.stdout).toMatch(/^ {2}warn: tensorrt-fp16: configured but not run \(unavailable: /m);
    expect(nothing.code).toBe(ExitCode.gateFailed);
    expect(
      (await tr118(['run', '--config', gpuOnly, '--out', path.join(dir, 'b'), '-q', '--fail-on', 'fail'])).code,
    ).toBe(ExitCode.pass);

    const mixed = writeConfig(dir, SMALL.replace('[onnxruntime-cpu]', '[onnxruntime-cpu, tensorrt-fp16]'));
    const warned = await tr118(['run', '--config', mixed, '--out', path.join(dir, 'c'), '-q']);
    expect(warned.stdout).toMatch(/^verdict: warn \(.*; not run: tensorrt-fp16 \(unavailable\)\)$/m);
    expect(warned.code).toBe(ExitCode.pass);
    const report = readFileSync(path.join(dir, 'c', 'report.md'), 'utf8');
    expect(report).toMatch(/^\*\*Verdict: ⚠️ warn\*\* — .*not run: tensorrt-fp16 \(unavailable\)\.$/m);
    expect(
      (await tr118(['run', '--config', mixed, '--out', path.join(dir, 'd'), '-q', '--fail-on', 'warn'])).code,
    ).toBe(ExitCode.gateFailed);

    const bad = await tr118(['run', '--config', mixed, '--out', path.join(dir, 'e'), '--fail-on', 'sometimes']);
    expect(bad.code).toBe(ExitCode.usage);
    expect(bad.stderr).toContain('Allowed choices are warn, inconclusive, fail, never');
  });

  it('an impossible results.json (all-zero latencies) exits 2 naming the file and key: baseline save, compare', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'zero.json');
    writeResults(file, (r) => {
      (r.cells as { repetitionLatenciesMs: number[][] }[])[0]!.repetitionLatenciesMs = [
        [0, 0],
        [0, 0],
      ];
    });
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
  it('runs a small matrix end to end with its bundled worker', async () => {
    const dir = tempDir();
    const r = await runProcess(process.execPath, [
      path.join(ROOT, 'dist/cli.js'),
      'run',
      '--config',
      writeConfig(dir, SMALL),
      '--out',
      path.join(dir, 'out'),
      '-q',
    ]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('onnxruntime-cpu: ok; geomean median');
  });
});

/** A token file of the fixture's first ids with one id past its vocabulary (4,096) at position 3. */
function badTokens(dir: string): string {
  const ids = (JSON.parse(readFileSync(FIXTURE_TOKENS, 'utf8')) as number[]).slice(0, 600);
  ids[3] = 9999;
  const file = path.join(dir, 'bad.tokens.json');
  writeFileSync(file, JSON.stringify(ids));
  return file;
}

interface BadRun {
  readonly name: string;
  /** Writes what the case needs into `dir`; returns the arguments (and the environment, if it differs). */
  readonly setup: (dir: string) => { readonly args: string[]; readonly env?: NodeJS.ProcessEnv };
  /** Parts of the one line on stderr. */
  readonly expect: readonly (string | RegExp)[];
  /** Runs as a user without root's rights (root may write any folder): as `nobody` when the tests run as root. */
  readonly unprivileged?: boolean;
}

/** `nobody`: a user for whom a folder of mode 0555 is not writable. */
const NOBODY = 65534;
const RUNNING_AS_ROOT = process.getuid?.() === 0;

/** What a checkout without Git LFS leaves in place of a model. */
const LFS_POINTER =
  'version https://git-lfs.github.com/spec/v1\noid sha256:4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393\nsize 7773343\n';

const MODEL_ONLY = `model:\n  onnx: ${FIXTURE_MODEL}\n`;

/** SMALL on the PyTorch backend: its checkpoint folders are checked before a worker starts (no torch needed). */
const TORCH_SMALL = SMALL.replace('backends: [onnxruntime-cpu]', 'backends: [transformers-cpu]');

/** A copy of the fixture checkpoint in `dir`/`name`, with `damage` done to it. */
function checkpointCopy(dir: string, name: string, damage: (folder: string) => void): string {
  const folder = path.join(dir, name);
  cpSync(FIXTURE_HF, folder, { recursive: true });
  damage(folder);
  return folder;
}

/** The checkpoint's weights file replaced by what `make` puts there (a link loop, a folder). */
function weightsReplaced(make: (file: string) => void): (folder: string) => void {
  return (folder) => {
    const file = path.join(folder, 'model.safetensors');
    rmSync(file);
    make(file);
  };
}

/**
 * Bad inputs that show only once a run is under way (a worker may already be open): each exits 2 with one clear
 * line, and the process ends on its own (a worker left open used to keep it alive forever).
 */
const BAD_RUNS: readonly BadRun[] = [
  {
    name: 'a token id outside the vocabulary in inputs.tokens',
    setup: (dir) => {
      const config = path.join(dir, 'c.yml');
      writeFileSync(config, `${MODEL_ONLY}inputs: { tokens: ${badTokens(dir)} }\n${SMALL}`);
      return { args: ['run', '--config', config, '--out', path.join(dir, 'out')] };
    },
    expect: [
      /c\.yml:3:\d+: inputs\.tokens: token id 9999 at position 3 of .*bad\.tokens\.json is outside the model's vocabulary \(size 4096\)/,
    ],
  },
  {
    name: 'a token id outside the vocabulary in accuracy.tokens',
    setup: (dir) => {
      const config = path.join(dir, 'c.yml');
      writeFileSync(
        config,
        `${MODEL_ONLY}inputs: { tokens: ${FIXTURE_TOKENS} }\n${SMALL.replace('accuracy: {', `accuracy: { tokens: ${badTokens(dir)},`)}`,
      );
      return { args: ['run', '--config', config, '--out', path.join(dir, 'out')] };
    },
    expect: [/c\.yml:\d+:\d+: accuracy\.tokens: token id 9999 at position 3 of .*bad\.tokens\.json is outside/],
  },
  {
    name: 'a base model that is not ONNX (--base-model)',
    setup: (dir) => {
      const base = path.join(dir, 'base.onnx');
      writeFileSync(base, '<html>404 Not Found</html>\n');
      return {
        args: ['run', '--config', writeConfig(dir, SMALL), '--base-model', base, '--out', path.join(dir, 'out')],
      };
    },
    expect: [
      /^tr118: config error: --base-model: backend onnxruntime-cpu could not open the base model .*base\.onnx: .+; expected an ONNX model/,
    ],
  },
  {
    name: 'a base model that is a Git LFS pointer (compare.base_model)',
    setup: (dir) => {
      writeFileSync(path.join(dir, 'main.onnx'), LFS_POINTER);
      return {
        args: [
          'run',
          '--config',
          writeConfig(dir, `${SMALL}compare: { base_model: main.onnx }\n`),
          '--out',
          path.join(dir, 'out'),
        ],
      };
    },
    expect: [
      /tr118\.yml:13:\d+: compare\.base_model: .*main\.onnx is a Git LFS pointer \(\d+ bytes\), not the ONNX model: fetch the file itself/,
    ],
  },
  {
    name: 'a candidate model that is a Git LFS pointer (--model)',
    setup: (dir) => {
      writeFileSync(path.join(dir, 'model.onnx'), LFS_POINTER);
      return {
        args: [
          'run',
          '--config',
          writeConfig(dir, SMALL),
          '--model',
          path.join(dir, 'model.onnx'),
          '--out',
          path.join(dir, 'out'),
        ],
      };
    },
    expect: [/^tr118: config error: --model: .*model\.onnx is a Git LFS pointer/],
  },
  {
    name: "a backend's own model that is a Git LFS pointer (backends[].model)",
    setup: (dir) => {
      writeFileSync(path.join(dir, 'q.onnx'), LFS_POINTER);
      const body = SMALL.replace(
        'backends: [onnxruntime-cpu]',
        'backends: [{ name: q, engine: onnxruntime, model: q.onnx }]',
      );
      return { args: ['run', '--config', writeConfig(dir, body), '--out', path.join(dir, 'out')] };
    },
    expect: [/tr118\.yml:6:\d+: backends\[0\]\.model: .*q\.onnx is a Git LFS pointer/],
  },
  {
    name: 'an empty --out (it would write into the current folder)',
    setup: (dir) => ({ args: ['run', '--config', writeConfig(dir, SMALL), '--out', ''] }),
    expect: ['tr118: --out: expected an output folder; got an empty path (to write into this folder, give --out .)'],
  },
  {
    name: '--out under /proc (a filesystem that cannot hold files)',
    setup: (dir) => ({ args: ['run', '--config', writeConfig(dir, SMALL), '--out', '/proc/tr118-results/x'] }),
    expect: [
      "tr118: output folder /proc/tr118-results/x: /proc is on the kernel's proc filesystem, which cannot hold files",
    ],
  },
  {
    name: '--out under /sys',
    setup: () => ({ args: ['compare', FIXTURE_TOKENS, FIXTURE_TOKENS, '--out', '/sys/kernel/tr118'] }),
    expect: ["tr118: output folder /sys/kernel/tr118: /sys/kernel is on the kernel's sysfs filesystem"],
  },
  {
    name: 'an output folder that is not writable',
    unprivileged: true,
    setup: (dir) => {
      mkdirSync(path.join(dir, 'out'), { mode: 0o555 });
      return { args: ['run', '--config', writeConfig(dir, SMALL), '--out', path.join(dir, 'out')] };
    },
    expect: [/^tr118: output folder \/\S+\/out: not writable \(EACCES\)\n$/],
  },
  {
    name: 'an output folder below a folder that is not writable',
    unprivileged: true,
    setup: (dir) => {
      mkdirSync(path.join(dir, 'ro'), { mode: 0o555 });
      return { args: ['run', '--config', writeConfig(dir, SMALL), '--out', path.join(dir, 'ro', 'out')] };
    },
    expect: [
      /^tr118: output folder \/\S+\/ro\/out: not writable \(its nearest existing folder is \/\S+\/ro\) \(EACCES\)/,
    ],
  },
  {
    name: '--out names a file',
    setup: (dir) => {
      writeFileSync(path.join(dir, 'out'), '');
      return { args: ['run', '--config', writeConfig(dir, SMALL), '--out', path.join(dir, 'out')] };
    },
    expect: [/^tr118: output folder \/\S+\/out: \/\S+\/out is a file, not a folder\n$/],
  },
  {
    name: 'a baseline store that is not writable (baseline save --store)',
    unprivileged: true,
    setup: (dir) => {
      const results = writeResults(path.join(dir, 'results.json'));
      mkdirSync(path.join(dir, 'store'), { mode: 0o555 });
      return { args: ['baseline', 'save', results, '--store', path.join(dir, 'store')] };
    },
    expect: [/^tr118: baseline store \/\S+\/store: not writable \(EACCES\)\n$/],
  },
  {
    name: 'a model.hf whose config.json is valid JSON but null (issue 21)',
    setup: (dir) => {
      const hf = checkpointCopy(dir, 'hf', (f) => writeFileSync(path.join(f, 'config.json'), 'null\n'));
      return { args: ['run', '--config', writeConfig(dir, TORCH_SMALL, hf), '--out', path.join(dir, 'out')] };
    },
    expect: [
      /^tr118: config error: \S+\/tr118\.yml:4:\d+: model\.hf: \S+\/hf\/config\.json holds null, not a JSON object: expected the model's config/,
    ],
  },
  {
    name: 'a model.hf whose weights file is a loop of symbolic links (issue 21)',
    setup: (dir) => {
      const hf = checkpointCopy(
        dir,
        'hf',
        weightsReplaced((file) => symlinkSync('model.safetensors', file)),
      );
      return { args: ['run', '--config', writeConfig(dir, TORCH_SMALL, hf), '--out', path.join(dir, 'out')] };
    },
    expect: [
      /^tr118: config error: \S+\/tr118\.yml:4:\d+: model\.hf: \S+\/hf\/model\.safetensors is a loop of symbolic links \(ELOOP\); expected the weights file\n$/,
    ],
  },
  {
    name: 'a compare.base_hf whose weights file is a folder (issue 21)',
    setup: (dir) => {
      const base = checkpointCopy(
        dir,
        'main-hf',
        weightsReplaced((file) => mkdirSync(file)),
      );
      const body = `${TORCH_SMALL}compare: { base_hf: ${base} }\n`;
      return { args: ['run', '--config', writeConfig(dir, body, FIXTURE_HF), '--out', path.join(dir, 'out')] };
    },
    expect: [
      /^tr118: config error: \S+\/tr118\.yml:\d+:\d+: compare\.base_hf: \S+\/main-hf\/model\.safetensors is a folder, not a file; expected the weights file\n$/,
    ],
  },
  {
    name: 'a folder named report.html in --out (issue 21: was EISDIR, an internal error, and the lock left)',
    setup: (dir) => {
      mkdirSync(path.join(dir, 'out', 'report.html'), { recursive: true });
      return { args: ['run', '--config', writeConfig(dir, SMALL), '--out', path.join(dir, 'out')] };
    },
    expect: [
      /^tr118: output folder (\S+)\/out: \1\/out\/report\.html is a folder, where this run writes its report\.html: move or remove it\n$/,
    ],
  },
  {
    name: 'a folder named report.md where tr118 report writes (issue 21)',
    setup: (dir) => {
      const results = writeResults(path.join(dir, 'results.json'));
      mkdirSync(path.join(dir, 'out', 'report.md'), { recursive: true });
      return { args: ['report', results, '--out', path.join(dir, 'out')] };
    },
    expect: [/^tr118: output folder \S+\/out: \S+\/out\/report\.md is a folder, where this run writes its report\.md/],
  },
  {
    name: 'a YAML alias bomb in the config',
    setup: (dir) => {
      const levels = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i'];
      const bomb = levels.map(
        (k, i) => `${k}: &${k} [${new Array(9).fill(i === 0 ? 'lol' : `*${levels[i - 1]}`).join(', ')}]`,
      );
      return {
        args: ['run', '--config', writeConfig(dir, `${SMALL}${bomb.join('\n')}\n`), '--out', path.join(dir, 'out')],
      };
    },
    expect: [/^tr118: config error: \/\S+\/tr118\.yml:1\d:\d+: YAML aliases expand the config past 10000 nodes here/],
  },
  {
    name: 'a scenario whose logits alone exceed 4× limits.memory_budget_mib (refused before measuring)',
    setup: (dir) => {
      // 64×512 tokens × 4,096 × 4 bytes = 512 MiB of logits, against 4× a 100 MiB budget
      const body = `${SMALL.replace('{ batch: 1, seq_len: 8 }', '{ batch: 64, seq_len: 512 }')}limits: { memory_budget_mib: 100 }\n`;
      return { args: ['run', '--config', writeConfig(dir, body), '--out', path.join(dir, 'out')] };
    },
    expect: [
      /\ntr118: config error: \S+\/tr118\.yml:8:\d+: scenarios\.single_micro: a 64×512 pass's logits alone are 512 MiB \(batch × seq_len × vocabulary 4096 × 4 bytes\), more than 4× limits\.memory_budget_mib 100, .*: it cannot run here/,
    ],
  },
  {
    name: 'an output folder another live run holds (its lock names the pid)',
    setup: (dir) => {
      mkdirSync(path.join(dir, 'out'));
      // this test process is alive: its pid in the lock stands for a run still going on
      writeFileSync(path.join(dir, 'out', LOCK_FILE), `${process.pid}\n${os.hostname()}\n`);
      return { args: ['run', '--config', writeConfig(dir, SMALL), '--out', path.join(dir, 'out')] };
    },
    expect: [
      /^tr118: output folder \/\S+\/out is in use by another tr118 run \(pid \d+\): wait for it to finish or write elsewhere; if no run is going on, delete \S+\/out\/\.tr118\.lock\n$/,
    ],
  },
];

describe('bad inputs found during a run: exit 2, one line, and the process ends', () => {
  it.each(BAD_RUNS)('$name', async ({ setup, expect: parts, unprivileged }) => {
    const dir = tempDir();
    const asNobody = unprivileged === true && RUNNING_AS_ROOT;
    if (asNobody) chmodSync(dir, 0o755); // nobody reads the config written here
    const { args, env } = setup(dir);
    const r = await tr118(args, ROOT, env ?? process.env, HANG_GUARD_MS, asNobody ? NOBODY : undefined);
    expect(r.signal).toBeNull(); // not killed by the timeout: it exited by itself
    expect(r.code).toBe(ExitCode.usage);
    const lines = r.stderr.trim().split('\n');
    expect(lines.filter((line) => line.startsWith('tr118: ') && !line.startsWith('tr118: warning:'))).toHaveLength(1);
    expect(r.stderr).not.toMatch(/internal error|\n\s+at /);
    for (const part of parts) {
      if (typeof part === 'string') expect(r.stderr).toContain(part);
      else expect(r.stderr).toMatch(part);
    }
  });
});

describe('a candidate model that fails to load', () => {
  it('is the gate failing (exit 1, degraded), not a usage error: the PR brought it', async () => {
    const dir = tempDir();
    const model = path.join(dir, 'model.onnx');
    writeFileSync(model, 'not a model\n');
    const r = await tr118([
      'run',
      '--config',
      writeConfig(dir, SMALL),
      '--model',
      model,
      '--out',
      path.join(dir, 'out'),
      '-q',
    ]);
    expect(r.code).toBe(ExitCode.gateFailed);
    expect(r.stdout).toContain('verdict: fail');
    expect(r.stdout).toMatch(/onnxruntime-cpu: degraded; /);
  });
});

describe('the output folder holds the files of one run', () => {
  it("a new run clears the previous run's files first: a failed run leaves only its own partial results.jsonl", async () => {
    const dir = tempDir();
    const out = path.join(dir, 'out');
    mkdirSync(out);
    for (const name of [
      'report.md',
      'report.html',
      'results.json',
      'summary.csv',
      'verdict.json',
      'manifest.json',
      'merged.json',
    ])
      writeFileSync(path.join(out, name), 'from the previous run\n');
    writeFileSync(path.join(out, 'results.jsonl'), '{"kind":"backend","backend":"old"}\n');
    writeFileSync(path.join(out, 'notes.txt'), 'not ours: kept\n');
    const config = path.join(dir, 'c.yml');
    writeFileSync(config, `${MODEL_ONLY}inputs: { tokens: ${badTokens(dir)} }\n${SMALL}`);
    const r = await tr118(['run', '--config', config, '--out', out, '-q']);
    expect(r.code).toBe(ExitCode.usage);
    expect(readdirSync(out).sort()).toEqual(['notes.txt', 'results.jsonl']);
    expect(readFileSync(path.join(out, 'results.jsonl'), 'utf8')).not.toContain('"old"');
  });

  it('a folder where an output file goes stops the run before it measures; once moved, the run writes every file whole (issue 21)', async () => {
    const dir = tempDir();
    const out = path.join(dir, 'out');
    mkdirSync(path.join(out, 'report.html'), { recursive: true });
    const config = writeConfig(dir, SMALL);
    const refused = await tr118(['run', '--config', config, '--out', out, '-q']);
    expect(refused.code).toBe(ExitCode.usage);
    // Nothing measured, nothing written, and no lock left to refuse the next run.
    expect(readdirSync(out)).toEqual(['report.html']);
    rmSync(path.join(out, 'report.html'), { recursive: true });
    const r = await tr118(['run', '--config', config, '--out', out, '-q']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(ExitCode.pass);
    // The files alone: no partial file beside them, no lock.
    expect(readdirSync(out).sort()).toEqual([
      'manifest.json',
      'report.html',
      'report.md',
      'results.json',
      'results.jsonl',
      'summary.csv',
      'verdict.json',
    ]);
  });

  it('the lock of a run that no longer exists is taken over, and released at the end', async () => {
    const dir = tempDir();
    const out = path.join(dir, 'out');
    mkdirSync(out);
    const gone = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
    writeFileSync(path.join(out, LOCK_FILE), `${gone.stdout}\n${os.hostname()}\n`);
    const r = await tr118(['run', '--config', writeConfig(dir, SMALL), '--out', out, '-q']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(ExitCode.pass);
    expect(existsSync(path.join(out, LOCK_FILE))).toBe(false);
    expect(existsSync(path.join(out, 'report.md'))).toBe(true);
  });
});

describe('SIGINT or SIGTERM during a run (issue 21)', () => {
  it.each(['SIGINT', 'SIGTERM'] as const)(
    '%s: the lock is removed, the raw records kept, and the run says so',
    async (signal) => {
      const dir = tempDir();
      const out = path.join(dir, 'out');
      // Long enough that the signal arrives mid-matrix (minutes): the most repetitions the config admits, each long.
      const config = writeConfig(
        dir,
        SMALL.replace('repetitions: 2', 'repetitions: 1000').replace('iterations: 2', 'iterations: 1000'),
      );
      const child = spawn(process.execPath, cliArgs(['run', '--config', config, '--out', out, '-q']), {
        cwd: ROOT,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stderr = '';
      child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
      let exited: { code: number | null; signal: NodeJS.Signals | null } | undefined;
      const ended = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
        child.on('exit', (code, sig) => resolve((exited = { code, signal: sig }))),
      );
      const raw = path.join(out, 'results.jsonl');
      // Polls until the first measured record (no wall-clock bound: the suite's hang guard ends a run that never
      // gets here); a run that ends before it is a failure, with its output.
      while (!(existsSync(raw) && readFileSync(raw, 'utf8').includes('"kind":"run"'))) {
        if (exited) throw new Error(`the run ended (${JSON.stringify(exited)}) before measuring: ${stderr}`);
        await sleep(100);
      }
      child.kill(signal);
      const { signal: endedBy } = await ended;
      expect(endedBy).toBe(signal);
      expect(stderr).toMatch(
        new RegExp(
          `tr118: interrupted by ${signal}: \\S+/out/results\\.jsonl keeps the \\d+ raw records measured so far \\(no report, no verdict: the run did not finish\\); the folder's lock \\S+/out/\\.tr118\\.lock is removed\\n`,
        ),
      );
      expect(existsSync(path.join(out, LOCK_FILE))).toBe(false);
      expect(readFileSync(raw, 'utf8')).toContain('"kind":"run"');
      expect(existsSync(path.join(out, 'report.md'))).toBe(false);
    },
  );
});
