/**
 * Where onnxruntime-node comes from. From an npm install it is a normal dependency; the Action runs from a checkout
 * without node_modules, so it provisions the package (src/action/provision-onnxruntime.ts) and names the folder in
 * TR118_ONNXRUNTIME_NODE, which worker processes inherit. Nothing imports onnxruntime-node statically, so the
 * bundles load without it and the first use says what is missing.
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import type * as Ort from 'onnxruntime-node';
import { describeError, UsageError } from '../../errors.js';

/** An onnxruntime-node package folder to use instead of the installed dependency (e.g. one with GPU providers). */
export const ORT_PACKAGE_ENV = 'TR118_ONNXRUNTIME_NODE';

const require = createRequire(import.meta.url);
let loaded: typeof Ort | undefined;

/** The onnxruntime-node package folder this process uses, or undefined when there is none. */
export function ortPackageDir(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const configured = env[ORT_PACKAGE_ENV];
  if (configured) return path.resolve(configured);
  try {
    return path.dirname(require.resolve('onnxruntime-node/package.json'));
  } catch {
    return undefined;
  }
}

export function loadOrt(): typeof Ort {
  if (loaded) return loaded;
  const dir = ortPackageDir();
  if (!dir) {
    throw new UsageError(
      `onnxruntime-node is not installed: run npm ci, or set ${ORT_PACKAGE_ENV} to an onnxruntime-node package folder`,
    );
  }
  try {
    loaded = require(dir) as typeof Ort;
  } catch (error) {
    throw new UsageError(`could not load onnxruntime-node from ${dir}: ${describeError(error)}`);
  }
  return loaded;
}
