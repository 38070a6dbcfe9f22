/**
 * A local GitHub Actions cache service (v2: Twirp JSON RPC plus blob storage), for the Action's `cache: actions`.
 * The contract is the one @actions/cache itself is generated from: every RPC body is parsed with the protobuf
 * message type of its method (unknown or mistyped fields throw), and every reply is built with the reply type.
 * Blobs are stored in memory; the upload is Azure's single-shot Put Blob, as the SDK sends it for small archives.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { ROOT } from './fixture.js';
import { LocalServer } from './local-server.js';

interface MessageType {
  fromJson(json: unknown): Record<string, unknown>;
  toJson(message: unknown): unknown;
  create(value?: Record<string, unknown>): unknown;
}
interface ServiceType {
  typeName: string;
  methods: { name: string; I: MessageType; O: MessageType }[];
}

const GENERATED = path.join(ROOT, 'node_modules/@actions/cache/lib/generated/results/api/v1/cache.js');

interface Entry {
  key: string;
  version: string;
  blob: string;
  finalized: boolean;
  createdAt: number;
}

export class FakeActionsCache extends LocalServer {
  /** Method names and keys as called, plus `INVALID: …` for a request that broke the contract. */
  calls: string[] = [];
  entries: Entry[] = [];
  private blobs = new Map<string, Buffer>();
  private service: ServiceType | undefined;

  /** Returns ACTIONS_RESULTS_URL (with the trailing slash the runner gives it). */
  override async start(): Promise<string> {
    this.service = ((await import(pathToFileURL(GENERATED).href)) as { CacheService: ServiceType }).CacheService;
    return `${await super.start()}/`;
  }

  protected async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const url = new URL(req.url ?? '/', this.base);
    const blob = /^\/devstoreaccount1\/cache\/(.+)$/.exec(url.pathname);
    if (blob && req.method === 'PUT') {
      this.blobs.set(blob[1]!, body);
      res.writeHead(201, { etag: '"0x1"', 'last-modified': new Date().toUTCString(), 'x-ms-request-id': '1' });
      res.end();
      return;
    }
    if (blob && req.method === 'GET') {
      const data = this.blobs.get(blob[1]!);
      res.writeHead(data ? 200 : 404, { 'content-length': String(data?.length ?? 0) });
      res.end(data);
      return;
    }
    const rpc = /^\/twirp\/([\w.]+)\/(\w+)$/.exec(url.pathname);
    const method = rpc && rpc[1] === this.service!.typeName && this.service!.methods.find((m) => m.name === rpc[2]);
    if (!method || req.method !== 'POST') {
      this.calls.push(`INVALID: ${req.method} ${url.pathname}`);
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"code":"bad_route","msg":"no such method"}');
      return;
    }
    let request: Record<string, unknown>;
    try {
      request = method.I.fromJson(JSON.parse(body.toString('utf8')));
    } catch (error) {
      this.calls.push(`INVALID: ${method.name}: ${(error as Error).message}`);
      res.writeHead(400, { 'content-type': 'application/json' }).end('{"code":"malformed","msg":"bad body"}');
      return;
    }
    const reply = this.answer(method.name, request);
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(method.O.toJson(method.O.create(reply))));
  }

  private answer(method: string, request: Record<string, unknown>): Record<string, unknown> {
    const key = String(request.key);
    const version = String(request.version);
    this.calls.push(`${method} ${key}`);
    if (method === 'CreateCacheEntry') {
      if (this.entries.some((e) => e.key === key && e.version === version)) return { ok: false, message: 'exists' };
      const blob = `${this.entries.length + 1}`;
      this.entries.push({ key, version, blob, finalized: false, createdAt: this.entries.length });
      return { ok: true, signedUploadUrl: `${this.base}/devstoreaccount1/cache/${blob}?sig=upload` };
    }
    const entry = this.entries.find((e) => e.key === key && e.version === version);
    if (method === 'FinalizeCacheEntryUpload') {
      if (!entry || !this.blobs.has(entry.blob)) return { ok: false, message: 'nothing uploaded' };
      entry.finalized = true;
      return { ok: true, entryId: entry.blob };
    }
    // GetCacheEntryDownloadURL: the exact key first, then the newest entry under each restore-key prefix
    const ready = this.entries.filter((e) => e.finalized && e.version === version);
    const exact = ready.find((e) => e.key === key);
    const restoreKeys = (request.restoreKeys as string[] | undefined) ?? [];
    const byPrefix = restoreKeys
      .map((prefix) => ready.filter((e) => e.key.startsWith(prefix)).sort((a, b) => b.createdAt - a.createdAt)[0])
      .find((e) => e !== undefined);
    const hit = exact ?? byPrefix;
    return hit
      ? {
          ok: true,
          signedDownloadUrl: `${this.base}/devstoreaccount1/cache/${hit.blob}?sig=download`,
          matchedKey: hit.key,
        }
      : { ok: false };
  }
}
