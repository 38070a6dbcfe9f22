/**
 * `cache: actions`: the stored baseline of a branch also lives in the GitHub Actions cache, so `baseline: branch`
 * works on hosted runners, whose disks (and local store) vanish after each job. Cache entries are immutable, so each
 * run saves under a key of its own and a PR restores the newest entry of its base branch by key prefix (caches of
 * the base branch are readable from PRs into it). Cache trouble never fails the run: @actions/cache turns service
 * errors into warnings, and a missing entry is "no baseline yet".
 */
import * as cache from '@actions/cache';
import { clockFromEnv } from '../clock.js';

/** `/` cannot occur in a baseline name (branch a/b is stored as a__b), so no branch's prefix matches another's. */
export function baselineCachePrefix(branch: string): string {
  return `tr118-baseline/${branch}/`;
}

/** Unique per run and attempt: a re-run saves a newer entry instead of colliding with the first. */
export function baselineCacheKey(branch: string, env: NodeJS.ProcessEnv): string {
  return `${baselineCachePrefix(branch)}${env.GITHUB_RUN_ID ?? clockFromEnv(env)()}-${env.GITHUB_RUN_ATTEMPT ?? '1'}`;
}

/** A best-effort cache call, like github/api.ts's Attempt: whether it did what was asked, in words either way. */
export interface CacheAttempt {
  readonly ok: boolean;
  readonly message: string;
}

function unavailable(): CacheAttempt | undefined {
  return cache.isFeatureAvailable()
    ? undefined
    : { ok: false, message: 'the Actions cache service is not available on this runner (ACTIONS_RESULTS_URL unset)' };
}

/** Restores the newest saved baseline of `branch` to `file` (the path it was saved from). */
export async function restoreBaselineFromCache(file: string, branch: string): Promise<CacheAttempt> {
  const missing = unavailable();
  if (missing) return missing;
  const prefix = baselineCachePrefix(branch);
  const matched = await cache.restoreCache([file], prefix, [prefix]);
  return matched
    ? { ok: true, message: `restored the baseline of ${branch} from the Actions cache (${matched})` }
    : { ok: false, message: `no baseline of ${branch} in the Actions cache (key prefix ${prefix})` };
}

export async function saveBaselineToCache(file: string, branch: string, env: NodeJS.ProcessEnv): Promise<CacheAttempt> {
  const missing = unavailable();
  if (missing) return missing;
  const key = baselineCacheKey(branch, env);
  const id = await cache.saveCache([file], key);
  return id === -1
    ? { ok: false, message: `could not save the baseline to the Actions cache (key ${key}); see the warnings above` }
    : { ok: true, message: `saved the baseline of ${branch} to the Actions cache (key ${key})` };
}
