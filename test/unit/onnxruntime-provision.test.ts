import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { keepEntry, pinnedPackages, runtimeCacheKey, tarballUrl } from '../../src/action/provision-onnxruntime.js';
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
