/**
 * `tr118 run` on a config that names only model.hf (so the checkpoint is exported), as separate processes the way
 * users and self-hosted runners start them: two runs needing one export at once, and bad sources (issue 10, Tests).
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { EXPORT_PIP_PACKAGES } from '../../src/artifacts/onnx-export.js';
import { ARTIFACT_KIND } from '../../src/artifacts/keys.js';
import { ExitCode } from '../../src/errors.js';
import { readResultsFile } from '../../src/results/read.js';
import { FIXTURE_HF, FIXTURE_TOKENS, ROOT, tempDir } from '../helpers/fixture.js';
import { VENV_PYTHON } from '../helpers/python.js';
import { runProcess } from '../helpers/run.js';

/** One backend, one small scenario, few iterations, a short perplexity: seconds beyond the export. */
const MATRIX =
  'backends: [onnxruntime-cpu]\nscenarios:\n  s: { batch: 1, seq_len: 16 }\nrepetitions: 1\niterations: 2\nwarmup: 0\n' +
  'accuracy: { max_tokens: 300, window: 128, stride: 64 }\n';

/** A config whose model is model.hf alone, on line 2 (errors locate it at 2:7). */
function hfConfig(dir: string, hf: string): string {
  const file = path.join(dir, 'tr118.yml');
  writeFileSync(file, `model:\n  hf: ${hf}\n  context_tokens: 512\ninputs:\n  tokens: ${FIXTURE_TOKENS}\n${MATRIX}`);
  return file;
}

/** The CLI from source in its own process (as cli.test.ts runs it); killed if it outlasts `timeoutMs`. */
function tr118(args: string[], env: NodeJS.ProcessEnv, timeoutMs: number) {
  return runProcess(process.execPath, ['--import', 'tsx', path.join(ROOT, 'src/cli/index.ts'), ...args], {
    cwd: ROOT,
    env,
    timeoutMs,
  });
}

describe('two tr118 run processes needing one export at the same time (issue 10)', () => {
  it('make one artifact: one run exports, the other waits and hits; both pass with the same perplexity', async () => {
    const dir = tempDir();
    const config = hfConfig(dir, FIXTURE_HF);
    const cacheDir = path.join(dir, 'cache');
    const env = { ...process.env, TR118_PYTHON: VENV_PYTHON };
    const run = (out: string) =>
      tr118(['run', '--config', config, '--out', path.join(dir, out), '--cache-dir', cacheDir], env, 300_000);
    // Both started before either is awaited: the second asks for the key while the first holds its lock.
    const runs = [run('out1'), run('out2')];
    const [first, second] = await Promise.all(runs);
    for (const r of [first!, second!]) {
      expect(r.signal, r.stderr).toBeNull();
      expect(r.status, r.stderr).toBe(ExitCode.pass);
      expect(r.stdout).toMatch(/^verdict: pass /m);
    }
    // The export ran in one process only (the log line comes from inside the store's build).
    expect([first!, second!].filter((r) => r.stderr.includes('tr118: exporting ')).length).toBe(1);

    const results = ['out1', 'out2'].map((out) => readResultsFile(path.join(dir, out, 'results.json')));
    const exports = results.map((r) => r.export!);
    expect(exports.map((e) => e.cache).sort()).toEqual(['built', 'hit']);
    expect(exports[1]!.key).toBe(exports[0]!.key);
    expect(exports[1]!.onnxPath).toBe(exports[0]!.onnxPath);
    const hit = exports.find((e) => e.cache === 'hit')!;
    const built = exports.find((e) => e.cache === 'built')!;
    expect(hit.probeMaxAbsDiff).toBeNull();
    expect(hit.exportMs).toBe(built.exportMs);
    const ppl = results.map((r) => r.accuracy!.rows[0]!.perplexity!);
    // One file, one runtime, the same tokens: the same number (to rounding of a sum, were threads to split it).
    expect(Math.abs(ppl[1]! / ppl[0]! - 1)).toBeLessThan(1e-9);

    // Exactly one entry of the export kind, under that key, and nothing half-made left beside it.
    expect(readdirSync(path.join(cacheDir, ARTIFACT_KIND.onnxExport))).toEqual([built.key]);
    const scratch = path.join(cacheDir, '.tmp');
    expect(existsSync(scratch) ? readdirSync(scratch) : []).toEqual([]);
  }, 400_000);
});

