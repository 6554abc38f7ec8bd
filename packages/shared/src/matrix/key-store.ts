import type { KeyObject } from 'node:crypto';
import type { JsonValue } from './canonical-json.ts';
import type { FederationClient } from './federation-client.ts';
import { parseXMatrixAuthorization, verifyXMatrixRequest } from './request-auth.ts';
import { parseServerName } from './server-name.ts';

/** Keys are trusted until their `valid_until_ts`, but re-read at least daily. */
const MAX_KEY_CACHE_MS = 24 * 3600 * 1000;
/** A server whose keys could not be had is not asked again for this long. */
const MISS_CACHE_MS = 60 * 1000;
const MAX_SERVERS = 10_000;

export interface KeyStoreOptions {
  federation: Pick<FederationClient, 'getServerKeys'>;
  now?: () => number;
  /** How long a failed fetch (or an unknown key id) is remembered (default 60 s). */
  missCacheMs?: number;
}

export interface InboundRequest {
  /** The Authorization header as received. */
  authorization: string | string[] | undefined;
  method: string;
  /** Path and query exactly as they came in the request line. */
  uri: string;
  /** Atlas's own server name. */
  destination: string;
  /** The parsed JSON body, when the request had one. */
  content?: JsonValue;
}

export type VerifyResult = { ok: true; origin: string } | { ok: false; reason: string };

export interface KeyStore {
  getVerifyKey(serverName: string, keyId: string): Promise<KeyObject | null>;
  verifyRequest(request: InboundRequest): Promise<VerifyResult>;
}

interface Entry {
  keys: Map<string, KeyObject>;
  fetchedAt: number;
  expiresAt: number;
  /** Why the last fetch gave nothing, for the 401 message. */
  failure: string | undefined;
}

/**
 * Remote servers' verify keys, for checking signed requests made to Atlas (spec "Request
 * Authentication"): fetched from the origin itself over federation, one fetch in flight per
 * server, cached until `valid_until_ts` (at most a day), failures remembered briefly so a flood of
 * bad requests does not become a flood of key fetches.
 */
export function createKeyStore(options: KeyStoreOptions): KeyStore {
  const now = options.now ?? Date.now;
  const missCacheMs = options.missCacheMs ?? MISS_CACHE_MS;
  const entries = new Map<string, Entry>();
  const inFlight = new Map<string, Promise<Entry>>();

  function store(serverName: string, entry: Entry): Entry {
    entries.delete(serverName);
    if (entries.size >= MAX_SERVERS) {
      const oldest = entries.keys().next().value;
      if (oldest !== undefined) entries.delete(oldest);
    }
    entries.set(serverName, entry);
    return entry;
  }

  async function fetchKeys(serverName: string): Promise<Entry> {
    const at = now();
    try {
      const keys = await options.federation.getServerKeys(serverName);
      if (!keys) {
        return store(serverName, {
          keys: new Map(),
          fetchedAt: at,
          expiresAt: at + missCacheMs,
          failure: `${serverName} did not serve a valid self-signed key document`,
        });
      }
      if (keys.validUntilTs <= at) {
        return store(serverName, {
          keys: new Map(),
          fetchedAt: at,
          expiresAt: at + missCacheMs,
          failure: `${serverName}'s key document expired at ${new Date(keys.validUntilTs).toISOString()}`,
        });
      }
      return store(serverName, {
        keys: keys.keys,
        fetchedAt: at,
        expiresAt: Math.min(keys.validUntilTs, at + MAX_KEY_CACHE_MS),
        failure: undefined,
      });
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      return store(serverName, {
        keys: new Map(),
        fetchedAt: at,
        expiresAt: at + missCacheMs,
        failure: `fetching ${serverName}'s keys failed: ${message}`,
      });
    }
  }

  async function entryFor(serverName: string, keyId: string): Promise<Entry> {
    const cached = entries.get(serverName);
    const at = now();
    if (cached && cached.expiresAt > at) {
      // A key id we have not seen may be a fresh rotation: look again, but not more than once a minute.
      if (cached.keys.has(keyId) || at - cached.fetchedAt < missCacheMs) return cached;
    }
    let running = inFlight.get(serverName);
    if (!running) {
      running = fetchKeys(serverName).finally(() => inFlight.delete(serverName));
      inFlight.set(serverName, running);
    }
    return running;
  }

  async function getVerifyKey(serverName: string, keyId: string): Promise<KeyObject | null> {
    const name = parseServerName(serverName)?.name;
    if (!name) return null;
    const entry = await entryFor(name, keyId);
    return entry.keys.get(keyId) ?? null;
  }

  return {
    getVerifyKey,
    async verifyRequest(request) {
      const header = Array.isArray(request.authorization) ? request.authorization[0] : request.authorization;
      const credentials = parseXMatrixAuthorization(header);
      if (!credentials) {
        return { ok: false, reason: 'missing or malformed X-Matrix Authorization header' };
      }
      if (
        credentials.destination !== undefined &&
        credentials.destination !== request.destination.toLowerCase()
      ) {
        return {
          ok: false,
          reason: `the request is addressed to ${credentials.destination}, not ${request.destination}`,
        };
      }
      const entry = await entryFor(credentials.origin, credentials.keyId);
      const key = entry.keys.get(credentials.keyId);
      if (!key) {
        return {
          ok: false,
          reason: `no key ${credentials.keyId} for ${credentials.origin}${entry.failure ? ` (${entry.failure})` : ''}`,
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
        key,
      );
      return verified
        ? { ok: true, origin: credentials.origin }
        : { ok: false, reason: `the X-Matrix signature of ${credentials.origin} does not match the request` };
    },
  };
}
