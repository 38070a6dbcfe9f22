import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { encodeFrame, FrameDecoder, type Frame } from '../../src/backends/framing.js';
import {
  buildRequestSchema,
  builtReplySchema,
  probedReplySchema,
  probeRequestSchema,
  type BuildRequest,
  type OptimizationProfile,
  type ProbeRequest,
} from '../../src/engines/tensorrt/jobs.js';
import { exportedReplySchema, exportRequestSchema, type ExportRequest } from '../../src/model/export-job.js';

const profile: OptimizationProfile = { min: [1, 2], opt: [4, 128], max: [4, 512] };

/** The one frame in `bytes`, as the runner's reader cuts it. */
function decodeFrame(bytes: Buffer): Frame {
  const frames = new FrameDecoder().push(bytes);
  expect(frames).toHaveLength(1);
  return frames[0]!;
}

const exportRequest: ExportRequest = {
  type: 'export',
  checkpointPath: '/models/gpt2/hf',
  outPath: '/cache/tmp/export-1',
  exporter: 'dynamo',
  opset: 18,
  dynamic: true,
  int32Inputs: false,
  trustPickle: false,
  allowedWeightDifferences: [],
  toleranceAbs: 1e-4,
  probe: { batch: 2, seqLen: 4, inputIds: [1, 2, 3, 4, 5, 6, 7, 8] },
};

const buildRequest: BuildRequest = {
  type: 'build',
  onnxPath: '/cache/onnx/model.onnx',
  outPath: '/cache/tmp/engine-1/model.engine',
  precision: 'int8',
  precisionPath: 'tensorrt10-builder-flag-int8-entropy-calibrated',
  profiles: { input_ids: profile, attention_mask: profile },
  deviceId: 0,
  builder: { workspaceBytes: 8 * 2 ** 30, calibrationBatches: 16 },
  calibrationTokens: [5, 6, 7],
};

const probeRequest: ProbeRequest = { type: 'probe', engine: 'tensorrt', deviceId: 1 };

const probed: z.infer<typeof probedReplySchema> = {
  type: 'probed',
  id: 5,
  tensorrtVersion: '10.13.3.9',
  computeCapability: '9.0',
  gpu: 'NVIDIA H200',
};

const exported: z.infer<typeof exportedReplySchema> = {
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

const built: z.infer<typeof builtReplySchema> = {
  type: 'built',
  id: 4,
  file: '/cache/tmp/engine-1/model.engine',
  bytes: 9_000_000,
  buildMs: 41_000,
  tensorrtVersion: '10.13.3.9',
  computeCapability: '9.0',
  precisionPath: 'tensorrt10-builder-flag-int8-entropy-calibrated',
};

/** Each job's request and reply schema, as its owner declares them (one-shot.ts validates the reply with it). */
const REQUESTS = { export: exportRequestSchema, probe: probeRequestSchema, build: buildRequestSchema } as const;
const REPLIES = { exported: exportedReplySchema, probed: probedReplySchema, built: builtReplySchema } as const;

function parse(schemas: Readonly<Record<string, z.ZodType>>, header: Readonly<Record<string, unknown>>) {
  return schemas[String(header.type)]!.safeParse(header);
}

describe('one-shot jobs: export / exported, probe / probed and build / built', () => {
  it.each([exportRequest, probeRequest, buildRequest])(
    'round-trips the $type request through its frame and its schema',
    (request) => {
      const decoded = parse(REQUESTS, decodeFrame(encodeFrame({ ...request, id: 1 })).header);
      expect(decoded.success).toBe(true);
      expect(decoded.data).toEqual(request);
    },
  );

  it.each([exported, probed, built])('round-trips the $type reply through its frame and its schema', (reply) => {
    const decoded = parse(REPLIES, decodeFrame(encodeFrame(reply)).header);
    expect(decoded.success).toBe(true);
    expect(decoded.data).toEqual(reply);
  });

  it.each([
    ['an exported reply with no files', { ...exported, files: [] }, 'files'],
    ['an exported reply from an exporter tr118 does not know', { ...exported, exporter: 'jit' }, 'exporter'],
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
    const decoded = parse(REPLIES, header);
    expect(decoded.success).toBe(false);
    expect(JSON.stringify(decoded.error?.issues)).toContain(key);
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
    expect(parse(REQUESTS, header).success).toBe(false);
  });
});
