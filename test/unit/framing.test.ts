import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  encodeFrame,
  FrameDecoder,
  FrameError,
  float32FromPayload,
  float32Payload,
} from '../../src/backends/framing.js';
import { decodeReply, encodeReply } from '../../src/backends/protocol.js';

/** Feeds `bytes` to a decoder in pieces cut at `cuts`, as a pipe may deliver them. */
function decodeInPieces(bytes: Buffer, cuts: readonly number[]): ReturnType<FrameDecoder['push']> {
  const decoder = new FrameDecoder();
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const frames = [];
  let from = 0;
  for (const to of [...points, bytes.length]) {
    frames.push(...decoder.push(bytes.subarray(from, to)));
    from = to;
  }
  expect(decoder.partialBytes).toBe(0);
  return frames;
}

describe('frames (framing.ts): JSON header line + binary payload', () => {
  it('round-trips any sequence of headers and payloads, however the stream is cut', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            header: fc.dictionary(fc.string(), fc.jsonValue(), { maxKeys: 4 }),
            payload: fc.option(fc.uint8Array({ maxLength: 300 }), { nil: undefined }),
          }),
          { maxLength: 6 },
        ),
        fc.array(fc.nat(), { maxLength: 10 }),
        (messages, cuts) => {
          const clean = messages.map((m) => ({ header: withoutPayloadKey(m.header), payload: m.payload }));
          const bytes = Buffer.concat(clean.map((m) => encodeFrame(m.header, m.payload)));
          const frames = decodeInPieces(bytes, cuts);
          expect(frames).toHaveLength(clean.length);
          frames.forEach((frame, i) => {
            const sent = clean[i]!;
            const { payloadBytes, ...header } = frame.header;
            expect(JSON.parse(JSON.stringify(header))).toEqual(JSON.parse(JSON.stringify(sent.header)));
            expect(payloadBytes).toBe(sent.payload?.byteLength);
            expect(frame.payload ? [...frame.payload] : undefined).toEqual(
              sent.payload ? [...sent.payload] : undefined,
            );
          });
        },
      ),
    );
  });

  it('writes the bytes the Python side reads (native/tests/test_framing.py checks the same line)', () => {
    expect(encodeFrame({ type: 'x', id: 1 }, new Uint8Array([0, 1]))).toEqual(
      Buffer.from('{"type":"x","id":1,"payloadBytes":2}\n\x00\x01', 'latin1'),
    );
  });

  it.each([
    ['a stray print on stdout', 'hello from print()\n', /not a JSON header/],
    ['a JSON value that is not an object', '[1,2]\n', /must be a JSON object/],
    ['a negative payload size', '{"payloadBytes":-4}\n', /non-negative integer/],
    ['a fractional payload size', '{"payloadBytes":1.5}\n', /non-negative integer/],
  ])('refuses %s', (_name, text, message) => {
    expect(() => new FrameDecoder().push(Buffer.from(text))).toThrow(FrameError);
    expect(() => new FrameDecoder().push(Buffer.from(text))).toThrow(message);
  });

  it('float32 payloads are little-endian and exact', () => {
    const values = new Float32Array([0, -1.5, 3.4028234663852886e38, 1e-45, Number.NaN]);
    const bytes = float32Payload(values);
    expect([...bytes.subarray(4, 8)]).toEqual([0, 0, 0xc0, 0xbf]);
    expect(float32FromPayload(Buffer.from(bytes))).toEqual(values);
  });
});

describe('logits replies on the wire', () => {
  it('carry their values as a payload and come back identical', () => {
    const logits = Float32Array.from({ length: 2 * 3 * 5 }, (_, i) => i / 7);
    const [frame] = new FrameDecoder().push(encodeReply({ type: 'logits', id: 9, dims: [2, 3, 5], logits }));
    expect(frame?.header).toEqual({ type: 'logits', id: 9, dims: [2, 3, 5], dtype: 'float32', payloadBytes: 120 });
    const decoded = decodeReply(frame!);
    expect(decoded).toEqual({ ok: true, reply: { type: 'logits', id: 9, dims: [2, 3, 5], logits } });
  });

  it('are refused when the payload does not hold what the dims announce', () => {
    const header = { type: 'logits', id: 1, dims: [2, 3, 5], dtype: 'float32' };
    const [frame] = new FrameDecoder().push(encodeFrame(header, new Uint8Array(116)));
    expect(decodeReply(frame!)).toEqual({ ok: false, error: 'logits 2×3×5 need 120 payload bytes; got 116' });
  });

  it('a reply of an unknown type or without its id is malformed', () => {
    for (const header of [
      { type: 'ran', latenciesMs: [1] },
      { type: 'teapot', id: 1 },
    ]) {
      const [frame] = new FrameDecoder().push(encodeFrame(header));
      expect(decodeReply(frame!).ok).toBe(false);
    }
  });
});

function withoutPayloadKey(header: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(header).filter(([key]) => key !== 'payloadBytes'));
}
