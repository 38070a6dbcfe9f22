/**
 * Which versions of some packages a Python has, read from their installed metadata rather than by importing them:
 * importing torch alone takes seconds, which every artifact-cache hit would pay. One question, asked by the export
 * key (torch, transformers, onnx, onnxscript), the precision variants' key (onnxruntime, onnx) and the
 * torch.compile cache's key (torch).
 */
import { execFile } from 'node:child_process';

export type PackageVersions =
  | {
      readonly ok: true;
      /** The installed ones, by the name asked for. */
      readonly versions: Readonly<Record<string, string>>;
      /** The ones not installed, in the order asked. */
      readonly missing: readonly string[];
    }
  /** The Python could not be asked: its last stderr line, or what it printed instead of an answer. */
  | { readonly ok: false; readonly why: string };

export function pythonPackageVersions(
  python: { readonly command: string; readonly env?: Readonly<Record<string, string>> | undefined },
  packages: readonly string[],
  timeoutMs = 120_000,
): Promise<PackageVersions> {
  const script = [
    'import json, sys, importlib.metadata as m',
    'versions, missing = {}, []',
    'for p in sys.argv[1:]:',
    '    try:',
    '        versions[p] = m.version(p)',
    '    except m.PackageNotFoundError:',
    '        missing.append(p)',
    'print(json.dumps({"versions": versions, "missing": missing}))',
  ].join('\n');
  return new Promise((resolve) => {
    execFile(
      python.command,
      ['-c', script, ...packages],
      { env: { ...process.env, ...python.env }, timeout: timeoutMs },
      (error, stdout, stderr) => {
        if (error) {
          // A broken Python's stderr is a traceback: its last line says what went wrong.
          const why = stderr.trim().split('\n').pop()?.trim() || error.message.split('\n')[0] || 'no answer';
          resolve({ ok: false, why });
          return;
        }
        try {
          const answer = JSON.parse(stdout) as { versions: Record<string, string>; missing: string[] };
          resolve({ ok: true, versions: answer.versions, missing: answer.missing });
        } catch {
          resolve({ ok: false, why: `it printed no package versions: ${stdout.slice(0, 200)}` });
        }
      },
    );
  });
}
