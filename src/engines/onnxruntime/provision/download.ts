/**
 * Downloads a file to disk with retries on the failures that pass (a dropped connection, 5xx, 429), for `tr118
 * provision` and the Action alike: ky (fetch with retries and timeouts) rather than a hand-written loop, and no
 * Actions toolkit, so the CLI prints nothing of a runner's (no ::debug:: lines) and gives up on a dead host in seconds.
 */
import { createWriteStream } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { fileURLToPath } from 'node:url';
import ky, { HTTPError } from 'ky';
import { describeError, UsageError } from '../../../errors.js';

/**
 * The base URL a mirror variable (TR118_PYPI_FILES, TR118_NUGET_FLAT, TR118_NPM_REGISTRY) gives, without trailing
 * slashes; checked before any request, because a value that is no URL is no network error: retrying it only delays
 * the one useful message, which names the variable and its value. `file` admits a file:// folder (the GPU packages).
 */
export function mirrorBaseUrl(variable: string, value: string, options: { readonly file: boolean }): string {
  const expected = `expected http:// or https:// and a host${options.file ? ', or a file:// folder' : ''}`;
  const refuse = (why: string) =>
    new UsageError(
      `${variable}=${JSON.stringify(value)}: ${why} (${expected}); set it to the mirror's base URL, or unset it`,
    );
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw refuse('not a URL');
  }
  if (url.protocol === 'http:' || url.protocol === 'https:') {
    // The URL parser mends `http:/host` and `http:///host` into http://host/: a mistyped value, not a mirror.
    if (!/^https?:\/\/[^/?#\s]/i.test(value)) throw refuse('no host after the scheme');
  } else if (url.protocol === 'file:' && options.file) {
    try {
      fileURLToPath(url);
    } catch (error) {
      throw refuse(describeError(error));
    }
  } else {
    throw refuse(`tr118 does not download from ${url.protocol}//`);
  }
  return value.replace(/\/+$/, '');
}

/** A download that did not happen: `status` is the HTTP status when the server answered. */
export class DownloadError extends Error {
  constructor(
    message: string,
    readonly status: number | undefined,
  ) {
    super(message);
  }
}

/**
 * Writes `url` to `dest`. Retried: connection errors and 408/429/5xx, with backoff; not retried: other 4xx, and
 * anything that is not a network error (callers check their URL first: mirrorBaseUrl).
 */
export async function downloadFile(url: string, dest: string): Promise<void> {
  let response: Response;
  try {
    response = await ky.get(url, { retry: { limit: 3 }, timeout: 120_000 });
  } catch (error) {
    if (error instanceof HTTPError) throw new DownloadError(`HTTP ${error.response.status}`, error.response.status);
    throw new DownloadError(networkReason(error), undefined);
  }
  if (!response.body) throw new DownloadError('an empty response', response.status);
  await pipeline(Readable.fromWeb(response.body as WebReadableStream<Uint8Array>), createWriteStream(dest));
}

/**
 * The reason at the bottom of a network error: ky says the request failed, fetch that it "failed", and only the
 * innermost cause names what happened (connect ECONNREFUSED 127.0.0.1:9, getaddrinfo ENOTFOUND host).
 */
function networkReason(error: unknown): string {
  let deepest: unknown = error;
  for (let e: unknown = error; e instanceof Error && e.cause !== undefined; e = e.cause) deepest = e.cause;
  return deepest === error ? describeError(error) : `${describeError(error)}: ${describeError(deepest)}`;
}
