/**
 * The README's install line, run verbatim in a clean copy of this repository with no route to NuGet: it must
 * succeed without onnxruntime-node's install script (which downloads GPU provider libraries from NuGet), and the CPU
 * binding must load from the npm package alone. Slow (a real `npm ci`, ~40 s, from the npm registry); CI runs it on
 * every run through `npm test`.
 */
import { execFile, execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, tempDir } from '../helpers/fixture.js';

/** The quick start's install command: the one line of its first bash block that runs `npm ci`, less its comment. */
function readmeInstallLine(readme: string): string {
  const quickStart = readme.split('\n## Quick start\n')[1]?.split('\n## ')[0] ?? '';
  const block = /```bash\n([\s\S]*?)```/.exec(quickStart)?.[1] ?? '';
  const lines = block
    .split('\n')
    .filter((line) => /^npm ci\b/.test(line))
    .map((line) => line.replace(/\s+#.*$/, ''));
  if (lines.length !== 1 || lines[0] === undefined)
    throw new Error('README.md: expected exactly one line starting with "npm ci" in the quick start\'s bash block');
  return lines[0];
}

/** What a clone of this repository holds: the tracked files (with this working tree's edits), nothing ignored. */
function cleanCopy(dir: string): string {
  const copy = path.join(dir, 'repo');
  const tracked = execFileSync('git', ['ls-files', '-z'], { cwd: ROOT, encoding: 'utf8', maxBuffer: 1 << 24 });
  for (const file of tracked.split('\0')) {
    if (!file || !existsSync(path.join(ROOT, file))) continue;
    mkdirSync(path.dirname(path.join(copy, file)), { recursive: true });
    copyFileSync(path.join(ROOT, file), path.join(copy, file));
  }
  return copy;
}

/** The environment of a user's shell: none of npm's own script variables, no ONNX Runtime install flag. */
function userShellEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(
    Object.entries(process.env).filter(([key]) => !/^(npm_|ONNXRUNTIME_NODE_INSTALL|INIT_CWD$)/i.test(key)),
  );
}

const README = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
const INSTALL_LINE = readmeInstallLine(README);

describe('install', () => {
  it(".ci/run installs with the README's install line verbatim and sets no ONNX Runtime install flag", () => {
    const ci = readFileSync(path.join(ROOT, '.ci/run'), 'utf8');
    const installs = ci.split('\n').filter((line) => /^\s*npm ci\b/.test(line));
    expect(installs).toEqual([INSTALL_LINE]);
    expect(ci).not.toMatch(/ONNXRUNTIME_NODE_INSTALL|onnxruntime-node-install/);
  });

  it("the README's install line works in a clean clone with no route to NuGet, without onnxruntime-node's install script", async () => {
    const repo = cleanCopy(tempDir());
    // A proxy that takes nobody anywhere: onnxruntime-node's install script sends its downloads through
    // global-agent, which reads GLOBAL_AGENT_* (npm itself does not), so only that script loses its route.
    let proxyConnections = 0;
    const proxy = createServer((socket) => {
      proxyConnections++;
      socket.destroy();
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    const address = proxy.address();
    const proxyUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
    // Were the script to run, this makes it download (it does by default on linux/x64, unless a user's npm config
    // says skip), so a run of it cannot pass unnoticed on any machine.
    const env = {
      ...userShellEnv(),
      GLOBAL_AGENT_HTTP_PROXY: proxyUrl,
      GLOBAL_AGENT_HTTPS_PROXY: proxyUrl,
      ONNXRUNTIME_NODE_INSTALL: 'cuda12',
    };
    // Asynchronous: the proxy above must keep answering while npm runs.
    const run = await new Promise<{ code: number; output: string }>((resolve) => {
      let output = '';
      const child = execFile('bash', ['-c', INSTALL_LINE], { cwd: repo, env, maxBuffer: 1 << 26 }, (error) =>
        resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, output }),
      );
      child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
      child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    });
    await new Promise<void>((resolve) => proxy.close(() => resolve()));

    expect(run.code, `"${INSTALL_LINE}" failed:\n${run.output.slice(-3000)}`).toBe(0);
    expect(proxyConnections, 'onnxruntime-node install script tried to download').toBe(0);
    // npm names every dependency whose install script allowScripts does not cover: none may be left unreviewed.
    expect(run.output).not.toContain('not yet covered by allowScripts');
    const binding = path.join(repo, 'node_modules/onnxruntime-node/bin/napi-v6', process.platform, process.arch);
    expect(readdirSync(binding).filter((f) => f.includes('providers'))).toEqual([]);
    const backends = execFileSync(
      process.execPath,
      ['-e', "console.log(require('onnxruntime-node').listSupportedBackends().map((b) => b.name).join(','))"],
      { cwd: repo, encoding: 'utf8' },
    );
    expect(backends.split(',')).toContain('cpu');
  });
});
