/** The model file and token files a config points at: existence, hashing, token id validation. */
import { closeSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import type { Config } from '../config/load.js';
import { byteTokens, hfTokens } from '../accuracy/tokenize.js';
import { formatKeyPath, UsageError } from '../errors.js';
import { sha256File, type Sha256Of } from '../cache/digest-memo.js';

export interface ModelFile {
  readonly path: string;
  readonly bytes: number;
  readonly sha256: string;
}

/** Where a key's file is named: the config line, or the --model flag when that replaced it. */
function where(config: Config, keyPath: (string | number)[], viaFlag: boolean): string {
  return viaFlag ? '--model' : `${config.locate(keyPath)}: ${formatKeyPath(keyPath)}`;
}

/** What a Git LFS pointer file starts with (https://github.com/git-lfs/git-lfs/blob/main/docs/spec.md). */
const LFS_POINTER_START = 'version https://git-lfs.github.com/spec/';

/**
 * A checkout without Git LFS (or `git show REF:FILE` of an LFS file) leaves a ~130-byte text pointer where the model
 * should be: certainly the user's setup, never the model's fault. Read from the file's first bytes only.
 */
export function isGitLfsPointer(file: string): boolean {
  const head = Buffer.alloc(LFS_POINTER_START.length);
  let fd: number | undefined;
  try {
    fd = openSync(file, 'r');
    const read = readSync(fd, head, 0, head.length, 0);
    return read === head.length && head.toString('latin1') === LFS_POINTER_START;
  } catch {
    return false;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** Checks that `file` is an existing file and not a Git LFS pointer; `at` names the key or flag in errors. */
function checkModelFile(file: string, at: string): number {
  let bytes: number;
  try {
    const stat = statSync(file);
    if (!stat.isFile()) throw new Error('not a file');
    bytes = stat.size;
  } catch {
    throw new UsageError(
      `config error: ${at}: expected an existing ONNX file; got ${JSON.stringify(file)}, which does not exist or is not a file`,
    );
  }
  if (isGitLfsPointer(file)) {
    throw new UsageError(
      `config error: ${at}: ${file} is a Git LFS pointer (${bytes} bytes), not the ONNX model: fetch the file itself ` +
        '(git lfs pull; actions/checkout with lfs: true; `git show REF:FILE | git lfs smudge` for an older version)',
    );
  }
  return bytes;
}

/**
 * model.onnx, checked and hashed. `known` is a digest of this very file made moments ago (the artifact store's check
 * of a cached export): hashing a GPT-2-sized file again would cost a cache hit most of a second.
 */
export async function resolveModelFile(
  config: Config,
  modelFromFlag: boolean,
  known?: { readonly path: string; readonly sha256: string },
  sha256Of: Sha256Of = sha256File,
): Promise<ModelFile> {
  const file = config.model.onnxPath;
  const bytes = checkModelFile(file, where(config, ['model', 'onnx'], modelFromFlag));
  const sha256 = known?.path === file ? known.sha256 : await sha256Of(file);
  return { path: file, bytes, sha256 };
}

/** Where the base model of a same-run A/B was named: the --base-model flag, or compare.base_model and its line. */
export function baseModelWhere(config: Config, fromFlag: boolean): string {
  return fromFlag ? '--base-model' : `${config.locate(['compare', 'base_model'])}: compare.base_model`;
}

/** The base model of a same-run A/B (compare.base_model or --base-model). */
export async function resolveBaseModelFile(
  config: Config,
  fromFlag: boolean,
  sha256Of: Sha256Of = sha256File,
): Promise<ModelFile> {
  const file = config.compare.baseModelPath ?? '';
  const bytes = checkModelFile(file, baseModelWhere(config, fromFlag));
  return { path: file, bytes, sha256: await sha256Of(file) };
}

/** A backend with its own `model` names a file that must exist too. */
export async function resolveBackendModels(
  config: Config,
  sha256Of: Sha256Of = sha256File,
): Promise<Map<string, ModelFile>> {
  const files = new Map<string, ModelFile>();
  for (const [i, spec] of config.backends.entries()) {
    if (spec.modelPath === config.model.onnxPath || files.has(spec.modelPath)) continue;
    const bytes = checkModelFile(spec.modelPath, `${config.locate(['backends', i, 'model'])}: backends[${i}].model`);
    files.set(spec.modelPath, { path: spec.modelPath, bytes, sha256: await sha256Of(spec.modelPath) });
  }
  return files;
}

/** Reads a JSON array of non-negative integer token ids; errors name the file, the config key and the first bad id. */
export function readTokenFile(config: Config, file: string, keyPath: (string | number)[]): number[] {
  const at = `${config.locate(keyPath)}: ${formatKeyPath(keyPath)}`;
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code ? code : `not valid JSON (${(error as Error).message})`;
    throw new UsageError(`config error: ${at}: expected a JSON file holding an array of token ids; ${file}: ${why}`);
  }
  if (!Array.isArray(data))
    throw new UsageError(`config error: ${at}: expected a JSON array of token ids in ${file}; got ${typeof data}`);
  const bad = data.findIndex((id) => !Number.isInteger(id) || (id as number) < 0);
  if (bad >= 0) {
    throw new UsageError(
      `config error: ${at}: expected non-negative integer token ids in ${file}; position ${bad} holds ${JSON.stringify(data[bad])}`,
    );
  }
  return data as number[];
}

/** Token ids must index the model's vocabulary. */
export function checkTokensInVocab(
  config: Config,
  tokens: readonly number[],
  vocabSize: number,
  file: string,
  keyPath: (string | number)[],
): void {
  const bad = tokens.findIndex((id) => id >= vocabSize);
  if (bad >= 0) {
    throw new UsageError(
      `config error: ${config.locate(keyPath)}: ${formatKeyPath(keyPath)}: token id ${tokens[bad]} at position ${bad} of ${file} is outside the model's vocabulary (size ${vocabSize}); were these ids made by this model's tokenizer?`,
    );
  }
}

export interface EvalTokens {
  readonly tokens: number[];
  /** The file the tokens came from, and the config key that named it (for errors found later). */
  readonly file: string;
  readonly keyPath: (string | number)[];
  readonly tokenizer: 'ids' | 'bytes' | 'tokenizer.json';
}

function readText(config: Config, file: string, keyPath: (string | number)[]): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? String(error);
    throw new UsageError(
      `config error: ${config.locate(keyPath)}: ${formatKeyPath(keyPath)}: cannot read ${file}: ${code === 'ENOENT' ? 'no such file' : code}`,
    );
  }
}

