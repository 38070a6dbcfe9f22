/** pythonPackageVersions: one question to a Python about its packages, by metadata, shared by three cache keys. */
import { describe, expect, it } from 'vitest';
import { pythonPackageVersions } from '../../src/backends/python-packages.js';
import { VENV_PYTHON } from '../helpers/python.js';

describe('pythonPackageVersions', () => {
  it('gives the installed versions by name and the missing ones in the order asked', async () => {
    const answer = await pythonPackageVersions({ command: VENV_PYTHON }, [
      'onnx',
      'tr118-no-such-a',
      'tr118-no-such-b',
    ]);
    expect(answer.ok).toBe(true);
    if (!answer.ok) return;
    expect(answer.versions.onnx).toMatch(/^\d+\.\d+/);
    expect(answer.missing).toEqual(['tr118-no-such-a', 'tr118-no-such-b']);
  });

  it('a Python that cannot answer is not ok, with the reason', async () => {
    const answer = await pythonPackageVersions({ command: '/nonexistent/python3' }, ['onnx']);
    expect(answer).toMatchObject({ ok: false });
    if (answer.ok) return;
    expect(answer.why).toMatch(/ENOENT/);
  });
});
