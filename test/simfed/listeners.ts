import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { Socket } from 'node:net';
import { createSecureContext, type SecureContext, type TLSSocket } from 'node:tls';
import type { TestCa } from '../support/test-ca.ts';
import type { RequestAuthenticator } from './auth.ts';
import { handleRequest } from './handler.ts';
import { type ListenerKey, listenerId } from './layout.ts';
import { Responder } from './responses.ts';
import type { SpecClientOptions } from './spec-client.ts';
import type { ServerRuntime, SimState } from './state.ts';

export interface ListenerOptions {
  ca: TestCa;
  state: SimState;
  auth: RequestAuthenticator;
  /** Delay before a `slow` server answers. */
  slowDelayMs: number;
  /** How long stalled and trickling servers hold a connection before dropping it. */
  stallMs: number;
  /** How simulated servers reach each other (client API `publicRooms?server=`). */
  outbound: SpecClientOptions;
  /** How long a server keeps another's directory page it fetched (Synapse: 30 s). */
  remoteCacheMs: number;
}

interface Listener {
  key: ListenerKey;
  server: Server;
  /** hostname (SNI and Host) -> server */
  routes: Map<string, ServerRuntime>;
  /** An IP-literal server owns its listener: no SNI, any Host. */
  owner: ServerRuntime | undefined;
  /**
   * Certificates shared by a few hostnames each (like a shared host's multi-name certificate).
   * One per name would cost ~30 ms of CPU each to issue, making the simulator, not Atlas, the
   * bottleneck of a 1,000-server crawl; one per listener would carry hundreds of names that every
   * client parses on every handshake. SNI still decides: a name not routed here gets the fallback
   * certificate, which no name validates against.
   */
  certs: { names: string[]; context: SecureContext | undefined }[];
  certOf: Map<string, number>;
}

/** Hostnames per shared certificate. */
const NAMES_PER_CERT = 16;

/** The Host header's hostname, without port or IPv6 brackets. */
function hostnameOf(hostHeader: string): string {
  const host = hostHeader.trim().toLowerCase();
  if (host.startsWith('[')) return host.slice(1, host.indexOf(']') >>> 0);
  const colon = host.lastIndexOf(':');
  return colon >= 0 ? host.slice(0, colon) : host;
}

/**
 * The simulator's sockets: a handful of TLS listeners on the block's addresses, each serving many
 * simulated servers. The certificate is picked by SNI (issued on first use by the simfed's CA, only
 * for names that really live on that listener), the server by the Host header.
 */
export class Listeners {
  private readonly listeners = new Map<string, Listener>();
  private certifying: Promise<void> | undefined;
  private readonly sockets = new Set<Socket>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private fallback: { cert: string; key: string; context: SecureContext } | undefined;
  private closed = false;
  /** TLS handshakes completed, over all listeners (connection reuse shows here). */
  tlsConnections = 0;

  constructor(private readonly options: ListenerOptions) {}

  /** Binds every listener, or none: on failure (the block is taken) everything bound is released. */
  async bind(keys: ListenerKey[], owners: Map<string, ServerRuntime>): Promise<void> {
    const fallbackCert = await this.options.ca.issue(['unknown-host.simfed.invalid']);
    this.fallback = {
      ...fallbackCert,
      context: createSecureContext({ cert: fallbackCert.cert, key: fallbackCert.key }),
    };
    try {
      for (const key of keys) await this.bindOne(key, owners.get(listenerId(key)));
    } catch (error) {
      await this.close();
      throw error;
    }
  }

  route(key: ListenerKey, hostname: string, runtime: ServerRuntime): void {
    const listener = this.listeners.get(listenerId(key));
    if (!listener) throw new Error(`no listener on ${listenerId(key)} for ${hostname}`);
    const name = hostname.toLowerCase();
    listener.routes.set(name, runtime);
    if (listener.owner || listener.certOf.has(name)) return;
    let last = listener.certs[listener.certs.length - 1];
    if (!last || last.names.length >= NAMES_PER_CERT) {
      last = { names: [], context: undefined };
      listener.certs.push(last);
    }
    last.names.push(name);
    last.context = undefined;
    listener.certOf.set(name, listener.certs.length - 1);
  }

  /** Issues certificates for listeners that gained hostnames since the last call. */
  certify(): Promise<void> {
    const run = async () => {
      for (const listener of this.listeners.values()) {
        for (const cert of listener.certs) {
          if (cert.context) continue;
          const issued = await this.options.ca.issue([...cert.names]);
          cert.context = createSecureContext({ cert: issued.cert, key: issued.key });
        }
      }
    };
    const next = (this.certifying ?? Promise.resolve()).then(run);
    this.certifying = next.catch(() => {});
    return next;
  }

  has(key: ListenerKey): boolean {
    return this.listeners.has(listenerId(key));
  }

