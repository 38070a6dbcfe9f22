/** Exit codes are part of the CLI's contract (README "Exit codes"); one place defines them. */
export const ExitCode = {
  pass: 0,
  gateFailed: 1,
  usage: 2,
  internal: 3,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/**
 * An error the user can fix (bad flag, bad config, missing file). The message is complete and is printed as is,
 * without a stack trace; it maps to exit code 2.
 */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** Turns anything thrown into one line of text, whatever was thrown (not only Error instances). */
export function describeError(error: unknown): string {
  if (error instanceof Error) return error.message;
  if (typeof error === 'string') return error;
  try {
    return JSON.stringify(error);
  } catch {
    return String(error);
  }
}

/**
 * A key path as a config or JSON error names it: `thresholds.latency.fail_fraction`, `cells[3].stats`. Every reader
 * of a file (config, results.json, the event payload) words its errors with it, so it lives with the errors.
 */
export function formatKeyPath(keyPath: readonly PropertyKey[]): string {
  let out = '';
  for (const key of keyPath) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out === '' ? String(key) : `.${String(key)}`;
  }
  return out === '' ? '(top level)' : out;
}
