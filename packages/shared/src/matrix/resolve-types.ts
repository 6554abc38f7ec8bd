/**
 * Where federation traffic for a server name goes (server-server API, "Resolving server names").
 * `step` records which rule of the spec decided it.
 */
export type ResolutionStep =
  | 'ip_literal'
  | 'explicit_port'
  | 'well_known'
  | 'well_known_srv_matrix_fed'
  | 'well_known_srv_matrix'
  | 'srv_matrix_fed'
  | 'srv_matrix'
  | 'default_port';

export interface ResolvedServer {
  serverName: string;
  step: ResolutionStep;
  /** Host to dial (a hostname or an IP literal, without brackets) and its port. */
  connectHost: string;
  connectPort: number;
  /** Host header to send. */
  hostHeader: string;
  /** Name the TLS certificate must be valid for (and SNI, unless an IP literal). */
  tlsServername: string;
  /** The delegated server name from .well-known, when there was one. */
  delegatedTo: string | undefined;
  /**
   * Further SRV targets, in the order to try them when `connectHost` cannot be reached (RFC 2782);
   * Host header and TLS name stay the same.
   */
  alternatives?: { host: string; port: number }[];
}

export interface ServerResolver {
  /** Throws ResolutionError with a reason when the name leads nowhere. */
  resolve(serverName: string): Promise<ResolvedServer>;
}

export class ResolutionError extends Error {
  override name = 'ResolutionError';
  /** True when DNS failed rather than answered (timeout, SERVFAIL): the name may resolve later. */
  readonly transient: boolean;
  constructor(
    readonly serverName: string,
    message: string,
    options: { transient?: boolean } = {},
  ) {
    super(message);
    this.transient = options.transient ?? false;
  }
}