describe('tr118 run with a bad model.hf source: exit 2, one line naming the key and what to fix (issue 10)', () => {
  /** Each case: the source folder (made in `dir`), the worker's Python, and what the one line must say. */
  const cases: {
    name: string;
    source: (dir: string) => string;
    python: (dir: string) => Promise<string>;
    expected: (dir: string, source: string) => string[];
  }[] = [
    {
      name: 'a missing folder',
      source: (dir) => path.join(dir, 'no-such-checkpoint'),
      python: () => Promise.resolve(VENV_PYTHON),
      expected: (_dir, source) => [
        'config error: ',
        `expected a Hugging Face checkpoint folder (config.json + *.safetensors); ${source} does not exist`,
      ],
    },
    {
      name: 'a checkpoint whose architectures are not a causal LM (BertModel)',
      source: (dir) => checkpointWith(dir, 'bert', { architectures: ['BertModel'], model_type: 'bert' }),
      python: () => Promise.resolve(VENV_PYTHON),
      expected: (_dir, source) => [
        `${source} is not a causal language model (config.json architectures: BertModel)`,
        'expected a *ForCausalLM or *LMHeadModel checkpoint',
      ],
    },
    {
      // Nothing in config.json for the TypeScript side to refuse: transformers (in the worker) finds no causal LM.
      name: 'a checkpoint with no architectures whose model_type has no causal LM class (t5)',
      source: (dir) => checkpointWith(dir, 't5', { model_type: 't5', d_model: 128, num_layers: 2, num_heads: 4 }),
      python: () => Promise.resolve(VENV_PYTHON),
      expected: (_dir, source) => [
        `exporting ${source} to ONNX failed: ${source}: not a causal LM transformers can load`,
        'expected a checkpoint that transformers.AutoModelForCausalLM loads',
      ],
    },
    {
      name: 'no Python (TR118_PYTHON names no file)',
      source: () => FIXTURE_HF,
      python: (dir) => Promise.resolve(path.join(dir, 'no-python', 'bin', 'python')),
      expected: (dir) => [
        `TR118_PYTHON=${path.join(dir, 'no-python', 'bin', 'python')} is not an executable file`,
        `install them with: python3 -m pip install ${EXPORT_PIP_PACKAGES}, and set TR118_PYTHON to that Python`,
      ],
    },
    {
      name: 'a Python without torch',
      source: () => FIXTURE_HF,
      python: async (dir) => {
        const venv = path.join(dir, 'bare-venv');
        const made = await runProcess(VENV_PYTHON, ['-m', 'venv', '--without-pip', venv], { timeoutMs: 60_000 });
        if (made.status !== 0) throw new Error(`python -m venv failed: ${made.stderr}`);
        return path.join(venv, 'bin', 'python');
      },
      expected: (dir) => {
        const python = path.join(dir, 'bare-venv', 'bin', 'python');
        return [
          `needs torch, which is not installed for ${python}`,
          `install what exporting needs with: ${python} -m pip install ${EXPORT_PIP_PACKAGES}`,
        ];
      },
    },
  ];

  it.each(cases)(
    '$name',
    async ({ source, python, expected }) => {
      const dir = tempDir();
      const hf = source(dir);
      const config = hfConfig(dir, hf);
      const env = { ...process.env, TR118_PYTHON: await python(dir) };
      const r = await tr118(
        ['run', '--quiet', '--config', config, '--out', path.join(dir, 'out'), '--cache-dir', path.join(dir, 'cache')],
        env,
        120_000,
      );
      expect(r.signal, r.stderr).toBeNull();
      expect(r.status, r.stderr).toBe(ExitCode.usage);
      const lines = r.stderr.trim().split('\n');
      expect(lines, r.stderr).toHaveLength(1);
      expect(lines[0]).toMatch(/^tr118: /);
      expect(lines[0]).toContain(`${config}:2:7: model.hf: `);
      for (const text of expected(dir, hf)) expect(lines[0]).toContain(text);
      expect(r.stderr).not.toContain('    at ');
      expect(r.stdout).toBe('');
      expect(existsSync(path.join(dir, 'out', 'results.json'))).toBe(false);
    },
    150_000,
  );

  it("the install line is the Python worker's own (native/ pins what an export needs once)", () => {
    const python = readFileSync(path.join(ROOT, 'native/tr118_native/worker/onnx_export.py'), 'utf8');
    expect(python).toContain(`EXPORT_REQUIREMENTS = "${EXPORT_PIP_PACKAGES}"`);
  });
});

/** A checkpoint folder: the fixture's weights under a config.json of `config` (with the fixture's vocabulary size). */
function checkpointWith(dir: string, name: string, config: Record<string, unknown>): string {
  const folder = path.join(dir, name);
  mkdirSync(folder);
  writeFileSync(path.join(folder, 'config.json'), JSON.stringify({ vocab_size: 4096, ...config }));
  writeFileSync(path.join(folder, 'model.safetensors'), readFileSync(path.join(FIXTURE_HF, 'model.safetensors')));
  return folder;
}
