/**
 * Hugging Face checkpoint folders (model.hf, compare.base_hf, a pytorch backend's own `model`): checked before
 * anything starts, so that a wrong folder is the user's clear mistake (exit 2) and not a degraded backend, and hashed
 * by content (the checkpoint's identity in results.json).
 */
import { createHash } from 'node:crypto';
import { accessSync, constants, readdirSync, readFileSync, readlinkSync, statSync, type Stats } from 'node:fs';
import path from 'node:path';
import type { Config } from '../config/load.js';
import { errnoMeaning, formatKeyPath, UsageError } from '../errors.js';
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
  const configFile = path.join(folder, 'config.json');
  const configFault = fileFault(configFile);
  if (configFault !== undefined) fail(`${configFile} ${configFault}`);
  let config: unknown;
  try {
    config = JSON.parse(readFileSync(configFile, 'utf8'));
  } catch (error) {
    fail(`${configFile} is not valid JSON (${(error as Error).message})`);
  }
  // Valid JSON is not yet a config: `null`, a list or a number has no architecture for transformers to read.
  if (typeof config !== 'object' || config === null || Array.isArray(config))
    fail(`${configFile} holds ${jsonKind(config)}, not a JSON object: expected the model's config (model_type, …)`);
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
    // readdir lists a folder or a dangling link by its name alone: the hashing and the loader would fail on it later.
    const fault = fileFault(file);
    if (fault !== undefined) fail(`${file} ${fault}; expected the weights file`);
    if (isGitLfsPointer(file)) {
      fail(
        `${file} is a Git LFS pointer, not the weights: fetch the file itself (git lfs pull; checkout with lfs: true)`,
      );
    }
  }
  return ['config.json', ...weights];
}

/** What keeps `file` from being read as a regular file, in words ("is a folder"); undefined if nothing does. */
function fileFault(file: string): string | undefined {
  let stat: Stats;
  try {
    stat = statSync(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ELOOP') return 'is a loop of symbolic links (ELOOP)';
    // readdir listed it, so a missing target is a link that leads nowhere.
    if (code === 'ENOENT') return `is a symbolic link to nothing (${readlinkOrUnknown(file)})`;
    return `cannot be read: ${errnoMeaning(error)}`;
  }
  if (stat.isDirectory()) return 'is a folder, not a file';
  if (!stat.isFile()) return 'is not a regular file';
  try {
    accessSync(file, constants.R_OK);
  } catch (error) {
    return `cannot be read: ${errnoMeaning(error)}`;
  }
  return undefined;
}

function readlinkOrUnknown(file: string): string {
  try {
    return `→ ${readlinkSync(file)}`;
  } catch (error) {
    return errnoMeaning(error);
  }
}

/** How a JSON value is named in errors: null, a list, a number, a string, true. */
function jsonKind(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'boolean') return String(value);
  return `a ${typeof value}`;
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
