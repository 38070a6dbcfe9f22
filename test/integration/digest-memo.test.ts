/**
 * The pipeline takes the input files' sha256 from the digest memo beside the artifact cache (cache/digest-memo.ts):
 * a planted digest for the unchanged fixture shows up as the run's model hash, so the run did not read the file;
 * touching the file's content makes the run read it again.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DIGEST_MEMO_FILE } from '../../src/cache/store.js';
import { loadConfigFile } from '../../src/config/load.js';
import { sha256File } from '../../src/cache/digest-memo.js';
import { DIGEST_MEMO_ENV, runPipeline } from '../../src/pipeline/index.js';
import { FIXTURE_MODEL, FIXTURE_TOKENS, tempDir } from '../helpers/fixture.js';

const PLANTED = 'f'.repeat(64);

describe('tr118 run remembers input digests by stat, beside the artifact cache', () => {
  it('an unchanged model is not hashed again; a changed one is', async () => {
    const dir = tempDir();
    const model = path.join(dir, 'model.onnx');
    writeFileSync(model, readFileSync(FIXTURE_MODEL));
    const config = path.join(dir, 'tr118.yml');
    writeFileSync(
      config,
      `model:\n  onnx: ${model}\n  context_tokens: 512\ninputs:\n  tokens: ${FIXTURE_TOKENS}\n` +
        'backends: [onnxruntime-cpu]\nscenarios:\n  s: { batch: 1, seq_len: 16 }\n' +
        'repetitions: 1\niterations: 2\nwarmup: 0\naccuracy: { enabled: false }\n',
    );
    const cacheDir = path.join(dir, 'cache');
    const memoFile = path.join(cacheDir, DIGEST_MEMO_FILE);
    const run = (out: string) =>
      runPipeline({ config: loadConfigFile(config), outDir: path.join(dir, out), cacheDir, digestMemoMinBytes: 1 });
    // Just written: too fresh to remember (racy, cache/digest-memo.ts), so the first run only hashes; once the file
    // is RACY_MS old, the next run remembers it.
    const first = await run('out1');
    expect(first.results.model.sha256).toBe(await sha256File(model));
    await new Promise((resolve) => setTimeout(resolve, 2100));
    await run('out2');
    const memo = JSON.parse(readFileSync(memoFile, 'utf8')) as { entries: Record<string, { sha256: string }> };
    expect(memo.entries[model]?.sha256).toBe(first.results.model.sha256);
    memo.entries[model]!.sha256 = PLANTED;
    writeFileSync(memoFile, JSON.stringify(memo));
    expect((await run('out3')).results.model.sha256).toBe(PLANTED);
    // Any write changes ctime: the file is read again and the memo corrected.
    writeFileSync(model, readFileSync(FIXTURE_MODEL));
    expect((await run('out4')).results.model.sha256).toBe(first.results.model.sha256);
    // TR118_DIGEST_MEMO=off: the memo is neither read nor written.
    await new Promise((resolve) => setTimeout(resolve, 2100));
    await run('out5');
    const remembered = JSON.parse(readFileSync(memoFile, 'utf8')) as typeof memo;
    remembered.entries[model]!.sha256 = PLANTED;
    writeFileSync(memoFile, JSON.stringify(remembered));
    const off = await runPipeline({
      config: loadConfigFile(config),
      outDir: path.join(dir, 'out6'),
      cacheDir,
      digestMemoMinBytes: 1,
      backendOptions: { env: { ...process.env, [DIGEST_MEMO_ENV]: 'off' } },
    });
    expect(off.results.model.sha256).toBe(first.results.model.sha256);
  });
});
