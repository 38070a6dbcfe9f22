/** Where this package's own files are, from source (src/…) and from the bundle (dist/…) alike. */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

let cached: string | undefined;

/** The folder holding this package's package.json (the first one above this module). */
export function packageRoot(): string {
  if (cached) return cached;
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!existsSync(path.join(dir, 'package.json'))) {
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`package.json not found above ${fileURLToPath(import.meta.url)}`);
    dir = parent;
  }
  cached = dir;
  return dir;
}

export const FIXTURE_DIR_RELATIVE = 'fixtures/model';

export function fixturePath(file: string): string {
  return path.join(packageRoot(), FIXTURE_DIR_RELATIVE, file);
}

/** The built-in default matrix (`tr118 run` without --config, the Action without config). */
export function defaultConfigPath(): string {
  return path.join(packageRoot(), 'fixtures/configs/default.yml');
}
