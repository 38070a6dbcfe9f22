import { describe, expect, it } from 'vitest';
import { PRELOAD_ENV } from '../../src/backends/native-worker.js';
import type { CreateContext } from '../../src/engines/family.js';
import { pytorch, torchPreload, type TorchSpec } from '../../src/engines/pytorch/index.js';

// What a pytorch worker is told to prepare before its open (tr118_native/worker/__main__.py reads it): the GPU
// backends' CUDA context is made while the workers start side by side, not in an open queued on the device.
describe('the pytorch worker preload', () => {
  it('asks a GPU backend’s worker for its own device’s CUDA context, a CPU backend’s for the imports only', () => {
    expect(torchPreload({ device: 'cuda', deviceId: 0, compile: 'off' })).toBe('torch,cuda:0');
    expect(torchPreload({ device: 'cuda', deviceId: 3, compile: 'off' })).toBe('torch,cuda:3');
    expect(torchPreload({ device: 'cpu', deviceId: 0, compile: 'off' })).toBe('torch');
  });

  it('asks a compiled backend’s worker for torch.compile’s imports too', () => {
    expect(torchPreload({ device: 'cuda', deviceId: 0, compile: 'default' })).toBe('torch,compile,cuda:0');
    expect(torchPreload({ device: 'cpu', deviceId: 0, compile: 'max-autotune' })).toBe('torch,compile');
  });

  it('reaches the worker’s environment through the launch the pipeline starts early', () => {
    const ctx = { env: { TR118_PYTHON: process.execPath }, pythonSearchFrom: '/' } as unknown as CreateContext;
    const launch = (device: 'cpu' | 'cuda') =>
      pytorch.workerLaunch!({ device, deviceId: 1, compile: 'off' } as unknown as TorchSpec, ctx);
    expect(launch('cuda')?.env?.[PRELOAD_ENV]).toBe('torch,cuda:1');
    expect(launch('cpu')?.env?.[PRELOAD_ENV]).toBe('torch');
  });
});
