/**
 * `cache: actions`: artifact entries also live in the GitHub Actions cache, so hosted runners, whose disks (and
 * local store) vanish after each job, export and build a model once. The local store stays the one that serves
 * files: an entry absent there is restored into its folder (under its lock, then sha256-checked like any entry)
 * before the producer runs, and saved after a build. Keys are content keys (`tr118-artifact/<kind>/<key>`), the
 * same on every branch, so a PR reads its base branch's entry by its exact key (caches of the base branch are
 * readable from PRs into it); no restore-key prefix is used, since a prefix match would be another model's artifact.
 * Cache trouble is a warning, never a failed run: the local store then builds.
 */
import * as cache from '@actions/cache';
import { describeError } from '../errors.js';
import type { RemoteArtifactStore, RemoteAttempt } from '../cache/store.js';
import type { FolderCache } from '../engines/onnxruntime/provision/onnxruntime-gpu.js';

export function actionsArtifactCacheKey(kind: string, key: string): string {
  return `tr118-artifact/${kind}/${key}`;
}

function unavailable(): RemoteAttempt | undefined {
  return cache.isFeatureAvailable()
    ? undefined
    : { ok: false, message: 'the Actions cache service is not available on this runner (ACTIONS_RESULTS_URL unset)' };
}

/**
 * The Actions cache as the store's remote. The entry folder's absolute path is part of @actions/cache's version
 * of an entry: runs that use one cache folder (the default on hosted runners) share entries.
 */
export function actionsArtifactStore(): RemoteArtifactStore {
  return {
    async restore(dir, kind, key): Promise<RemoteAttempt> {
      const missing = unavailable();
      if (missing) return missing;
      const cacheKey = actionsArtifactCacheKey(kind, key);
      try {
        const matched = await cache.restoreCache([dir], cacheKey);
        return matched
          ? { ok: true, message: `restored ${kind}/${key.slice(0, 12)} from the Actions cache (${matched})` }
          : { ok: false, message: `${kind}/${key.slice(0, 12)} is not in the Actions cache (key ${cacheKey})` };
      } catch (error) {
        return { ok: false, message: `Actions cache not read for ${cacheKey} (${describeError(error)})` };
      }
    },
    async save(dir, kind, key): Promise<RemoteAttempt> {
      const missing = unavailable();
      if (missing) return missing;
      const cacheKey = actionsArtifactCacheKey(kind, key);
      try {
        const id = await cache.saveCache([dir], cacheKey);
        return id === -1
          ? { ok: false, message: `${cacheKey} not saved to the Actions cache (see the warnings above)` }
          : { ok: true, message: `saved ${cacheKey} to the Actions cache` };
      } catch (error) {
        return { ok: false, message: `${cacheKey} not saved to the Actions cache (${describeError(error)})` };
      }
    },
  };
}

/**
 * The Actions cache as a plain folder cache (`cache: actions` for what `tr118 provision` unpacks): restored when the
 * service has the key, saved after a download; absent service, nothing is restored and nothing saved.
 */
export function actionsFolderCache(): FolderCache {
  return {
    async restore(paths, key) {
      if (!cache.isFeatureAvailable()) return false;
      return (await cache.restoreCache([...paths], key)) !== undefined;
    },
    async save(paths, key) {
      if (!cache.isFeatureAvailable()) return false;
      return (await cache.saveCache([...paths], key)) !== -1;
    },
  };
}
