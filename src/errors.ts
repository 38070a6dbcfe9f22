/** Exit codes are part of the CLI's contract (docs/cli.md "Exit codes"); one place defines them. */
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

/**
 * What a failed file operation's errno means, in words a user acts on, with the code for searching:
 * `no space left on device (ENOSPC)`. Node's own messages ("ENOSPC: no space left on device, write") name neither
 * the file nor the fix, and unknown errors keep their message.
 */
export function errnoMeaning(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | null)?.code;
  const meaning = code === undefined ? undefined : ERRNO_MEANINGS[code];
  if (meaning !== undefined) return `${meaning} (${code})`;
  return code ?? describeError(error);
}

const ERRNO_MEANINGS: Readonly<Record<string, string>> = {
  ENOSPC: 'no space left on device',
  EDQUOT: 'disk quota exceeded',
  EFBIG: 'file too large for the filesystem',
  EROFS: 'read-only filesystem',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EISDIR: 'it is a folder',
  ENOTEMPTY: 'it is a folder that is not empty',
  ENOTDIR: 'a part of its path is a file, not a folder',
  ENOENT: 'no such file or folder',
  ELOOP: 'a loop of symbolic links',
  ENAMETOOLONG: 'name too long',
  EIO: 'input/output error',
  EMFILE: 'too many open files',
  ENFILE: 'too many open files on the system',
};
