import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  keepEntry,
  pinnedPackages,
  provisionOnnxRuntime,
  runtimeCacheKey,
  tarballUrl,
} from '../../src/action/provision-onnxruntime.js';
import { UsageError } from '../../src/errors.js';
import { tempDir } from '../helpers/fixture.js';

describe('ONNX Runtime provisioning for the Action', () => {
  it('pins the versions and sha512 hashes of package-lock.json', () => {
    const pins = pinnedPackages();
    expect(pins.map((p) => p.name)).toEqual(['onnxruntime-node', 'onnxruntime-common']);
    for (const pin of pins) expect(pin.integrity).toMatch(/^sha512-[A-Za-z0-9+/]{86}==$/);
    expect(pins[0]!.version).toBe(pins[1]!.version);
  });

  it('a lockfile without the entry is a usage error naming the file and key', () => {
    const lock = path.join(tempDir(), 'package-lock.json');
    writeFileSync(lock, JSON.stringify({ packages: { 'node_modules/onnxruntime-node': { version: '1.30.0' } } }));
    expect(() => pinnedPackages(lock)).toThrow(
      `${lock}: packages["node_modules/onnxruntime-node"] needs a version and a sha512 integrity`,
    );
  });

  it("builds npm's tarball URL from any registry, with or without a trailing slash", () => {
    const pin = { name: 'onnxruntime-node', version: '1.30.0', integrity: 'sha512-x' };
    expect(tarballUrl(pin, 'https://registry.npmjs.org')).toBe(
      'https://registry.npmjs.org/onnxruntime-node/-/onnxruntime-node-1.30.0.tgz',
    );
    expect(tarballUrl(pin, 'https://mirror.example/npm/')).toBe(
      'https://mirror.example/npm/onnxruntime-node/-/onnxruntime-node-1.30.0.tgz',
    );
  });

  it("unpacks only the JavaScript and this platform's binding", () => {
    expect(keepEntry('package/package.json', 'linux', 'x64')).toBe(true);
    expect(keepEntry('package/dist/index.js', 'linux', 'x64')).toBe(true);
    expect(keepEntry('package/bin/napi-v6/linux/x64/libonnxruntime.so.1', 'linux', 'x64')).toBe(true);
    expect(keepEntry('package/bin/napi-v6/linux/arm64/libonnxruntime.so.1', 'linux', 'x64')).toBe(false);
    expect(keepEntry('package/bin/napi-v6/win32/x64/onnxruntime.dll', 'linux', 'x64')).toBe(false);
    expect(keepEntry('package/bin/napi-v6/darwin/arm64/libonnxruntime.dylib', 'darwin', 'arm64')).toBe(true);
    expect(keepEntry('package/script/install.js', 'linux', 'x64')).toBe(false);
  });

  it('keys the Actions cache entry by version, platform and the pinned hash (a new pin is a new entry)', () => {
    const pin = {
      name: 'onnxruntime-node',
      version: '1.30.0',
      integrity: `sha512-${Buffer.alloc(64, 0xab).toString('base64')}`,
    };
    expect(runtimeCacheKey(pin, 'linux', 'x64')).toBe('tr118-onnxruntime-node/1.30.0/linux-x64/abababababababab');
    const other = { ...pin, integrity: `sha512-${Buffer.alloc(64, 0xcd).toString('base64')}` };
    expect(runtimeCacheKey(other, 'linux', 'x64')).not.toBe(runtimeCacheKey(pin, 'linux', 'x64'));
  });
});

describe('TR118_NPM_REGISTRY (issue 21)', () => {
  afterEach(() => vi.unstubAllEnvs());

  it.each([
    ['not a url', 'not a URL'],
    ['http://', 'not a URL'],
    ['http:/registry.example', 'no host after the scheme'],
    ['file:///srv/npm', 'tr118 does not download from file://'],
  ])('%j: refused at once, naming the variable and the value (no download retried for ~30 s)', async (value, why) => {
    vi.stubEnv('TR118_NPM_REGISTRY', value);
    const error = await provisionOnnxRuntime().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UsageError);
    expect((error as Error).message).toBe(
      `TR118_NPM_REGISTRY=${JSON.stringify(value)}: ${why} (expected http:// or https:// and a host); set it to the mirror's base URL, or unset it`,
    );
  });

  it('a registry URL is accepted (here onnxruntime-node is installed, so nothing is downloaded)', async () => {
    vi.stubEnv('TR118_NPM_REGISTRY', 'https://mirror.example/npm/');
    vi.stubEnv('TR118_ONNXRUNTIME_NODE', '');
    expect((await provisionOnnxRuntime()).source).toBe('installed');
  });
});
