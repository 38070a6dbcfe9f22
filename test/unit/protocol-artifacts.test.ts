import { describe, expect, it } from 'vitest';
import { FrameDecoder, type Frame } from '../../src/backends/framing.js';
import {
  decodeReply,
  decodeRequest,
  encodeReply,
  encodeRequest,
  type OptimizationProfile,
  type WorkerReply,
  type WorkerRequest,
} from '../../src/backends/protocol.js';

const profile: OptimizationProfile = { min: [1, 2], opt: [4, 128], max: [4, 512] };

/** The one frame in `bytes`, as the runner's reader cuts it. */
function decodeFrame(bytes: Buffer): Frame {
  const frames = new FrameDecoder().push(bytes);
  expect(frames).toHaveLength(1);
  return frames[0]!;
}

const exportRequest: WorkerRequest = {
  type: 'export',
  id: 3,
  checkpointPath: '/models/gpt2/hf',
  outPath: '/cache/tmp/export-1',
  opset: 17,
  dynamic: true,
  int32Inputs: false,
  trustPickle: false,
  toleranceAbs: 1e-4,
  probe: { batch: 2, seqLen: 4, inputIds: [1, 2, 3, 4, 5, 6, 7, 8] },
};

const buildRequest: WorkerRequest = {
  type: 'build',
  id: 4,
  onnxPath: '/cache/onnx/model.onnx',
  outPath: '/cache/tmp/engine-1/model.engine',
  precision: 'int8',
  precisionPath: 'tensorrt10-builder-flag-int8-entropy-calibrated',
  profiles: { input_ids: profile, attention_mask: profile },
  deviceId: 0,
  builder: { workspaceBytes: 8 * 2 ** 30, calibrationBatches: 16 },
  calibrationTokens: [5, 6, 7],
};

const probeRequest: WorkerRequest = { type: 'probe', id: 5, engine: 'tensorrt', deviceId: 1 };

const probed: WorkerReply = {
  type: 'probed',
  id: 5,
  tensorrtVersion: '10.13.3.9',
  computeCapability: '9.0',
  gpu: 'NVIDIA H200',
};

const exported: WorkerReply = {
  type: 'exported',
  id: 3,
  files: [{ name: 'model.onnx', bytes: 7_773_951 }],
  externalData: false,
  loadMs: 680,
  exportMs: 3077,
  checkMs: 27.5,
  probeMs: 1932,
  opset: 17,
  exporter: 'torchscript',
  versions: { torch: '2.11.0+cu130', transformers: '5.17.0', onnx: '1.23.2', onnxruntime: '1.32.0', python: '3.11.7' },
  probeMaxAbsDiff: 1.3e-5,
  probeMaxRelDiff: 5.7e-7,
};

const built: WorkerReply = {
  type: 'built',
  id: 4,
  file: '/cache/tmp/engine-1/model.engine',
  bytes: 9_000_000,
  buildMs: 41_000,
  tensorrtVersion: '10.13.3.9',
  computeCapability: '9.0',
  precisionPath: 'tensorrt10-builder-flag-int8-entropy-calibrated',
};

describe('protocol: export / exported, probe / probed and build / built', () => {
  it.each([exportRequest, probeRequest, buildRequest])(
    'round-trips the $type request through its frame and schema',
    (request) => {
      const decoded = decodeRequest(decodeFrame(encodeRequest(request)));
      expect(decoded.success).toBe(true);
      expect(decoded.data).toEqual(request);
    },
  );

  it.each([exported, probed, built])('round-trips the $type reply through its frame and schema', (reply) => {
    expect(decodeReply(decodeFrame(encodeReply(reply)))).toEqual({ ok: true, reply });
  });

  it.each([
    ['an exported reply with no files', { ...exported, files: [] }, 'files'],
    ['an exported reply from another exporter', { ...exported, exporter: 'dynamo' }, 'exporter'],
    ['an exported reply without versions', { ...exported, versions: undefined }, 'versions'],
    ['a negative probe difference', { ...exported, probeMaxAbsDiff: -1 }, 'probeMaxAbsDiff'],
    [
      'a built reply with a compute capability in words',
      { ...built, computeCapability: 'Hopper' },
      'computeCapability',
    ],
    ['an empty engine', { ...built, bytes: 0 }, 'bytes'],
    ['a probe without a compute capability', { ...probed, computeCapability: '' }, 'computeCapability'],
    ['a probe with an empty TensorRT version', { ...probed, tensorrtVersion: '' }, 'tensorrtVersion'],
  ])('refuses %s', (_name, header, key) => {
    const decoded = decodeReply({ header, payload: undefined });
    expect(decoded.ok).toBe(false);
    expect(decoded.ok ? '' : decoded.error).toContain(key);
  });

  it.each([
    ['a bf16 engine', { ...buildRequest, precision: 'bf16' }],
    ['a profile with a 3-d shape', { ...buildRequest, profiles: { input_ids: { ...profile, max: [4, 512, 1] } } }],
    ['an export without a probe', { ...exportRequest, probe: undefined }],
    ['a build without builder settings', { ...buildRequest, builder: undefined }],
    ['a build without a precision path', { ...buildRequest, precisionPath: '' }],
    ['a build with a zero workspace', { ...buildRequest, builder: { workspaceBytes: 0 } }],
    ['a probe of another engine', { ...probeRequest, engine: 'onnxruntime' }],
  ])('refuses %s request', (_name, header) => {
    expect(decodeRequest({ header, payload: undefined }).success).toBe(false);
  });
});
