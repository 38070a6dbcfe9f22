/**
 * The Action runs from a checkout of this repository with no `npm install`: onnxruntime-node (113 MB for all
 * platforms, a native library) is not committed. It is provisioned here at run time, once per runner and version:
 * the exact tarballs package-lock.json pins are downloaded from the npm registry, checked against the lockfile's
 * sha512 integrity, unpacked for this platform only, and kept in the runner's tool cache (and, with
 * `cache: actions`, in the Actions cache for hosted runners). Workers find the folder through
 * TR118_ONNXRUNTIME_NODE (runtime.ts).
 */
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as cache from '@actions/cache';
import * as tc from '@actions/tool-cache';
import * as tar from 'tar';
import { describeError, UsageError } from '../errors.js';
import { packageRoot } from '../paths.js';
import { ORT_PACKAGE_ENV, ortPackageDir } from '../engines/onnxruntime/runtime.js';
import { downloadFile, mirrorBaseUrl } from '../engines/onnxruntime/provision/download.js';

/** npm registry to download from (a mirror on locked-down runners); the tarball path is npm's standard one. */
export const REGISTRY_ENV = 'TR118_NPM_REGISTRY';
export const DEFAULT_REGISTRY = 'https://registry.npmjs.org';
const TOOL_NAME = 'tr118-onnxruntime-node';
const PACKAGES = ['onnxruntime-node', 'onnxruntime-common'] as const;

export interface PinnedPackage {
  readonly name: string;
  readonly version: string;
  /** Subresource-integrity string from package-lock.json, e.g. sha512-…. */
  readonly integrity: string;
}

/** The versions and hashes package-lock.json pins: the same bytes `npm ci` would install. */
export function pinnedPackages(lockFile = path.join(packageRoot(), 'package-lock.json')): PinnedPackage[] {
  const lock = JSON.parse(readFileSync(lockFile, 'utf8')) as {
    packages?: Record<string, { version?: string; integrity?: string }>;
  };
  return PACKAGES.map((name) => {
    const entry = lock.packages?.[`node_modules/${name}`];
    if (!entry?.version || !entry.integrity?.startsWith('sha512-')) {
      throw new UsageError(`${lockFile}: packages["node_modules/${name}"] needs a version and a sha512 integrity`);
    }
    return { name, version: entry.version, integrity: entry.integrity };
  });
}

export function tarballUrl(pkg: PinnedPackage, registry: string): string {
  return `${registry.replace(/\/+$/, '')}/${pkg.name}/-/${pkg.name}-${pkg.version}.tgz`;
}

async function sha512Base64(file: string): Promise<string> {
  const hash = createHash('sha512');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('base64');
}

/**
 * Only what runs here: package.json, the JavaScript, and this platform's native binding (the tarball holds
 * Windows, macOS and Linux binaries: 290 MB unpacked, 46 MB of it for linux/x64).
 */
