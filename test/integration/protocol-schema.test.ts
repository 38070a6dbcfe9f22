/**
 * One protocol in two languages: every preset, resolved by its family on the TypeScript side, passes the Python
 * worker's check (native/tr118_native/worker/schema.py against protocol.schema.json); a spec the TypeScript schema
 * refuses, Python refuses too.
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { PRESETS } from '../../src/engines/registry.js';
import { ROOT } from '../helpers/fixture.js';
import { VENV_PYTHON } from '../helpers/python.js';
import { runProcess } from '../helpers/run.js';
import { specOf } from '../helpers/specs.js';

/** The Python checker's verdict on each spec: "ok", or its error message. */
async function pythonVerdicts(specs: readonly object[]): Promise<string[]> {
  const script =
    'import json, sys\nfrom tr118_native.worker.errors import WorkerError\nfrom tr118_native.worker.schema import parse_spec\n' +
    'out = []\nfor spec in json.loads(sys.argv[1]):\n' +
    '    try:\n        parse_spec(spec)\n        out.append("ok")\n    except WorkerError as e:\n        out.append(e.message)\n' +
    'print(json.dumps(out))';
  const r = await runProcess(VENV_PYTHON, ['-c', script, JSON.stringify(specs)], {
    env: { ...process.env, PYTHONPATH: path.join(ROOT, 'native') },
  });
  expect(r.stderr).toBe('');
  return JSON.parse(r.stdout) as string[];
}

describe('the spec, as TypeScript resolves it and Python checks it', () => {
  it('every preset passes', async () => {
    const specs = [...PRESETS.keys()].map((name) => specOf(name, '/m.onnx', '/hf'));
    expect(await pythonVerdicts(specs)).toEqual(specs.map(() => 'ok'));
  });

  it('what the TypeScript schema refuses, Python refuses, naming the key', async () => {
    const good = specOf('onnxruntime-cpu', '/m.onnx');
    const verdicts = await pythonVerdicts([
      { ...good, provider: 'rocm' },
      { ...good, intraOpThreads: -1 },
      { ...specOf('transformers-cpu', '/m.onnx', '/hf'), compile: 'sometimes' },
    ]);
    expect(verdicts[0]).toContain('backend.provider: expected one of cpu, cuda, tensorrt');
    expect(verdicts[1]).toContain('backend.intraOpThreads: expected at least 0');
    expect(verdicts[2]).toContain('backend.compile: expected one of off, default, reduce-overhead, max-autotune');
  });
});
