import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { defaultStoreDir, listBaselines, saveBaseline } from '../../src/results/store.js';
import { tempDir } from '../helpers/fixture.js';
import { writeResults } from '../helpers/results.js';

/** A valid results.json to store as a baseline. */
function minimalResults(dir: string): string {
  return writeResults(path.join(dir, 'results.json'));
}

function errorOf(action: () => unknown): string {
  try {
    action();
  } catch (error) {
    expect(error).toBeInstanceOf(UsageError);
    return (error as Error).message;
  }
  throw new Error('expected a usage error');
}

const noPasswdEntry = (): string => {
  throw new Error('uv_os_get_passwd returned ENOENT');
};

describe('defaultStoreDir', () => {
  it('is TR118_BASELINE_DIR, else under HOME, else under the passwd home folder', () => {
    expect(defaultStoreDir({ TR118_BASELINE_DIR: '/s', HOME: '/h' }, noPasswdEntry)).toBe('/s');
    expect(defaultStoreDir({ HOME: '/h' }, noPasswdEntry)).toBe('/h/.cache/tr118/baselines');
    expect(defaultStoreDir({ HOME: '' }, () => '/home/runner')).toBe('/home/runner/.cache/tr118/baselines');
  });
});

// Each bad store: what goes wrong, and what the one-line message must name (the path, and what to do).
const BAD_STORES: readonly { name: string; act: (dir: string) => unknown; expect: readonly (string | RegExp)[] }[] = [
  {
    name: 'no HOME and no home folder (the default store)',
    act: () => defaultStoreDir({ PATH: '/usr/bin' }, noPasswdEntry),
    expect: ['HOME is not set and this user has none', 'TR118_BASELINE_DIR', '--store DIR', 'baseline-store'],
  },
  {
    name: 'an empty HOME and no home folder',
    act: () => defaultStoreDir({ HOME: '' }, noPasswdEntry),
    expect: ['HOME is not set'],
  },
  {
    name: 'a store that is a file',
    act: (dir) => {
      const store = path.join(dir, 'store');
      writeFileSync(store, 'not a folder\n');
      return saveBaseline(minimalResults(dir), 'main', store);
    },
    expect: [/^baseline store \/\S+\/store: \/\S+\/store is a file, not a folder$/],
  },
  {
    name: 'a store below a file',
    act: (dir) => {
      writeFileSync(path.join(dir, 'file'), '');
      return saveBaseline(minimalResults(dir), 'main', path.join(dir, 'file', 'store'));
    },
    expect: [/^baseline store \/\S+\/file\/store: \/\S+\/file is a file, not a folder$/],
  },
  {
    name: 'a store under /proc',
    act: (dir) => saveBaseline(minimalResults(dir), 'main', '/proc/tr118/baselines'),
    expect: ["baseline store /proc/tr118/baselines: /proc is on the kernel's proc filesystem, which cannot hold files"],
  },
  {
    name: 'a stored baseline that is a folder (nothing half-written is left)',
    act: (dir) => {
      mkdirSync(path.join(dir, 'store', 'main.json'), { recursive: true });
      return saveBaseline(minimalResults(dir), 'main', path.join(dir, 'store'));
    },
    expect: [/^baseline store \/\S+\/store: cannot write \/\S+\/store\/main\.json: .*folder/],
  },
  {
    name: 'listing a store that is a file',
    act: (dir) => {
      writeFileSync(path.join(dir, 'store'), '');
      return listBaselines(path.join(dir, 'store'));
    },
    expect: [/^baseline store \/\S+\/store: cannot list it \(not a folder\)$/],
  },
];

describe('bad baseline stores give one clear message (exit 2), not an internal error', () => {
  it.each(BAD_STORES)('$name', ({ act, expect: parts }) => {
    const message = errorOf(() => act(tempDir()));
    for (const part of parts) {
      if (typeof part === 'string') expect(message).toContain(part);
      else expect(message).toMatch(part);
    }
  });

  it('a good store is created and written', () => {
    const dir = tempDir();
    const store = path.join(dir, 'a', 'b');
    mkdirSync(dir, { recursive: true });
    expect(saveBaseline(minimalResults(dir), 'main', store)).toBe(path.join(store, 'main.json'));
    expect(existsSync(path.join(store, 'main.json'))).toBe(true);
    expect(listBaselines(store)).toEqual(['main']);
  });
});
