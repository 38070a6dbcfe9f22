/**
 * The local baseline store: named results.json copies in one folder (self-hosted runners keep it between jobs).
 * Default folder: $TR118_BASELINE_DIR, else ~/.cache/tr118/baselines; `--store DIR` overrides both.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describeError, UsageError } from '../errors.js';
import { makeWritableDir, writeFileAtomic } from '../out-dir.js';
import { appendHistory } from './history.js';
import { readResultsFile } from './read.js';
import type { Results } from './schema.js';

/**
 * $TR118_BASELINE_DIR, else ~/.cache/tr118/baselines: HOME, else the user's home folder in the password database.
 * With neither (a container user with no passwd entry, HOME unset) there is no default: a usage error says what to set.
 */
export function defaultStoreDir(
  env: NodeJS.ProcessEnv = process.env,
  passwdHome: () => string = () => os.userInfo().homedir,
): string {
  if (env.TR118_BASELINE_DIR) return env.TR118_BASELINE_DIR;
  let home = env.HOME ?? '';
  if (home === '') {
    try {
      home = passwdHome();
    } catch {
      // No passwd entry for this user: no home folder to fall back on.
    }
  }
  if (home === '') {
    throw new UsageError(
      'baseline store: the default ~/.cache/tr118/baselines needs a home folder, but HOME is not set and this user has none: ' +
        'set HOME or TR118_BASELINE_DIR, or give the store (--store DIR; the Action: baseline-store)',
    );
  }
  return path.join(home, '.cache', 'tr118', 'baselines');
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

function checkName(name: string): void {
  if (!NAME.test(name)) {
    throw new UsageError(
      `baseline name ${JSON.stringify(name)}: expected letters, digits, ".", "_" or "-" (e.g. main)`,
    );
  }
}

/** Where the baseline NAME is (or would be) stored. */
export function storedBaselineFile(storeDir: string, name: string): string {
  checkName(name);
  return path.join(storeDir, `${name}.json`);
}

/** Validates `resultsFile` as a result, then stores it as NAME (atomically: a reader never sees half a file). */
export function saveBaseline(resultsFile: string, name: string, storeDir: string): string {
  checkName(name);
  const results = readResultsFile(resultsFile, `results ${resultsFile}`);
  makeWritableDir(storeDir, 'baseline store');
  const target = storedBaselineFile(storeDir, name);
  try {
    writeFileAtomic(target, readFileSync(resultsFile));
  } catch (error) {
    throw new UsageError(`baseline store ${storeDir}: ${describeError(error)}`);
  }
  try {
    appendHistory(target, results);
  } catch {
    // The history only draws the branch over time in report.html: the baseline itself is stored either way.
  }
  return target;
}

/** A baseline argument is a file path, or the name of a stored baseline. */
export function resolveBaseline(nameOrFile: string, storeDir: string): string {
  if (existsSync(nameOrFile)) return nameOrFile;
  if (NAME.test(nameOrFile) && !nameOrFile.endsWith('.json')) {
    const stored = path.join(storeDir, `${nameOrFile}.json`);
    if (existsSync(stored)) return stored;
    const names = listBaselines(storeDir);
    throw new UsageError(
      `baseline ${JSON.stringify(nameOrFile)}: no such file, and no stored baseline of that name in ${storeDir}` +
        (names.length > 0 ? ` (stored: ${names.join(', ')})` : ' (the store is empty: `tr118 baseline save`)'),
    );
  }
  throw new UsageError(`baseline ${nameOrFile}: no such file`);
}

export function listBaselines(storeDir: string): string[] {
  if (!existsSync(storeDir)) return [];
  let names: string[];
  try {
    names = readdirSync(storeDir);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? String(error);
    throw new UsageError(`baseline store ${storeDir}: cannot list it (${code === 'ENOTDIR' ? 'not a folder' : code})`);
  }
  return names
    .filter((f) => f.endsWith('.json'))
    .map((f) => f.slice(0, -'.json'.length))
    .sort();
}

export function loadBaseline(nameOrFile: string, storeDir: string): { file: string; results: Results } {
  const file = resolveBaseline(nameOrFile, storeDir);
  return { file, results: readResultsFile(file) };
}
