import type { KeyObject } from 'node:crypto';
import {
  type JsonValue,
  parseXMatrixAuthorization,
  verifyServerKeyDocument,
  verifyXMatrixRequest,
} from '@atlas/shared/matrix';
import { locateServer, rawRequest, type SpecClientOptions } from './spec-client.ts';

export type AuthResult =
  | { ok: true; origin: string }
  | { ok: false; status: 400 | 401; errcode: 'M_UNAUTHORIZED'; error: string };

interface CachedKeys {
  keys: Map<string, KeyObject>;
  validUntilTs: number;
  fetchedAt: number;
}

/** A failed fetch is not retried for this long, so a storm of bad requests is not a storm of fetches. */
const NEGATIVE_CACHE_MS = 2_000;
/** An unknown key id triggers a refetch at most this often (the origin may have rotated its key). */
const REFETCH_MS = 2_000;

/**
 * Verifies `X-Matrix` request signatures the way Synapse's federation Authenticator does: parse
 * the header, check the destination, fetch the origin's key over TLS from
 * `https://<origin>/_matrix/key/v2/server` (resolved through the simfed's own DNS, so explicit
 * ports skip well-known), check its self-signature, then the request signature over
 * `{method, uri, origin, destination, content?}`. Keys are cached until `valid_until_ts`, so a
 * crawl costs one key fetch per origin, not one per request.
 */
export class RequestAuthenticator {
  private readonly cache = new Map<string, CachedKeys>();
  private readonly failures = new Map<string, { at: number; reason: string }>();
  private readonly inFlight = new Map<string, Promise<CachedKeys>>();
  keyFetches = 0;

  constructor(private readonly client: SpecClientOptions) {}

  async authenticate(request: {
    method: string;
    uri: string;
    authorization: string | undefined;
    destination: string;
    content: JsonValue | undefined;
  }): Promise<AuthResult> {
    const header = request.authorization;
    if (!header || !/^X-Matrix\s/i.test(header)) {
      return { ok: false, status: 401, errcode: 'M_UNAUTHORIZED', error: 'Missing Authorization headers' };
    }
    const credentials = parseXMatrixAuthorization(header);
    if (!credentials) {
      return { ok: false, status: 400, errcode: 'M_UNAUTHORIZED', error: 'Malformed Authorization header' };
    }
    if (
      credentials.destination !== undefined &&
      credentials.destination !== request.destination.toLowerCase()
    ) {
      return {
        ok: false,
        status: 401,
        errcode: 'M_UNAUTHORIZED',
        error: 'Destination mismatch in auth header',
      };
    }
    let keys: CachedKeys;
    try {
      keys = await this.keysFor(credentials.origin, credentials.keyId);
    } catch (error) {
      return {
        ok: false,
        status: 401,
        errcode: 'M_UNAUTHORIZED',
        error: `Failed to find any key to satisfy ${credentials.origin} ${credentials.keyId}: ${error instanceof Error ? error.message : String(error)}`,
      };
    }
    const publicKey = keys.keys.get(credentials.keyId);
    if (!publicKey) {
      return {
        ok: false,
        status: 401,
        errcode: 'M_UNAUTHORIZED',
        error: `Failed to find any key to satisfy ${credentials.origin} ${credentials.keyId}`,
      };
    }
    const verified = verifyXMatrixRequest(
      credentials,
      {
        method: request.method,
        uri: request.uri,
        destination: request.destination,
        ...(request.content !== undefined ? { content: request.content } : {}),
      },
      publicKey,
    );
    if (!verified) {
      return {
        ok: false,
        status: 401,
        errcode: 'M_UNAUTHORIZED',
        error: `Invalid signature for server ${credentials.origin} with key ${credentials.keyId}`,
      };
    }
    return { ok: true, origin: credentials.origin };
  }

  private async keysFor(origin: string, keyId: string): Promise<CachedKeys> {
    const now = Date.now();
    const cached = this.cache.get(origin);
    if (
      cached &&
      cached.validUntilTs > now &&
      (cached.keys.has(keyId) || now - cached.fetchedAt < REFETCH_MS)
    ) {
      return cached;
    }
    const failure = this.failures.get(origin);
    if (failure && now - failure.at < NEGATIVE_CACHE_MS) throw new Error(failure.reason);
    let pending = this.inFlight.get(origin);
    if (!pending) {
      pending = this.fetchKeys(origin).finally(() => this.inFlight.delete(origin));
      this.inFlight.set(origin, pending);
    }
    try {
      return await pending;
    } catch (error) {
      this.failures.set(origin, {
        at: Date.now(),
        reason: error instanceof Error ? error.message : String(error),
      });
      throw error;
    }
  }

  private async fetchKeys(origin: string): Promise<CachedKeys> {
    this.keyFetches++;
    const located = await locateServer(this.client, origin);
    const res = await rawRequest(this.client, located, 'GET', '/_matrix/key/v2/server');
    if (res.status !== 200) throw new Error(`key fetch answered ${res.status}`);
    const verified = verifyServerKeyDocument(res.json(), origin);
    if (!verified) throw new Error('key document is not validly self-signed by the origin');
    if (verified.validUntilTs <= Date.now()) throw new Error('key document has expired');
    const entry = { keys: verified.keys, validUntilTs: verified.validUntilTs, fetchedAt: Date.now() };
    this.cache.set(origin, entry);
    this.failures.delete(origin);
    return entry;
  }
}
