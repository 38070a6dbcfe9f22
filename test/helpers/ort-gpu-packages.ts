/**
 * Stand-ins for the ONNX Runtime GPU packages, for the provisioning tests (no network, no GPU): small zip files in
 * the real layouts (the onnxruntime-gpu wheel, the Microsoft.ML.OnnxRuntime.Gpu.Linux NuGet package) with a few bytes
 * of dummy content per library, pins computed from them (same URLs as the real pins), a local file host that records
 * every request, a fake onnxruntime-node folder, and a fake Python that answers the provisioning's one question.
 */
import { createHash } from 'node:crypto';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';
import yazl from 'yazl';
import { ORT_GPU_PINS, type OrtGpuPackagePin, type OrtGpuPins } from '../../src/engines/onnxruntime/provision/pins.js';
import { LocalServer } from './local-server.js';

export const CP312_X64 = ORT_GPU_PINS.packages.find((p) => p.variant === 'cuda13-cp312-x64')!;
export const NUPKG_X64 = ORT_GPU_PINS.packages.find((p) => p.kind === 'nupkg')!;

/** The dummy bytes of a library: its name, so a test can tell which file landed where. */
export const dummyLibrary = (name: string, variant = 'cuda13'): Buffer => Buffer.from(`fake ${variant} ${name}\n`);

async function zipOf(entries: readonly [string, Buffer][]): Promise<Buffer> {
  const zip = new yazl.ZipFile();
  for (const [name, data] of entries) zip.addBuffer(data, name, { mode: name.endsWith('.so') ? 0o100755 : 0o100644 });
  zip.end();
  const chunks: Buffer[] = [];
  for await (const chunk of zip.outputStream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** A wheel of onnxruntime-gpu 1.30.0's layout; `omit` leaves entries out. */
export function fakeWheel(omit: readonly string[] = []): Promise<Buffer> {
  const capi = 'onnxruntime/capi/';
  const entries: [string, Buffer][] = [
    ['onnxruntime/__init__.py', Buffer.from('__version__ = "1.30.0"\n')],
    [`${capi}__init__.py`, Buffer.from('')],
    [`${capi}libonnxruntime.so.1.30.0`, dummyLibrary('libonnxruntime.so.1.30.0')],
    [`${capi}libonnxruntime_providers_shared.so`, dummyLibrary('libonnxruntime_providers_shared.so')],
    [`${capi}libonnxruntime_providers_cuda.so`, dummyLibrary('libonnxruntime_providers_cuda.so')],
    [`${capi}libonnxruntime_providers_tensorrt.so`, dummyLibrary('libonnxruntime_providers_tensorrt.so')],
    [`${capi}onnxruntime_pybind11_state.cpython-312-x86_64-linux-gnu.so`, dummyLibrary('pybind')],
    ['onnxruntime_gpu-1.30.0.dist-info/METADATA', Buffer.from('Name: onnxruntime-gpu\nVersion: 1.30.0\n')],
    ['onnxruntime_gpu-1.30.0.dist-info/RECORD', Buffer.from('')],
    ['onnxruntime_gpu-1.30.0.data/purelib/unrelated.txt', Buffer.from('not unpacked')],
  ];
  return zipOf(entries.filter(([name]) => !omit.includes(name)));
}

/** A NuGet package of Microsoft.ML.OnnxRuntime.Gpu.Linux's layout. */
export function fakeNupkg(omit: readonly string[] = []): Promise<Buffer> {
  const native = 'runtimes/linux-x64/native/';
  const entries: [string, Buffer][] = [
    ['Microsoft.ML.OnnxRuntime.Gpu.Linux.nuspec', Buffer.from('<package/>')],
    [`${native}libonnxruntime.so`, dummyLibrary('libonnxruntime.so', 'cuda12')],
    [`${native}libonnxruntime_providers_shared.so`, dummyLibrary('libonnxruntime_providers_shared.so', 'cuda12')],
    [`${native}libonnxruntime_providers_cuda.so`, dummyLibrary('libonnxruntime_providers_cuda.so', 'cuda12')],
    [`${native}libonnxruntime_providers_tensorrt.so`, dummyLibrary('libonnxruntime_providers_tensorrt.so', 'cuda12')],
  ];
  return zipOf(entries.filter(([name]) => !omit.includes(name)));
}

export const sha256Of = (data: Buffer): string => createHash('sha256').update(data).digest('hex');

/** The production pins with the wheel's (and the NuGet package's, pinned or not) hash and size replaced. */
export function pinsFor(wheel: Buffer, nupkg?: { data: Buffer; pinned: boolean }): OrtGpuPins {
  const packages = ORT_GPU_PINS.packages.map((pin): OrtGpuPackagePin => {
    if (pin === CP312_X64) return { ...pin, sha256: sha256Of(wheel), sizeBytes: wheel.length };
    if (pin === NUPKG_X64 && nupkg?.pinned) return { ...pin, sha256: sha256Of(nupkg.data), sizeBytes: null };
    return pin;
  });
  return { version: ORT_GPU_PINS.version, packages };
}

/** Serves `files` by URL path; anything else is 404. */
export class FakePackageHost extends LocalServer {
  readonly files = new Map<string, Buffer>();
  requests: string[] = [];

  protected handle(req: IncomingMessage, res: ServerResponse): void {
    const url = req.url ?? '/';
    this.requests.push(url);
    const data = this.files.get(url);
    if (!data) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(data.length) });
    res.end(data);
  }
}

/** An onnxruntime-node package folder of the real layout, with a dummy libonnxruntime.so.1; returns its binding dir. */
export function fakeOnnxruntimeNode(dir: string, version = '1.30.0'): { packageDir: string; bindingDir: string } {
  const packageDir = path.join(dir, 'onnxruntime-node');
  const bindingDir = path.join(packageDir, 'bin', 'napi-v6', process.platform, process.arch);
  mkdirSync(bindingDir, { recursive: true });
  writeFileSync(path.join(packageDir, 'package.json'), JSON.stringify({ name: 'onnxruntime-node', version }));
  writeFileSync(path.join(bindingDir, 'libonnxruntime.so.1'), dummyLibrary('libonnxruntime.so.1'));
  return { packageDir, bindingDir };
}

/**
 * A "Python" that answers provisioning's question (its wheel tag, where its nvidia packages are) and nothing else,
 * with pip-style CUDA 13 library folders (nvidia/cu13/lib, nvidia/cudnn/lib) of empty files.
 */
export function fakePython(dir: string, tag = 'cp312'): { python: string; nvidiaDir: string } {
  const nvidiaDir = path.join(dir, 'site-packages', 'nvidia');
  const cu13 = path.join(nvidiaDir, 'cu13', 'lib');
  const cudnn = path.join(nvidiaDir, 'cudnn', 'lib');
  mkdirSync(cu13, { recursive: true });
  mkdirSync(cudnn, { recursive: true });
  mkdirSync(path.join(nvidiaDir, '__pycache__'), { recursive: true });
  for (const lib of ['libcublasLt.so.13', 'libcublas.so.13', 'libcurand.so.10', 'libcudart.so.13'])
    writeFileSync(path.join(cu13, lib), '');
  writeFileSync(path.join(cudnn, 'libcudnn.so.9'), '');
  const python = path.join(dir, 'python3');
  writeFileSync(python, `#!/bin/sh\necho '${JSON.stringify({ tag, nvidiaDirs: [nvidiaDir] })}'\n`);
  chmodSync(python, 0o755);
  return { python, nvidiaDir };
}