  private async bindOne(key: ListenerKey, owner: ServerRuntime | undefined): Promise<void> {
    const fallback = this.fallback;
    if (!fallback) throw new Error('bind() issues the fallback certificate first');
    const routes = new Map<string, ServerRuntime>();
    const defaultCert = owner ? await this.options.ca.issue([key.address]) : fallback;
    // Assigned right after the server is created, before it listens, so callbacks always see it.
    let listener: Listener | undefined;
    const server = createServer(
      {
        cert: defaultCert.cert,
        key: defaultCert.key,
        handshakeTimeout: this.options.stallMs,
        SNICallback: (servername, callback) => {
          if (owner) return callback(null, undefined);
          const name = servername.toLowerCase();
          const runtime = routes.get(name);
          if (!runtime) return callback(null, fallback.context);
          if (runtime.server.behaviour === 'stall_tls') {
            runtime.stats.byEndpoint['TLS handshake (stalled)'] =
              (runtime.stats.byEndpoint['TLS handshake (stalled)'] ?? 0) + 1;
            return; // never answered; handshakeTimeout drops the connection
          }
          const contextFor = () => listener?.certs[listener.certOf.get(name) ?? -1]?.context;
          const context = contextFor();
          if (context) return callback(null, context);
          this.certify().then(
            () => callback(null, contextFor() ?? fallback.context),
            (error: Error) => callback(error, undefined),
          );
        },
      },
      (req, res) => {
        const hostname = hostnameOf(req.headers.host ?? '');
        const runtime = owner ?? routes.get(hostname);
        const sni = (req.socket as TLSSocket).servername;
        if (!runtime) {
          this.options.state.misrouted++;
          res
            .writeHead(404, { 'content-type': 'text/html' })
            .end('<h1>404 Not Found</h1><p>No such site here.</p>');
          return;
        }
        if (!owner && typeof sni === 'string' && sni.toLowerCase() !== hostname) {
          // The certificate was chosen for another name than the one asked for (RFC 9110 §15.5.20).
          this.options.state.misrouted++;
          res.writeHead(421, { 'content-type': 'text/html' }).end('<h1>421 Misdirected Request</h1>');
          return;
        }
        this.dispatch(runtime, hostname, req, res);
      },
    );
    listener = { key, server, routes, owner, certs: [], certOf: new Map() };
    server.keepAliveTimeout = 30_000;
    server.on('connection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
    });
    server.on('secureConnection', () => {
      this.tlsConnections++;
    });
    server.on('tlsClientError', () => {
      // Handshakes that fail (a client that rejects the fallback certificate, a stall timing out)
      // are expected here.
    });
    server.on('error', () => {});
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(key.port, key.address, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.listeners.set(listenerId(key), listener);
  }

  private later(ms: number, fn: () => void): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      fn();
    }, ms);
    this.timers.add(timer);
  }

  private dispatch(
    runtime: ServerRuntime,
    routedHostname: string,
    req: IncomingMessage,
    res: ServerResponse,
  ): void {
    const stats = runtime.stats;
    stats.requests++;
    stats.inFlight++;
    stats.maxInFlight = Math.max(stats.maxInFlight, stats.inFlight);
    // A request is in flight from its arrival until the server has its whole answer out (res.end),
    // or the connection closes first. Not until the socket's write completes ('close'): on a busy
    // event loop that may come after the client has read the answer and sent its next request.
    let ended = false;
    const done = () => {
      if (ended) return;
      ended = true;
      stats.inFlight--;
    };
    const end = res.end.bind(res) as (...args: unknown[]) => ServerResponse;
    res.end = ((...args: unknown[]) => {
      done();
      return end(...args);
    }) as ServerResponse['end'];
    res.once('close', done);
    const run = () =>
      handleRequest(
        {
          state: this.options.state,
          auth: this.options.auth,
          routedHostname,
          later: (ms, fn) => this.later(ms, fn),
          outbound: this.options.outbound,
          remoteCacheMs: this.options.remoteCacheMs,
        },
        runtime,
        req,
        res,
      ).catch(() => {
        if (res.headersSent) res.end();
        else new Responder(res, runtime.server).internalError();
      });
    const endless = runtime.server.endless;
    if (endless && endless.delayMs > 0) {
      this.later(endless.delayMs, () => void run());
      return;
    }
    switch (runtime.server.behaviour) {
      case 'stall_response':
        // Reads the request and never answers; dropped after stallMs.
        req.resume();
        this.later(this.options.stallMs, () => res.destroy());
        return;
      case 'trickle': {
        req.resume();
        res.writeHead(200, { 'content-type': 'application/json' });
        res.write('{"server":');
        const tick = () => {
          if (res.destroyed || this.closed) return;
          res.write(' ');
          this.later(1_000, tick);
        };
        this.later(1_000, tick);
        this.later(this.options.stallMs, () => res.destroy());
        return;
      }
      case 'slow':
        this.later(this.options.slowDelayMs, () => void run());
        return;
      default:
        void run();
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    for (const socket of this.sockets) socket.destroy();
    await Promise.all(
      [...this.listeners.values()].map(
        (listener) =>
          new Promise<void>((resolve) => {
            listener.server.closeAllConnections();
            listener.server.close(() => resolve());
          }),
      ),
    );
    this.listeners.clear();
  }
}
