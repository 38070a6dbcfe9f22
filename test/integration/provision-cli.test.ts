/**
 * `tr118 provision` end to end, as a user's shell runs it: the CLI from source in its own process, a local package
 * mirror, a temp tool cache and a temp onnxruntime-node folder. The CLI has the production pins and no way to
 * replace them (that would defeat them), so a synthetic CUDA 13 wheel is refused at the hash check, and the path to
 * success runs on the CUDA 12 NuGet route, whose sha256 the user pins (TR118_ORT_CUDA12_SHA256): the same download,
 * check, unpack, tool-cache and binding steps.
 */
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExitCode } from '../../src/errors.js';
import { ROOT, tempDir } from '../helpers/fixture.js';
import {
  CP312_X64,
  dummyLibrary,
  fakeNupkg,
  fakeOnnxruntimeNode,
  FakePackageHost,
  fakePython,
  fakeWheel,
  NUPKG_X64,
  sha256Of,
} from '../helpers/ort-gpu-packages.js';
import { runProcess } from '../helpers/run.js';
import { cliArgs } from '../helpers/cli.js';

const host = new FakePackageHost();
let base = '';
const PROVIDERS = [
  'libonnxruntime_providers_shared.so',
  'libonnxruntime_providers_cuda.so',
  'libonnxruntime_providers_tensorrt.so',
];
/** `nobody`: a user for whom a folder of mode 0555 is not writable (root writes anywhere). */
const NOBODY = 65534;

beforeAll(async () => {
  base = await host.start();
});
afterAll(() => host.stop());

async function tr118(args: string[], env: NodeJS.ProcessEnv, uid?: number) {
  const r = await runProcess(process.execPath, cliArgs(args), {
    cwd: ROOT,
    env,
    ...(uid !== undefined ? { uid, gid: uid } : {}),
  });
  // On the CLI nothing may print a workflow command (`::debug::` and the like: @actions/* print them, and only
  // src/action may use those): every run here, passing or failing, is checked.
  expect(`${r.stdout}\n${r.stderr}`).not.toMatch(/^::/m);
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A machine: onnxruntime-node in a temp folder, a tool cache, a Python with pip CUDA 13 libraries. */
function machine() {
  const dir = tempDir();
  chmodSync(dir, 0o755);
  const { packageDir, bindingDir } = fakeOnnxruntimeNode(dir);
  const { python } = fakePython(dir);
  const toolCache = path.join(dir, 'tool-cache');
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: dir,
    RUNNER_TOOL_CACHE: toolCache,
    RUNNER_TEMP: path.join(dir, 'tmp'),
    TR118_ONNXRUNTIME_NODE: packageDir,
    TR118_PYPI_FILES: base,
    TR118_NUGET_FLAT: `${base}/nuget`,
  };
  mkdirSync(env.RUNNER_TEMP!, { recursive: true, mode: 0o777 });
  chmodSync(env.RUNNER_TEMP!, 0o777);
  return { dir, env, bindingDir, toolCache, python };
}

