import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { commitFiles } from '../helpers/git-repo.js';
import { machineSlug, parseBenchFlags, startBenchRecord, type BenchRecord } from '../../bench/record.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tr118-record-'));
  dirs.push(dir);
  return dir;
}

/** A git repository with one commit holding a config file; returns its folder and commit. */
function repoWithConfig(): { root: string; commit: string; configFile: string } {
  const root = tempDir();
  const commit = commitFiles(root, { 'bench.yml': 'repetitions: 3\n' });
  return { root, commit, configFile: path.join(root, 'bench.yml') };
}

function readRecord(file: string): BenchRecord {
  return JSON.parse(readFileSync(file, 'utf8')) as BenchRecord;
}

describe('machineSlug', () => {
  it.each([
    ['Intel(R) Xeon(R) Processor', 16, 'intel-xeon-16cpu'],
    ['AMD EPYC 7B13', 2, 'amd-epyc-7b13-2cpu'],
    ['Intel(R) Core(TM) i7-9750H CPU @ 2.60GHz', 12, 'intel-core-i7-9750h-12cpu'],
    ['AMD Ryzen 9 5950X 16-Core Processor', 32, 'amd-ryzen-9-5950x-32cpu'],
    ['', 4, 'unknown-cpu-4cpu'],
  ])('%s × %i → %s', (model, count, slug) => {
    expect(machineSlug(model, count)).toBe(slug);
  });
});

describe('startBenchRecord', () => {
  it('writes bench/results/<bench>-<machine>.json under the root with commit, config, machine and figures', () => {
    const { root, commit, configFile } = repoWithConfig();
    const recorder = startBenchRecord({
      bench: 'demo',
      root,
      configFile,
      parameters: { passes: 30 },
      notes: 'other work on the machine',
    });
    const cpus = os.cpus();
    const slug = machineSlug(cpus[0]?.model.trim() ?? 'unknown', cpus.length);
    expect(recorder.file).toBe(path.join(root, 'bench/results', `demo-${slug}.json`));

    recorder.write({ wallSeconds: 1.5 });
    const record = readRecord(recorder.file);
    expect(record.bench).toBe('demo');
    expect(record.git).toEqual({ commit, dirty: false, changedPaths: [] });
    expect(record.config).toEqual({
      file: 'bench.yml',
      sha256: createHash('sha256').update('repetitions: 3\n').digest('hex'),
      parameters: { passes: 30 },
    });
    expect(record.machine).toMatchObject({
      slug,
      cpuCount: cpus.length,
      totalMemoryMiB: Math.round(os.totalmem() / 2 ** 20),
      nodeVersion: process.version,
      notes: 'other work on the machine',
    });
    expect(record.machine.onnxruntimeVersion).toMatch(/^\d+\.\d+\.\d+/);
    expect(record.machine.loadAverageAtStart).toHaveLength(3);
    expect(record.figures).toEqual({ wallSeconds: 1.5 });
    expect(Date.parse(record.finishedAt)).toBeGreaterThanOrEqual(Date.parse(record.startedAt));
  });

  it('writes to --out when given, and a rewrite replaces the figures', () => {
    const { root } = repoWithConfig();
    const out = path.join(tempDir(), 'nested', 'mine.json');
    const recorder = startBenchRecord({ bench: 'demo', root, parameters: {}, out });
    expect(recorder.file).toBe(out);
    recorder.write({ trialsDone: 1 });
    recorder.write({ trialsDone: 2 });
    expect(readRecord(out).figures).toEqual({ trialsDone: 2 });
    expect(readRecord(out).config).toEqual({ file: null, sha256: null, parameters: {} });
    expect(existsSync(path.join(root, 'bench/results'))).toBe(false);
  });

  it('marks the tree dirty for a changed or new file, but not for earlier records in bench/results', () => {
    const { root, commit, configFile } = repoWithConfig();
    mkdirSync(path.join(root, 'bench/results'), { recursive: true });
    writeFileSync(path.join(root, 'bench/results/earlier.json'), '{}\n');
    const clean = startBenchRecord({ bench: 'demo', root, parameters: {} }).write({});
    expect(clean.git).toEqual({ commit, dirty: false, changedPaths: [] });

    writeFileSync(configFile, 'repetitions: 4\n');
    writeFileSync(path.join(root, 'new.ts'), '');
    const dirty = startBenchRecord({ bench: 'demo', root, parameters: {} }).write({});
    expect(dirty.git?.dirty).toBe(true);
    expect([...(dirty.git?.changedPaths ?? [])].sort()).toEqual(['bench.yml', 'new.ts']);
  });

  it('records no commit outside a git repository', () => {
    const root = tempDir();
    expect(startBenchRecord({ bench: 'demo', root, parameters: {} }).write({}).git).toBeNull();
  });
});

describe('parseBenchFlags', () => {
  it('reads --out and --notes, and refuses an unknown flag', () => {
    expect(parseBenchFlags(['--out', 'x.json', '--notes', 'busy'])).toEqual({ out: 'x.json', notes: 'busy' });
    expect(parseBenchFlags([])).toEqual({ out: undefined, notes: undefined });
    expect(() => parseBenchFlags(['--trials', '3'])).toThrow(/--trials/);
  });
});
