/**
 * A local npm registry for the Action's ONNX Runtime provisioning. It serves the genuine tarballs package-lock.json
 * pins (the very bytes `npm ci` fetched, found in npm's content-addressed cache by their integrity), so the
 * Action's integrity check runs against the real thing; `corrupt` flips a byte to test the refusal.
 */
import { execFileSync } from 'node:child_process';
import { createReadStream, existsSync, mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { ROOT } from './fixture.js';
import { LocalServer } from './local-server.js';

function npmCacheDir(): string {
  return process.env.npm_config_cache ?? execFileSync('npm', ['config', 'get', 'cache'], { encoding: 'utf8' }).trim();
}

/** The tarball of a locked package: from npm's cache, else `npm pack` (the registry CI's npm ci already used). */
export function lockedTarball(name: string): string {
  const lock = JSON.parse(readFileSync(path.join(ROOT, 'package-lock.json'), 'utf8')) as {
    packages: Record<string, { version: string; integrity: string }>;
  };
  const { version, integrity } = lock.packages[`node_modules/${name}`]!;
  const hex = Buffer.from(integrity.replace(/^sha512-/, ''), 'base64').toString('hex');
  const cached = path.join(npmCacheDir(), '_cacache/content-v2/sha512', hex.slice(0, 2), hex.slice(2, 4), hex.slice(4));
  if (existsSync(cached)) return cached;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tr118-pack-'));
  execFileSync('npm', ['pack', `${name}@${version}`, '--pack-destination', dir], { stdio: 'ignore' });
  return path.join(dir, readdirSync(dir)[0]!);
}

export class FakeNpmRegistry extends LocalServer {
  requests: string[] = [];
  corrupt = false;

  protected handle(req: IncomingMessage, res: ServerResponse): void {
    const url = req.url ?? '/';
    this.requests.push(url);
    const m = /^\/((?:@[^/]+\/)?[^/]+)\/-\/[^/]+\.tgz$/.exec(url);
    if (!m) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/octet-stream' });
    const stream = createReadStream(lockedTarball(m[1]!));
    let first = true;
    stream.on('data', (chunk) => {
      const buf = chunk as Buffer;
      if (this.corrupt && first) buf[buf.length - 1] = (buf[buf.length - 1]! + 1) % 256;
      first = false;
      res.write(buf);
    });
    stream.on('end', () => res.end());
  }
}
