/**
 * useFakeActionsCache: the stand-in Actions cache service (actions-cache.ts) for a describe block. Apart from
 * actions-cache.ts because it needs vitest's hooks, and bench/action-overhead.ts imports the service outside vitest.
 */
import { afterAll, beforeAll } from 'vitest';
import { FakeActionsCache } from './actions-cache.js';
import { tempDir } from './fixture.js';

const RUNNER_CACHE_ENV = ['ACTIONS_CACHE_SERVICE_V2', 'ACTIONS_RESULTS_URL', 'ACTIONS_RUNTIME_TOKEN', 'RUNNER_TEMP'];

/**
 * For a describe block: a FakeActionsCache started before its tests, and the environment a runner gives
 * @actions/cache pointing at it (restored, and the service stopped, after them). `url` is ACTIONS_RESULTS_URL.
 */
export function useFakeActionsCache(): { readonly cache: FakeActionsCache; readonly url: () => string } {
  const cache = new FakeActionsCache();
  const saved: Record<string, string | undefined> = {};
  let url = '';
  beforeAll(async () => {
    url = await cache.start();
    for (const key of RUNNER_CACHE_ENV) saved[key] = process.env[key];
    Object.assign(process.env, {
      ACTIONS_CACHE_SERVICE_V2: 'true',
      ACTIONS_RESULTS_URL: url,
      ACTIONS_RUNTIME_TOKEN: 'runtime-token',
      RUNNER_TEMP: tempDir(),
    });
  });
  afterAll(async () => {
    for (const key of RUNNER_CACHE_ENV) {
      if (saved[key] === undefined) delete process.env[key];
      else process.env[key] = saved[key];
    }
    await cache.stop();
  });
  return { cache, url: () => url };
}
