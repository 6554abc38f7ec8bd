import type { SharedHolds } from './shared-holds.ts';

/**
 * The contract of Atlas's one outbound HTTP client. Everything that talks to a remote server goes
 * through an `HttpClient`; nothing else opens sockets to the outside.
 */

export interface Timeouts {
  /** TCP + TLS handshake. */
  connectMs: number;
  /** From request sent to response headers received. */
  headersMs: number;
  /** The whole exchange, redirects included. */
  totalMs: number;
}

export interface HttpRequest {
  url: string;
  method?: 'GET' | 'POST' | 'PUT';
  headers?: Record<string, string>;
  body?: string | Uint8Array;
  /** Largest body accepted; larger answers fail with `too_large` (default 1 MiB). */
  maxBytes?: number;
  timeouts?: Partial<Timeouts>;
  /** Redirects to follow (default 0); every hop is resolved and checked against the SSRF guard again. */
  maxRedirects?: number;
  /**
   * Dial this host and port instead of the URL's (federation delegation: the URL keeps the
   * server name for the Host header while the socket goes to the delegated target).
   */
  connectTo?: { host: string; port: number };
  /** TLS server name (SNI and certificate check) when it differs from the URL host. */
  tlsServername?: string;
  /** Overrides the Host header (the spec's rules per resolution step). */
  hostHeader?: string;
  /**
   * Key for politeness: requests with the same key run one at a time (default: the URL host).
   * Federation passes the server name, so one server gets one request at a time.
   */
  politenessKey?: string;
  /**
   * Absolute deadline (epoch ms) shared by several requests, e.g. a whole crawl: reading stops
   * with `read_deadline` once it passes, however the per-request timeouts stand.
   */
  deadline?: number;
  signal?: AbortSignal;
}

export interface HttpResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  /** URL of the final hop after redirects. */
  url: string;
  body: Buffer;
  /** The address the socket connected to. */
  remoteAddress: string;
  /** The peer certificate's expiry, for https. */
  certValidTo: Date | undefined;
  /** Time to response headers of the final hop, in ms. */
  latencyMs: number;
  text(): string;
  /**
   * Parses the body as JSON with depth and size limits; throws HttpError('bad_json') otherwise.
   * `maxDepth` defaults to 64 levels of nesting.
   */
  json(maxDepth?: number): unknown;
}

export type HttpErrorCode =
  | 'invalid_url'
  | 'dns_failed'
  | 'blocked_address'
  | 'connect_failed'
  | 'connect_timeout'
  | 'tls_failed'
  | 'headers_timeout'
  | 'total_timeout'
  | 'read_deadline'
  | 'too_large'
  | 'too_many_redirects'
  | 'bad_json'
  | 'aborted'
  | 'protocol_error'
  /**
   * Another crawler process held the server's politeness hold for the whole wait (ADR 0009): the
   * request was never sent, and this says nothing about the server. The job is tried again soon.
   */
  | 'busy';

export class HttpError extends Error {
  override name = 'HttpError';
  /**
   * True when the failure says nothing about the name itself (a DNS server timing out or failing,
   * as opposed to a name with no records), so retrying later may succeed.
   */
  readonly transient: boolean;
  constructor(
    readonly code: HttpErrorCode,
    message: string,
    readonly url?: string,
    options: { transient?: boolean } = {},
  ) {
    super(message);
    this.transient = options.transient ?? false;
  }
}

export interface HttpClientOptions {
  /** DNS servers to ask instead of the system resolver (ATLAS_DNS_SERVERS). */
  dnsServers?: { host: string; port: number }[];
  /** Extra CA certificate(s) to trust, PEM, in addition to the built-in roots (ATLAS_CA_FILE). */
  ca?: string;
  /** CIDR ranges let through the private-address guard (ATLAS_ALLOW_NETWORKS). */
  allowNetworks: string[];
  /** Sent on every request. */
  userAgent: string;
  /** Requests in flight at once, across all hosts. */
  maxInFlight: number;
  /** Idle keep-alive connections are closed after this long (default 30 s). */
  idleSocketMs?: number;
  /**
   * TLS sessions kept for resumption, one per host and TLS name (default 100, Node's). A host
   * reconnected to after its idle connection closed resumes its session instead of a full
   * handshake, which spares both sides the certificate signature and its verification.
   */
  maxCachedSessions?: number;
  /**
   * Politeness shared with other processes (crawler processes on one Redis): a request also holds
   * its key here while it is in flight, so a remote server gets one request at a time from all of
   * them. Without it, one request at a time per key holds within this process only.
   */
  sharedHolds?: SharedHolds;
  /**
   * Longest wait for the politeness hold of a request's key while `sharedHolds` is set (default
   * 90 s). The wait is not part of the request's own timeouts; running out of it fails the request
   * with `busy`.
   */
  politenessWaitMs?: number;
}

export interface HttpClient {
  request(request: HttpRequest): Promise<HttpResponse>;
  /** Resolves a hostname through the configured DNS servers; addresses are not SSRF-checked here. */
  lookup(hostname: string): Promise<{ address: string; family: 4 | 6 }[]>;
  /** SRV records, through the configured DNS servers; empty when there are none. */
  resolveSrv(name: string): Promise<{ name: string; port: number; priority: number; weight: number }[]>;
  close(): Promise<void>;
}
