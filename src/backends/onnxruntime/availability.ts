/** Whether an ONNX Runtime provider can run on this machine, and if not, why (said before a worker is started). */
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import type { OrtProvider } from '../../config/schema.js';
import { ortPackageDir } from './runtime.js';

/** The folder of onnxruntime-node's native binding for this platform, where provider libraries must sit. */
export function ortBindingDir(): string | undefined {
  const root = ortPackageDir();
  if (!root) return undefined;
  const bin = path.join(root, 'bin');
  if (!existsSync(bin)) return undefined;
  for (const napi of readdirSync(bin).sort().reverse()) {
    const dir = path.join(bin, napi, process.platform, process.arch);
    if (existsSync(dir)) return dir;
  }
  return undefined;
}

const PROVIDER_LIBRARIES: Record<Exclude<OrtProvider, 'cpu'>, string[]> = {
  cuda: ['libonnxruntime_providers_shared.so', 'libonnxruntime_providers_cuda.so'],
  tensorrt: [
    'libonnxruntime_providers_shared.so',
    'libonnxruntime_providers_cuda.so',
    'libonnxruntime_providers_tensorrt.so',
  ],
};

/** undefined when the provider can be tried; otherwise the reason it cannot run here. */
export function providerUnavailableReason(provider: OrtProvider, bindingDir = ortBindingDir()): string | undefined {
  if (provider === 'cpu') return undefined;
  if (process.platform !== 'linux' && process.platform !== 'win32') {
    return `ONNX Runtime's ${provider} provider is not built for ${process.platform}`;
  }
  if (!bindingDir) return 'onnxruntime-node has no native binding for this platform';
  const missing = PROVIDER_LIBRARIES[provider].filter((lib) => !existsSync(path.join(bindingDir, lib)));
  if (missing.length > 0) {
    return (
      `ONNX Runtime ${provider} provider libraries are not installed (${missing.join(', ')} missing in ${bindingDir}); ` +
      'on a GPU runner provision them (README "GPU runners")'
    );
  }
  return undefined;
}
