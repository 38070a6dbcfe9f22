/** The local HTTP servers that stand in for GitHub, the npm registry and the Actions cache: listen on 127.0.0.1. */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export abstract class LocalServer {
  /** http://127.0.0.1:PORT once started. */
  protected base = '';
  private readonly server: Server = createServer((req, res) => void this.handle(req, res));

  protected abstract handle(req: IncomingMessage, res: ServerResponse): void | Promise<void>;

  /** Listens on a free port; returns the base URL. */
  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.base = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this.base;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