export function keepEntry(entryPath: string, platform = process.platform, arch = process.arch): boolean {
  const rel = entryPath.replace(/^package\//, '');
  if (rel === 'package.json' || rel.startsWith('dist/') || rel.startsWith('LICENSE')) return true;
  const bin = /^bin\/napi-v\d+\/([^/]+)\/([^/]+)\//.exec(rel);
  return bin !== null && bin[1] === platform && bin[2] === arch;
}

export interface ProvisionResult {
  /** The onnxruntime-node package folder. */
  readonly dir: string;
  readonly source: 'installed' | 'env' | 'tool-cache' | 'actions-cache' | 'downloaded';
}

export interface ProvisionOptions {
  readonly log?: (line: string) => void;
  /**
   * cache: actions — hosted runners lose the tool cache after each job: keep the unpacked folder (46 MB, this
   * platform only) in the Actions cache instead of downloading 113 MB from the registry every job.
   */
  readonly actionsCache?: boolean;
}

/** Pinned content, so one immutable entry per version, platform and hash. */
export function runtimeCacheKey(pin: PinnedPackage, platform = process.platform, arch = process.arch): string {
  const hash = Buffer.from(pin.integrity.replace(/^sha512-/, ''), 'base64')
    .toString('hex')
    .slice(0, 16);
  return `tr118-onnxruntime-node/${pin.version}/${platform}-${arch}/${hash}`;
}

/**
 * Makes onnxruntime-node loadable and sets TR118_ONNXRUNTIME_NODE for this process and its workers.
 * Order: the variable if set, an installed dependency, the tool cache, the Actions cache (cache: actions), then
 * the registry.
 */
export async function provisionOnnxRuntime(options: ProvisionOptions = {}): Promise<ProvisionResult> {
  const log = options.log ?? (() => {});
  const env = process.env;
  // First: a registry variable that is no URL is a usage error, whether or not this run needs the registry.
  const registry = mirrorBaseUrl(REGISTRY_ENV, env[REGISTRY_ENV] || DEFAULT_REGISTRY, { file: false });
  if (env[ORT_PACKAGE_ENV]) {
    const dir = path.resolve(env[ORT_PACKAGE_ENV]);
    if (!existsSync(path.join(dir, 'package.json')))
      throw new UsageError(`${ORT_PACKAGE_ENV}=${dir}: not an onnxruntime-node package folder (no package.json)`);
    return { dir, source: 'env' };
  }
  const installed = ortPackageDir({});
  if (installed) return { dir: installed, source: 'installed' };

  // @actions/tool-cache reads these from process.env; runners set them, other hosts get a folder in the home cache.
  env.RUNNER_TOOL_CACHE ||= path.join(os.homedir(), '.cache', 'tr118', 'tool-cache');
  env.RUNNER_TEMP ||= os.tmpdir();
  const pins = pinnedPackages();
  const version = pins[0]!.version;
  const cachedRoot = tc.find(TOOL_NAME, version, process.arch);
  const dirIn = (root: string): string => path.join(root, 'node_modules', 'onnxruntime-node');
  const use = (root: string, source: ProvisionResult['source']): ProvisionResult => {
    env[ORT_PACKAGE_ENV] = dirIn(root);
    return { dir: dirIn(root), source };
  };
  const complete = (root: string): boolean => existsSync(path.join(dirIn(root), 'package.json'));
  if (cachedRoot && complete(cachedRoot)) return use(cachedRoot, 'tool-cache');

  // The tool cache's own layout (folder + `.complete` marker), so tc.find sees a restored entry like its own.
  const toolDir = path.join(env.RUNNER_TOOL_CACHE, TOOL_NAME, version, process.arch);
  const cachePaths = [toolDir, `${toolDir}.complete`];
  const cacheKey = runtimeCacheKey(pins[0]!);
  const useActionsCache = options.actionsCache === true && cache.isFeatureAvailable();
  if (useActionsCache) {
    const hit = await cache.restoreCache(cachePaths, cacheKey);
    if (hit && complete(toolDir)) return use(toolDir, 'actions-cache');
  }

  const staging = mkdtempSync(path.join(env.RUNNER_TEMP, 'tr118-ort-'));
  try {
    for (const pin of pins) {
      const url = tarballUrl(pin, registry);
      log(`downloading ${url}`);
      // downloadFile (ky), not tc.downloadTool: that retries any failure, an unreachable or refused URL included,
      // for ~30 s (10-20 s apart); this retries only what passes (dropped connections, 408/429/5xx).
      const file = path.join(staging, `${pin.name}.tgz`);
      try {
        await downloadFile(url, file);
      } catch (error) {
        throw new UsageError(
          `could not download ${pin.name}@${pin.version} from ${url} (${describeError(error)}); ` +
            `set ${REGISTRY_ENV} to a reachable npm registry, or ${ORT_PACKAGE_ENV} to an installed onnxruntime-node`,
        );
      }
      const actual = `sha512-${await sha512Base64(file)}`;
      if (actual !== pin.integrity) {
        throw new UsageError(
          `${url}: integrity mismatch (package-lock.json pins ${pin.integrity}, got ${actual}); refusing to load it`,
        );
      }
      const target = path.join(staging, 'root', 'node_modules', pin.name);
      mkdirSync(target, { recursive: true });
      await tar.x({ file, cwd: target, strip: 1, filter: (p) => keepEntry(p) });
      rmSync(file);
    }
    const root = await tc.cacheDir(path.join(staging, 'root'), TOOL_NAME, version, process.arch);
    if (useActionsCache) {
      // Another job may have saved it meanwhile: @actions/cache reports that, and this run goes on either way.
      const id = await cache.saveCache(cachePaths, cacheKey);
      log(id === -1 ? `not saved to the Actions cache (${cacheKey})` : `saved to the Actions cache as ${cacheKey}`);
    }
    return use(root, 'downloaded');
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}
