/** Downloads for `tr118 provision` (src/engines/onnxruntime/provision/download.ts) against a local server: what is retried, what not. */
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { downloadFile, DownloadError } from '../../src/engines/onnxruntime/provision/download.js';
import { tempDir } from '../helpers/fixture.js';

let server: Server | undefined;
afterEach(() => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())));

/** A server that answers each request with the next status of `statuses` (200: the body). */
async function serve(statuses: number[]): Promise<{ url: string; requests: () => number }> {
  let requests = 0;
  server = createServer((_req, res) => {
    const status = statuses[Math.min(requests++, statuses.length - 1)]!;
    res.writeHead(status, { 'content-type': 'application/octet-stream' });
    res.end(status === 200 ? 'the wheel' : 'no');
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/f.whl`, requests: () => requests };
}

describe('downloadFile', () => {
  it('retries a 503 and writes the body that follows', async () => {
    const { url, requests } = await serve([503, 200]);
    const dest = path.join(tempDir(), 'f.whl');
    await downloadFile(url, dest);
    expect(readFileSync(dest, 'utf8')).toBe('the wheel');
    expect(requests()).toBe(2);
  });

  it('retries a dropped connection (a network error) and writes the body that follows', async () => {
    let requests = 0;
    server = createServer((req, res) => {
      if (requests++ === 0) {
        req.socket.destroy();
        return;
      }
      res.end('the wheel');
    });
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/f.whl`;
    const dest = path.join(tempDir(), 'f.whl');
    await downloadFile(url, dest);
    expect(readFileSync(dest, 'utf8')).toBe('the wheel');
    expect(requests).toBe(2);
  });

  it('does not retry a 404: one request, an error with the status', async () => {
    const { url, requests } = await serve([404]);
    const error = await downloadFile(url, path.join(tempDir(), 'f.whl')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DownloadError);
    expect((error as DownloadError).status).toBe(404);
    expect((error as Error).message).toBe('HTTP 404');
    expect(requests()).toBe(1);
  });
});
