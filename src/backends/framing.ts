/**
 * The wire format between the runner and every worker process, whatever language the worker is written in
 * (the ONNX Runtime worker in Node, the PyTorch worker in Python): a stream of frames, each
 *
 *     one line of UTF-8 JSON (an object: the header) + "\n"  [+ exactly header.payloadBytes raw bytes]
 *
 * Requests travel on the worker's stdin, replies on its stdout; stderr is the worker's log. A header never contains
 * a raw newline (JSON escapes them), so a reader needs no lookahead. Tensors (logits) travel as a binary payload
 * after their header instead of JSON numbers: 4 bytes per float32 instead of ~12 characters, and exact.
 * native/tr118_native/worker/framing.py implements the same format; both are tested against each other.
 */

/** A header longer than this is garbage (a worker printing to stdout), not a message: token arrays stay far below. */
export const MAX_HEADER_BYTES = 64 * 1024 * 1024;

export interface Frame {
  readonly header: Readonly<Record<string, unknown>>;
  readonly payload: Buffer | undefined;
}

/** The stream is not in this format (a stray print on stdout, a truncated or corrupted frame). */
export class FrameError extends Error {
  override readonly name = 'FrameError';
}

export function encodeFrame(header: Readonly<Record<string, unknown>>, payload?: Uint8Array): Buffer {
  const line = JSON.stringify(payload ? { ...header, payloadBytes: payload.byteLength } : header);
  const head = Buffer.from(`${line}\n`, 'utf8');
  return payload ? Buffer.concat([head, Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength)]) : head;
}

/** Turns chunks of a byte stream back into frames; keeps a partial frame until the rest arrives. */
export class FrameDecoder {
  private chunks: Buffer[] = [];
  private buffered = 0;
  /** A header whose payload has not fully arrived yet. */
  private pending: { header: Record<string, unknown>; payloadBytes: number } | undefined;

  /** Every frame completed by this chunk, in order. Throws FrameError when the stream is not frames. */
  push(chunk: Buffer): Frame[] {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    const frames: Frame[] = [];
    for (;;) {
      if (this.pending) {
        if (this.buffered < this.pending.payloadBytes) return frames;
        const payload = this.take(this.pending.payloadBytes);
        frames.push({ header: this.pending.header, payload });
        this.pending = undefined;
        continue;
      }
      const all = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks);
      this.chunks = all.length > 0 ? [all] : [];
      const newline = all.indexOf(0x0a);
      if (newline < 0) {
        if (this.buffered > MAX_HEADER_BYTES) throw new FrameError(`no end of line after ${this.buffered} bytes`);
        return frames;
      }
      const line = this.take(newline + 1)
        .subarray(0, newline)
        .toString('utf8');
      const header = parseHeader(line);
      const payloadBytes = header.payloadBytes;
      if (payloadBytes === undefined) {
        frames.push({ header, payload: undefined });
      } else if (typeof payloadBytes === 'number' && Number.isSafeInteger(payloadBytes) && payloadBytes >= 0) {
        this.pending = { header, payloadBytes };
      } else {
        throw new FrameError(`payloadBytes must be a non-negative integer; got ${JSON.stringify(payloadBytes)}`);
      }
    }
  }

  /** Bytes received and not yet part of a complete frame (a stream that ends here was cut mid-frame). */
  get partialBytes(): number {
    return this.buffered;
  }

  private take(bytes: number): Buffer {
    const all = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks);
    const taken = all.subarray(0, bytes);
    const rest = all.subarray(bytes);
    this.chunks = rest.length > 0 ? [rest] : [];
    this.buffered = rest.length;
    return taken;
  }
}

function parseHeader(line: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    throw new FrameError(`not a JSON header: ${JSON.stringify(line.slice(0, 200))}`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new FrameError(`a header must be a JSON object; got ${JSON.stringify(line.slice(0, 200))}`);
  }
  return value as Record<string, unknown>;
}

/** float32 values as little-endian bytes (the payload layout of every tensor on the wire). */
export function float32Payload(values: Float32Array): Uint8Array {
  if (LITTLE_ENDIAN) return new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
  const out = Buffer.alloc(values.length * 4);
  values.forEach((v, i) => out.writeFloatLE(v, i * 4));
  return out;
}

/** The inverse of float32Payload; copies, so the result owns aligned memory. */
export function float32FromPayload(payload: Buffer): Float32Array {
  if (payload.length % 4 !== 0) throw new FrameError(`a float32 payload of ${payload.length} bytes`);
  const out = new Float32Array(payload.length / 4);
  if (LITTLE_ENDIAN) new Uint8Array(out.buffer).set(payload);
  else for (let i = 0; i < out.length; i++) out[i] = payload.readFloatLE(i * 4);
  return out;
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