describe('tr118 provision', () => {
  it('CUDA 12 with the user-pinned NuGet package: the libraries land, what landed where is printed; again: a tool-cache hit', async () => {
    const m = machine();
    const nupkg = await fakeNupkg();
    host.files.set(`/nuget/${NUPKG_X64.urlPath}`, nupkg);
    host.requests = [];
    const env = { ...m.env, TR118_ORT_CUDA12_SHA256: sha256Of(nupkg) };
    const r = await tr118(['provision', '--cuda', '12', '--python', m.python], env);
    expect(r.stderr).not.toContain('internal error');
    expect(r.code).toBe(ExitCode.pass);
    const entry = path.join(m.toolCache, 'tr118-onnxruntime-gpu', '1.30.0', 'cuda12-x64');
    expect(r.stdout).toContain('ONNX Runtime 1.30.0 GPU providers, CUDA 12 (cuda12-x64): downloaded and verified');
    expect(r.stdout).toContain(`  package: ${base}/nuget/${NUPKG_X64.urlPath} (sha256 ${sha256Of(nupkg)})`);
    expect(r.stdout).toContain(`  unpacked: ${entry}`);
    expect(r.stdout).toContain(`  onnxruntime-node binding ${m.bindingDir}: copied ${PROVIDERS.join(', ')}`);
    expect(r.stdout).toContain('  Python worker: not provisioned (the NuGet package has no Python module)');
    expect(r.stdout).toMatch(
      /\n {2}CUDA libraries: \d of 8 found; \S+\/site-packages\/nvidia\/cu13\/lib, \S+\/site-packages\/nvidia\/cudnn\/lib put on LD_LIBRARY_PATH for the workers\n/,
    );
    // The fake Python's pip folders hold CUDA 13 libraries only: the CUDA 12 ones are named as missing.
    expect(r.stderr).toMatch(
      /tr118: warning: cuda provider: unavailable until these are installed: libcublasLt\.so\.12 \(pip install nvidia-cublas-cu12, or the CUDA 12 toolkit\)/,
    );
    expect(r.stderr).toContain('tr118: warning: tensorrt provider: unavailable: ');
    for (const lib of PROVIDERS) {
      expect(readFileSync(path.join(m.bindingDir, lib))).toEqual(dummyLibrary(lib, 'cuda12'));
    }
    expect(host.requests).toEqual([`/nuget/${NUPKG_X64.urlPath}`]);

    const again = await tr118(['provision', '--cuda', '12', '--python', m.python], env);
    expect(again.code).toBe(ExitCode.pass);
    expect(again.stdout).toContain(
      'ONNX Runtime 1.30.0 GPU providers, CUDA 12 (cuda12-x64): already in the tool cache',
    );
    expect(again.stdout).toContain(`already there: ${PROVIDERS.join(', ')}`);
    expect(host.requests).toHaveLength(1);
  });

  it('CUDA 13: a package that is not the pinned wheel is refused, naming the URL and the pin; nothing lands', async () => {
    const m = machine();
    const wheel = await fakeWheel();
    host.files.set(`/${CP312_X64.urlPath}`, wheel);
    const r = await tr118(['provision', '--cuda', '13', '--python', m.python], m.env);
    expect(r.code).toBe(ExitCode.usage);
    expect(r.stderr).toContain(
      `tr118: ${base}/${CP312_X64.urlPath}: ${wheel.length} bytes, but tr118 pins ${CP312_X64.fileName} at ${CP312_X64.sizeBytes} bytes (sha256 ${CP312_X64.sha256}); refusing to unpack it`,
    );
    expect(readdirSync(m.bindingDir)).toEqual(['libonnxruntime.so.1']);
    expect(existsSync(path.join(m.toolCache, 'tr118-onnxruntime-gpu', '1.30.0', 'cuda13-cp312-x64'))).toBe(false);
  });

  it('CUDA 12 without a pinned sha256: exit 2, saying why, before any download', async () => {
    const m = machine();
    host.requests = [];
    const r = await tr118(['provision', '--cuda', '12', '--python', m.python], m.env);
    expect(r.code).toBe(ExitCode.usage);
    expect(r.stderr).toMatch(/^tr118: the CUDA 12 provider package .* has no sha256 pinned by tr118/);
    expect(host.requests).toEqual([]);
  });

  it.each(['not a url', 'http://'])(
    'TR118_PYPI_FILES=%j: exit 2 at once, one line naming the variable and the value, no request',
    async (value) => {
      const m = machine();
      host.requests = [];
      const r = await tr118(['provision', '--cuda', '13', '--python', m.python], { ...m.env, TR118_PYPI_FILES: value });
      expect(r.code).toBe(ExitCode.usage);
      expect(r.stderr).toBe(
        `tr118: TR118_PYPI_FILES=${JSON.stringify(value)}: not a URL (expected http:// or https:// and a host, or a file:// folder); set it to the mirror's base URL, or unset it\n`,
      );
      expect(r.stdout).toBe('');
      expect(host.requests).toEqual([]);
    },
  );

  it('--cuda 11 is a usage error', async () => {
    const r = await tr118(['provision', '--cuda', '11'], machine().env);
    expect(r.code).toBe(ExitCode.usage);
    expect(r.stderr).toContain("option '--cuda <major>' argument '11' is invalid. Allowed choices are 12, 13.");
  });

  it.skipIf(existsSync('/dev/nvidia0'))(
    'no GPU and no --cuda: exit 2, saying there is no GPU and how to provision anyway',
    async () => {
      const r = await tr118(['provision'], machine().env);
      expect(r.code).toBe(ExitCode.usage);
      expect(r.stderr).toMatch(
        /^tr118: no NVIDIA GPU on this machine \(.*\): nothing to provision for; give --cuda 12\|13/,
      );
    },
  );

  it.skipIf(process.getuid?.() !== 0)(
    'a binding folder the user cannot write: exit 2 naming it, before any download',
    async () => {
      const m = machine();
      chmodSync(m.bindingDir, 0o555);
      host.requests = [];
      const r = await tr118(['provision', '--cuda', '13', '--python', m.python], m.env, NOBODY);
      expect(r.code).toBe(ExitCode.usage);
      expect(r.stderr).toMatch(
        new RegExp(
          `^tr118: ${m.bindingDir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: onnxruntime-node's binding folder is not writable \\(.*EACCES.*\\); the provider libraries must sit next to its libonnxruntime\\.so\\.1: make it writable, or set TR118_ONNXRUNTIME_NODE to a writable copy of onnxruntime-node`,
        ),
      );
      expect(host.requests).toEqual([]);
    },
  );
});
