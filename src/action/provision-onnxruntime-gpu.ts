/**
 * The Action's step for ONNX Runtime's GPU provider libraries (input onnxruntime-gpu): decides whether to provision
 * (src/engines/onnxruntime/provision/), provisions, and says what landed. Best effort: a failure is a warning, and the cuda / tensorrt
 * backends then come out unavailable with their reason (the unavailable_backend rule judges that), never a crash.
 */
import { describeError } from '../errors.js';
import { probeNvidiaGpu, type NvidiaGpuProbe } from '../engines/onnxruntime/provision/nvidia-gpu.js';
import { needsGpuProviders, type BackendSpec } from '../engines/registry.js';
import {
  activateOrtGpu,
  libraryWarnings,
  planOrtGpu,
  provisionOrtGpu,
} from '../engines/onnxruntime/provision/onnxruntime-gpu.js';
import { actionsFolderCache } from './actions-cache-store.js';
import type { OrtGpuMode } from '../engines/onnxruntime/provision/pins.js';

export interface OrtGpuStep {
  readonly mode: OrtGpuMode;
  readonly cuda12Sha256: string | undefined;
  readonly actionsCache: boolean;
  readonly backends: readonly BackendSpec[];
  /** Where the worker's Python is looked for (the config's folder). */
  readonly searchFrom: string;
  /** The worker's Python, if known (default: looked for from searchFrom; tests give a stand-in). */
  readonly python?: string;
  readonly info: (line: string) => void;
  readonly warning: (line: string) => void;
  readonly gpu?: () => NvidiaGpuProbe;
}

/** Returns whether provider libraries are in place for this run (provisioned now, or found from earlier). */
export async function provisionOrtGpuStep(step: OrtGpuStep): Promise<boolean> {
  const plan = planOrtGpu(step.mode, needsGpuProviders(step.backends), step.gpu ?? probeNvidiaGpu);
  if (!plan.provision) {
    step.info(`ONNX Runtime GPU providers: not provisioned (${plan.why})`);
    // A self-hosted runner may hold an earlier provisioning (tr118 provision): use it, no network.
    const activation = await activateOrtGpu(process.env, {
      searchFrom: step.searchFrom,
      ...(step.python !== undefined ? { python: step.python } : {}),
    });
    if (activation.activated) step.info(`ONNX Runtime GPU providers from earlier: ${activation.note}`);
    return activation.activated;
  }
  try {
    const result = await provisionOrtGpu({
      ...(plan.cudaMajor !== undefined ? { cudaMajor: plan.cudaMajor } : {}),
      ...(step.cuda12Sha256 !== undefined ? { cuda12Sha256: step.cuda12Sha256 } : {}),
      ...(step.actionsCache ? { remoteCache: actionsFolderCache() } : {}),
      searchFrom: step.searchFrom,
      ...(step.python !== undefined ? { python: step.python } : {}),
      log: step.info,
    });
    const { record, binding } = result;
    step.info(
      `ONNX Runtime ${record.version} GPU providers (${record.variant}, ${result.source}): ${record.entryDir}; ` +
        `copied into ${binding.bindingDir}: ${binding.copied.join(', ') || 'nothing (already there)'}`,
    );
    step.info(
      result.pythonPath
        ? `Python worker's onnxruntime: ${result.pythonPath}`
        : `Python worker's onnxruntime: not provisioned (${result.pythonNote ?? 'none in this build'})`,
    );
    for (const line of libraryWarnings(result.libraries, record.cudaMajor)) step.warning(`tr118: ${line}`);
    return true;
  } catch (error) {
    step.warning(
      `tr118: ONNX Runtime GPU providers not provisioned: ${describeError(error)}; ` +
        'the cuda and tensorrt backends will be unavailable',
    );
    return false;
  }
}
