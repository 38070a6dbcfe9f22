/**
 * `tr118 run` on a config that names only model.hf, as separate processes the way users and self-hosted runners start
 * them: bad sources that need no torch to be refused (issue 10, Tests). Two runs needing one export at once, and a
 * source only transformers can refuse, are in test/torch/export-cli.test.ts.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { EXPORT_PIP_PACKAGES } from '../../src/model/onnx-export.js';
import { checkpointWith, expectOneUsageLine, hfConfig, tr118 } from '../helpers/export-cli.js';
import { FIXTURE_HF, ROOT, tempDir } from '../helpers/fixture.js';
import { VENV_PYTHON } from '../helpers/python.js';
import { runProcess } from '../helpers/run.js';

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
        const made = await runProcess(VENV_PYTHON, ['-m', 'venv', '--without-pip', venv]);
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

  it.each(cases)('$name', async ({ source, python, expected }) => {
    const dir = tempDir();
    const hf = source(dir);
    const config = hfConfig(dir, hf);
    const env = { ...process.env, TR118_PYTHON: await python(dir) };
    const r = await tr118(
      ['run', '--quiet', '--config', config, '--out', path.join(dir, 'out'), '--cache-dir', path.join(dir, 'cache')],
      env,
    );
    expectOneUsageLine(r, config, expected(dir, hf));
    expect(existsSync(path.join(dir, 'out', 'results.json'))).toBe(false);
  });

  it("the install line is the Python worker's own (native/ pins what an export needs once)", () => {
    const python = readFileSync(path.join(ROOT, 'native/tr118_native/worker/onnx_export.py'), 'utf8');
    // One string literal, wrapped in parentheses where it outgrew a line.
    expect(python.match(/^EXPORT_REQUIREMENTS = \(?\s*"([^"]+)"\s*\)?$/m)?.[1]).toBe(EXPORT_PIP_PACKAGES);
  });
});
