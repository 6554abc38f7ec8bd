import type { JsonValue, SigningKey } from '@atlas/shared/matrix';
import { pythonTruthy } from './python.ts';
import { federationRequest, type SpecClientOptions } from './spec-client.ts';

/**
 * `GET /_matrix/client/v3/publicRooms?server=X` on a simulated server: it asks X over federation,
 * signed with its own key, as Synapse's `RoomListHandler.get_remote_public_room_list` does.
 * Synapse's answers, which via-homeserver crawling meets:
 * - X's page as X sent it;
 * - X's 403: 403 `M_FORBIDDEN` "You are not allowed to view the public rooms list of X"
 *   (synapse/federation/transport/client.py);
 * - any other failure (an error status, no answer, not JSON): 502 "Failed to fetch room list";
 * - a search (`filter`) is sent as `POST` (MSC2197); where X does not know that (404, 405,
 *   `M_UNRECOGNIZED`, `M_NOT_FOUND`) the whole directory is fetched and filtered here, one page;
 * - answers without a search are kept for 30 s per (X, limit, since): Synapse's
 *   `remote_response_cache`, so a change on X shows up to 30 s late. Failures are not kept.
 * Synapse retries a failing server for a while first; here the 502 comes after one attempt.
 */
export interface RemoteDirectoryRequest {
  target: string;
  limit: number | undefined;
  since: unknown;
  filter: unknown;
}

export interface Answer {
  status: number;
  body: string;
}

export interface Origin {
  serverName: string;
  key: SigningKey;
}

class Refused extends Error {}

interface Cached {
  answer: Promise<Answer>;
  expires: number;
}

export class RemoteDirectories {
  private readonly cache = new Map<string, Cached>();

  constructor(
    private readonly client: SpecClientOptions,
    private readonly origin: Origin,
    private readonly cacheMs: number,
  ) {}

  async fetch(request: RemoteDirectoryRequest): Promise<Answer> {
    try {
      if (!pythonTruthy(request.filter)) return await this.cached(request);
      return await this.search(request);
    } catch (error) {
      if (error instanceof Refused) return forbidden(request.target);
      return failed();
    }
  }

  private cached(request: RemoteDirectoryRequest): Promise<Answer> {
    const now = Date.now();
    for (const [key, entry] of this.cache) if (entry.expires <= now) this.cache.delete(key);
    const key = JSON.stringify([request.target, request.limit ?? null, request.since ?? null]);
    const hit = this.cache.get(key);
    if (hit) return hit.answer;
    const entry: Cached = { answer: this.get(request), expires: Number.POSITIVE_INFINITY };
    this.cache.set(key, entry);
    entry.answer.then(
      () => {
        if (this.cacheMs > 0) entry.expires = Date.now() + this.cacheMs;
        else this.cache.delete(key);
      },
      () => this.cache.delete(key),
    );
    return entry.answer;
  }

  private async get(request: RemoteDirectoryRequest): Promise<Answer> {
    // The arguments Synapse's federation client sends, in its order.
    const query = new URLSearchParams({ include_all_networks: 'false' });
    if (request.limit) query.set('limit', String(request.limit));
    if (pythonTruthy(request.since)) query.set('since', String(request.since));
    const res = await this.call(
      request.target,
      'GET',
      `/_matrix/federation/v1/publicRooms?${query}`,
      undefined,
    );
    if (res.status === 403) throw new Refused();
    if (res.status !== 200) throw new Error(`HTTP ${res.status}`);
    return { status: 200, body: JSON.stringify(res.json()) };
  }

  private async search(request: RemoteDirectoryRequest): Promise<Answer> {
    const content: Record<string, JsonValue> = { include_all_networks: false };
    if (request.limit) content.limit = request.limit;
    if (pythonTruthy(request.since)) content.since = request.since as JsonValue;
    content.filter = request.filter as JsonValue;
    const res = await this.call(request.target, 'POST', '/_matrix/federation/v1/publicRooms', content);
    if (res.status === 403) throw new Refused();
    if (res.status === 200) return { status: 200, body: JSON.stringify(res.json()) };
    const errcode = errcodeOf(res.body);
    if (![404, 405].includes(res.status) && errcode !== 'M_UNRECOGNIZED' && errcode !== 'M_NOT_FOUND') {
      throw new Error(`HTTP ${res.status}`);
    }
    // The remote does not search: everything, filtered here, without paging.
    const all = await this.cached({ ...request, limit: undefined, since: undefined, filter: undefined });
    const chunk = (JSON.parse(all.body) as { chunk?: unknown }).chunk;
    const term = (request.filter as { generic_search_term?: unknown }).generic_search_term;
    const matches = (entry: unknown) => {
      if (!pythonTruthy(term)) return true;
      const needle = String(term).toUpperCase();
      const e = (typeof entry === 'object' && entry !== null ? entry : {}) as Record<string, unknown>;
      return ['name', 'topic', 'canonical_alias'].some((field) =>
        String(e[field] ?? '')
          .toUpperCase()
          .includes(needle),
      );
    };
    return {
      status: 200,
      body: JSON.stringify({ chunk: Array.isArray(chunk) ? chunk.filter(matches) : [] }),
    };
  }

  private async call(target: string, method: 'GET' | 'POST', uri: string, content: JsonValue | undefined) {
    const res = await federationRequest(this.client, {
      destination: target,
      method,
      uri,
      signAs: this.origin,
      ...(content !== undefined ? { content } : {}),
    });
    return { status: res.status, body: res.body.toString('utf8'), json: () => res.json() };
  }
}

function errcodeOf(body: string): string | undefined {
  try {
    const parsed = JSON.parse(body) as { errcode?: unknown };
    return typeof parsed.errcode === 'string' ? parsed.errcode : undefined;
  } catch {
    return undefined;
  }
}

function forbidden(target: string): Answer {
  return {
    status: 403,
    body: JSON.stringify({
      errcode: 'M_FORBIDDEN',
      error: `You are not allowed to view the public rooms list of ${target}`,
    }),
  };
}

function failed(): Answer {
  return { status: 502, body: JSON.stringify({ errcode: 'M_UNKNOWN', error: 'Failed to fetch room list' }) };
}
