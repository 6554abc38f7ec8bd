import type { ServerResponse } from 'node:http';
import type { SimServer } from './model.ts';

/**
 * Headers and error bodies the way Synapse 1.163 sends them (synapse/http/server.py): JSON answers
 * carry `Cache-Control: no-cache, no-store, must-revalidate` and CORS headers for any origin, and
 * every answer names the software in `Server` (Synapse servers only; the others send none here).
 */
const CORS = {
  'access-control-allow-origin': '*',
  'access-control-allow-methods': 'GET, HEAD, POST, PUT, DELETE, OPTIONS',
  'access-control-allow-headers': 'X-Requested-With, Content-Type, Authorization, Date',
  'access-control-expose-headers': 'Synapse-Trace-Id, Server',
};

/** Twisted's NoResource page: what Synapse answers outside the JSON resources. */
const NO_RESOURCE =
  '\n<html>\n  <head><title>404 - No Such Resource</title></head>\n  <body>\n    <h1>No Such Resource</h1>\n' +
  '    <p>Sorry. No luck finding that resource.</p>\n  </body>\n</html>\n';

export class Responder {
  constructor(
    readonly res: ServerResponse,
    private readonly server: SimServer,
  ) {}

  serverHeader(): Record<string, string> {
    const { name, version } = this.server.software;
    return name === 'Synapse' ? { server: `Synapse/${version}` } : {};
  }

  raw(status: number, body: string, headers: Record<string, string>): void {
    const res = this.res;
    if (res.headersSent || res.destroyed) return;
    res.writeHead(status, {
      ...this.serverHeader(),
      'content-length': String(Buffer.byteLength(body)),
      ...headers,
    });
    res.end(body);
  }

  /** A JSON answer of a Synapse JSON resource; `headers` override (e.g. a servlet's own Cache-Control). */
  json(status: number, body: string, headers: Record<string, string> = {}): void {
    this.raw(status, body, {
      'content-type': 'application/json',
      'cache-control': 'no-cache, no-store, must-revalidate',
      ...CORS,
      ...headers,
    });
  }

  error(status: number, errcode: string, message: string, extra: Record<string, unknown> = {}): void {
    this.json(status, JSON.stringify({ errcode, error: message, ...extra }));
  }

  /** An unhandled exception in a Synapse servlet. */
  internalError(): void {
    this.error(500, 'M_UNKNOWN', 'Internal server error');
  }

  /** A path no resource serves (outside `/_matrix/`): Twisted's HTML page, no CORS. */
  noResource(): void {
    this.raw(404, NO_RESOURCE, { 'content-type': 'text/html; charset=utf-8' });
  }

  /** `/.well-known/matrix/server` with `serve_server_wellknown` off (synapse/rest/well_known.py). */
  noServerWellKnown(): void {
    this.raw(404, '404. Is anything ever truly *well* known?\n', { 'content-type': 'text/plain' });
  }
}
