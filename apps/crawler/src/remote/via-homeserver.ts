import type { Logger as PinoLogger } from '@atlas/shared/log';
import type { HttpClient } from '@atlas/shared/net';
import type { ICreateClientOpts, MatrixClient } from 'matrix-js-sdk';
import { type DirectoryPage, parseDirectoryPage } from '../directory/public-rooms.ts';
import type { PageRequest } from './directory.ts';
import { DirectoryRefusedError, RemoteAnswerError } from './errors.ts';
import { PAGE_MAX_BYTES, PAGE_TIMEOUTS } from './timeouts.ts';

/**
 * Via-homeserver mode (docs/architecture.md, "Reading a directory"): for operators who expose no
 * federation identity, Atlas logs into their own homeserver with matrix-js-sdk and asks it for
 * other servers' directories (`publicRooms({server})`), which that homeserver fetches over
 * federation with its own identity.
 */
export interface ViaHomeserver {
  /** The homeserver's base URL. */
  readonly baseUrl: string;
  fetchPage(serverName: string, request: PageRequest): Promise<DirectoryPage>;
}

export interface ViaHomeserverOptions {
  url: string;
  token?: string | undefined;
  user?: string | undefined;
  password?: string | undefined;
  /** The client for the homeserver (the operator's own, so private addresses are allowed). */
  http: HttpClient;
  log: PinoLogger;
}

type SdkLogger = NonNullable<ICreateClientOpts['logger']>;

/** matrix-js-sdk logs to the console by default; Atlas keeps stdout for command output. */
function sdkLogger(log: PinoLogger): SdkLogger {
  const child = log.child({ component: 'matrix-js-sdk' });
  const logger: SdkLogger = {
    trace: () => {},
    debug: () => {},
    info: () => {},
    warn: (...msg: unknown[]) => child.debug({ msg: msg.map(String).join(' ') }, 'matrix-js-sdk warning'),
    error: (...msg: unknown[]) => child.debug({ msg: msg.map(String).join(' ') }, 'matrix-js-sdk error'),
    getChild: () => logger,
  };
  return logger;
}

/**
 * A `fetch` for matrix-js-sdk that goes through Atlas's HTTP client (its CA, DNS, timeouts and caps)
 * and only to the configured homeserver.
 */
export function fetchThrough(http: HttpClient, origin: string): typeof fetch {
  return async (input, init) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.toString() : input.url;
    if (new URL(url).origin !== origin) {
      throw new TypeError(`refusing to fetch ${url}: only the configured homeserver ${origin} is used`);
    }
    const headers: Record<string, string> = {};
    new Headers(init?.headers).forEach((value, key) => {
      headers[key] = value;
    });
    const body = typeof init?.body === 'string' || init?.body instanceof Uint8Array ? init.body : undefined;
    const method = (init?.method ?? 'GET').toUpperCase();
    if (method !== 'GET' && method !== 'POST' && method !== 'PUT') {
      throw new TypeError(`matrix-js-sdk asked for ${method}, which via-homeserver mode never needs`);
    }
    const response = await http.request({
      url,
      method,
      headers,
      ...(body !== undefined ? { body } : {}),
      maxBytes: PAGE_MAX_BYTES,
      timeouts: PAGE_TIMEOUTS,
      ...(init?.signal ? { signal: init.signal } : {}),
    });
    const responseHeaders = new Headers();
    for (const [key, value] of Object.entries(response.headers)) {
      if (value !== undefined) responseHeaders.set(key, Array.isArray(value) ? value.join(', ') : value);
    }
    const empty = response.status === 204 || response.status === 304;
    return new Response(empty ? null : new Uint8Array(response.body), {
      status: response.status,
      headers: responseHeaders,
    });
  };
}

export function createViaHomeserver(options: ViaHomeserverOptions): ViaHomeserver {
  const baseUrl = options.url.replace(/\/+$/, '');
  const origin = new URL(baseUrl).origin;
  const fetchFn = fetchThrough(options.http, origin);
  const logger = sdkLogger(options.log);
  let client: Promise<MatrixClient> | undefined;

  // matrix-js-sdk is large; it is loaded only when this mode is configured and first used.
  async function connect(): Promise<MatrixClient> {
    const sdk = await import('matrix-js-sdk');
    if (options.token) return sdk.createClient({ baseUrl, accessToken: options.token, fetchFn, logger });
    if (!options.user || !options.password) {
      throw new Error(
        'via-homeserver mode needs ATLAS_HOMESERVER_TOKEN, or ATLAS_HOMESERVER_USER and ATLAS_HOMESERVER_PASSWORD',
      );
    }
    const anonymous = sdk.createClient({ baseUrl, fetchFn, logger });
    const login = await anonymous.loginRequest({
      type: 'm.login.password',
      identifier: { type: 'm.id.user', user: options.user },
      password: options.password,
      initial_device_display_name: 'Atlas directory crawler',
    });
    options.log.info(
      { homeserver: baseUrl, userId: login.user_id },
      'logged into the homeserver for via-homeserver crawling',
    );
    return sdk.createClient({
      baseUrl,
      accessToken: login.access_token,
      userId: login.user_id,
      fetchFn,
      logger,
    });
  }

  function matrixClient(): Promise<MatrixClient> {
    client ??= connect().catch((error: unknown) => {
      client = undefined;
      throw error;
    });
    return client;
  }

  return {
    baseUrl,
    async fetchPage(serverName, request) {
      const sdkClient = await matrixClient();
      try {
        const response = await sdkClient.publicRooms({
          server: serverName,
          limit: request.limit,
          ...(request.since !== undefined ? { since: request.since } : {}),
          // With a filter the SDK sends the POST form, which the homeserver relays with it.
          ...(request.searchTerm !== undefined
            ? { filter: { generic_search_term: request.searchTerm } }
            : {}),
        });
        return parseDirectoryPage(response as unknown);
      } catch (error) {
        const status = (error as { httpStatus?: unknown }).httpStatus;
        const errcode = (error as { errcode?: unknown }).errcode;
        if (typeof status !== 'number') throw error;
        const code = typeof errcode === 'string' ? errcode : undefined;
        if (status === 401 && code === 'M_UNKNOWN_TOKEN' && !options.token) client = undefined;
        // The homeserver relays the remote's refusal (Synapse: 403 when the remote does not publish).
        if (status === 401 || status === 403) {
          throw new DirectoryRefusedError(
            status,
            code,
            `the homeserver's directory of ${serverName} refused: HTTP ${status} ${code ?? ''}`.trim(),
          );
        }
        throw new RemoteAnswerError(
          status,
          `the homeserver answered HTTP ${status} ${code ?? ''} for ${serverName}'s directory`.trim(),
        );
      }
    },
  };
}
