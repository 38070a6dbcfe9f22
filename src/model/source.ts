/** The model file and token files a config points at: existence, hashing, token id validation. */
import { createHash } from 'node:crypto';
import { createReadStream, readFileSync, statSync } from 'node:fs';
import type { Config } from '../config/load.js';
import { formatKeyPath } from '../config/load.js';
import { UsageError } from '../errors.js';

export interface ModelFile {
  readonly path: string;
  readonly bytes: number;
  readonly sha256: string;
}

export async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Where a key's file is named: the config line, or the --model flag when that replaced it. */
function where(config: Config, keyPath: (string | number)[], viaFlag: boolean): string {
  return viaFlag ? '--model' : `${config.locate(keyPath)}: ${formatKeyPath(keyPath)}`;
}

export async function resolveModelFile(config: Config, modelFromFlag: boolean): Promise<ModelFile> {
  const file = config.model.onnxPath;
  let bytes: number;
  try {
    const stat = statSync(file);
    if (!stat.isFile()) throw new Error('not a file');
    bytes = stat.size;
  } catch {
    throw new UsageError(
      `config error: ${where(config, ['model', 'onnx'], modelFromFlag)}: expected an existing ONNX file; got ${JSON.stringify(file)}, which does not exist or is not a file`,
    );
  }
  return { path: file, bytes, sha256: await sha256File(file) };
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
