/**
 * Hugging Face checkpoint folders (model.hf, compare.base_hf, a pytorch backend's own `model`): checked before
 * anything starts, so that a wrong folder is the user's clear mistake (exit 2) and not a degraded backend, and hashed
 * by content (the checkpoint's identity in results.json).
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import type { Config } from '../config/load.js';
import { formatKeyPath, UsageError } from '../errors.js';
import { sha256File, type Sha256Of } from '../cache/digest-memo.js';
import { checkpointOf } from '../engines/registry.js';
import { isGitLfsPointer, type ModelFile } from './source.js';

/** Model classes transformers' AutoModelForCausalLM loads: GPT2LMHeadModel, LlamaForCausalLM, … */
const CAUSAL_LM = /(ForCausalLM|LMHeadModel)$/;

/**
 * The checked files of one checkpoint folder. `at` names the config key (with its line) in errors; pickled
 * weights are refused unless `trustPickle` (loading a pickle can run code).
 */
export function checkCheckpoint(folder: string, at: string, trustPickle: boolean): string[] {
  const fail = (message: string): never => {
    throw new UsageError(`config error: ${at}: ${message}`);
  };
  let names: string[] = [];
  try {
    if (!statSync(folder).isDirectory()) fail(`${folder} is a file; expected a Hugging Face checkpoint folder`);
    names = readdirSync(folder);
  } catch (error) {
    if (error instanceof UsageError) throw error;
    fail(`expected a Hugging Face checkpoint folder (config.json + *.safetensors); ${folder} does not exist`);
  }
  if (!names.includes('config.json')) fail(`${folder} has no config.json: not a Hugging Face checkpoint folder`);
  let config: unknown;
  try {
    config = JSON.parse(readFileSync(path.join(folder, 'config.json'), 'utf8'));
  } catch (error) {
    fail(`${path.join(folder, 'config.json')} is not valid JSON (${(error as Error).message})`);
  }
  const architectures = (config as { architectures?: unknown }).architectures;
  if (Array.isArray(architectures) && !architectures.some((a) => typeof a === 'string' && CAUSAL_LM.test(a))) {
    fail(
      `${folder} is not a causal language model (config.json architectures: ${architectures.join(', ')}); ` +
        'expected a *ForCausalLM or *LMHeadModel checkpoint',
    );
  }
  const safetensors = names.filter((n) => n.endsWith('.safetensors')).sort();
  const pickled = names.filter((n) => n.endsWith('.bin')).sort();
  let weights = safetensors;
  if (safetensors.length === 0) {
    if (pickled.length === 0) fail(`${folder} holds no weights (*.safetensors)`);
    if (!trustPickle) {
      fail(
        `${folder} holds only pickled weights (${pickled.join(', ')}), which can run code when loaded: convert them ` +
          'to safetensors, or set model.trust_pickle: true if you trust where they came from',
      );
    }
    weights = pickled;
  }
  for (const name of weights) {
    const file = path.join(folder, name);
    if (isGitLfsPointer(file)) {
      fail(
        `${file} is a Git LFS pointer, not the weights: fetch the file itself (git lfs pull; checkout with lfs: true)`,
      );
    }
  }
  return ['config.json', ...weights];
}

/** One file of a checkpoint folder: its name in the folder, size and sha256. */
export interface CheckpointFileDigest {
  readonly path: string;
  readonly bytes: number;
  readonly sha256: string;
}

/**
 * Size and sha256 of each of `files` (names in `folder`, as checkCheckpoint returns them: config.json and the
 * weights), in the order given. The export key is made of these.
 */
export async function checkpointFileDigests(
  folder: string,
  files: readonly string[],
  sha256Of: Sha256Of = sha256File,
): Promise<CheckpointFileDigest[]> {
  const digests: CheckpointFileDigest[] = [];
  for (const name of files) {
    const file = path.join(folder, name);
    digests.push({ path: name, bytes: statSync(file).size, sha256: await sha256Of(file) });
  }
  return digests;
}

/** sha256 over the names and contents of config.json and the weight files, in name order. */
export async function checkpointDigest(
  folder: string,
  files: readonly string[],
  sha256Of: Sha256Of = sha256File,
): Promise<ModelFile> {
  const hash = createHash('sha256');
  let bytes = 0;
  for (const file of await checkpointFileDigests(folder, files, sha256Of)) {
    bytes += file.bytes;
    hash.update(`${file.path}\0${file.sha256}\n`);
  }
  return { path: folder, bytes, sha256: hash.digest('hex') };
}

/** Every checkpoint folder the config names, checked and hashed once each (keyed by folder). */
export async function resolveCheckpoints(
  config: Config,
  sha256Of: Sha256Of = sha256File,
): Promise<Map<string, ModelFile>> {
  const named: { folder: string; keyPath: (string | number)[] }[] = [];
  config.backends.forEach((spec, i) => {
    const folder = checkpointOf(spec);
    if (folder === undefined) return;
    const own = folder !== config.model.hfPath;
    named.push({ folder, keyPath: own ? ['backends', i, 'model'] : ['model', 'hf'] });
  });
  if (config.compare.baseHfPath !== undefined)
    named.push({ folder: config.compare.baseHfPath, keyPath: ['compare', 'base_hf'] });
  const checked = new Map<string, ModelFile>();
  for (const { folder, keyPath } of named) {
    if (checked.has(folder)) continue;
    const files = checkCheckpoint(
      folder,
      `${config.locate(keyPath)}: ${formatKeyPath(keyPath)}`,
      config.model.trustPickle,
    );
    checked.set(folder, await checkpointDigest(folder, files, sha256Of));
  }
  return checked;
}
