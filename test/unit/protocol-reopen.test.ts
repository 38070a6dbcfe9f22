import { describe, expect, it } from 'vitest';
import { FrameDecoder } from '../../src/backends/framing.js';
import { decodeRequest, encodeRequest, type WorkerRequest } from '../../src/backends/protocol.js';

/** A request as the worker reads it: encoded, cut into frames, validated. */
function roundTrip(request: WorkerRequest): ReturnType<typeof decodeRequest> {
  const frames = new FrameDecoder().push(encodeRequest(request));
  expect(frames).toHaveLength(1);
  return decodeRequest(frames[0]!);
}

describe('the reopen request', () => {
  it('arrives as sent, with the order asked and a compile cache entry', () => {
    const reopen: WorkerRequest = { type: 'reopen', id: 7, baseFirst: true, compileCache: { load: '/c/a.bin' } };
    expect(roundTrip(reopen)).toEqual({ success: true, data: reopen });
    expect(roundTrip({ type: 'reopen', id: 8, baseFirst: false })).toEqual({
      success: true,
      data: { type: 'reopen', id: 8, baseFirst: false },
    });
  });

  it('without the order asked is refused: which side opens first is the point of it', () => {
    const frames = new FrameDecoder().push(Buffer.from(`${JSON.stringify({ type: 'reopen', id: 9 })}\n`));
    const parsed = decodeRequest(frames[0]!);
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues[0]?.path).toEqual(['baseFirst']);
  });
});