/**
 * The evaluation tokens: a JSON array of ids, or text tokenized here (UTF-8 bytes or a tokenizer.json). `read`: ids
 * already read from a file (the input tokens), not read twice.
 */
export function loadEvalTokens(
  config: Config,
  read?: { readonly file: string; readonly tokens: number[] },
): EvalTokens {
  const source = config.accuracy.source;
  if (source.kind === 'tokens') {
    const keyPath = config.raw.accuracy.tokens !== undefined ? ['accuracy', 'tokens'] : ['inputs', 'tokens'];
    const tokens = source.path === read?.file ? read.tokens : readTokenFile(config, source.path, keyPath);
    return { tokens, file: source.path, keyPath, tokenizer: 'ids' };
  }
  const keyPath = ['accuracy', 'text'];
  const text = readText(config, source.path, keyPath);
  if (source.tokenizer === 'bytes') return { tokens: byteTokens(text), file: source.path, keyPath, tokenizer: 'bytes' };
  const tokenizerKey = ['accuracy', 'tokenizer'];
  let tokens: number[];
  try {
    tokens = hfTokens(JSON.parse(readText(config, source.tokenizer, tokenizerKey)), text);
  } catch (error) {
    if (error instanceof UsageError) throw error;
    throw new UsageError(
      `config error: ${config.locate(tokenizerKey)}: accuracy.tokenizer: expected "bytes" or a Hugging Face tokenizer.json; ${source.tokenizer}: ${(error as Error).message}`,
    );
  }
  return { tokens, file: source.path, keyPath, tokenizer: 'tokenizer.json' };
}
