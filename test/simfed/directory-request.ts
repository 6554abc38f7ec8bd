import type { DirectoryView, PageRequest } from './directory.ts';
import { pythonInt, pythonTruthy } from './python.ts';

/**
 * Reading `publicRooms` parameters the way Synapse's servlets do, failures included: a bad query
 * `limit` is a 400, while what Synapse feeds to Python unchecked (a body `limit` that `int()`
 * refuses, a `filter` that is not an object) raises and becomes a 500.
 */
export type ParsedRequest =
  | { ok: true; request: PageRequest }
  | { ok: false; status: number; errcode: string; error: string };

const INTERNAL = { ok: false, status: 500, errcode: 'M_UNKNOWN', error: 'Internal server error' } as const;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `GET ...publicRooms?limit=&since=` (synapse/http/servlet.py `parse_integer`, default 0 = no limit). */
export function fromQuery(query: URLSearchParams, view: DirectoryView): ParsedRequest {
  const rawLimit = query.get('limit');
  let limit: number | undefined;
  if (rawLimit !== null) {
    const parsed = pythonInt(rawLimit);
    if (parsed === null) {
      return {
        ok: false,
        status: 400,
        errcode: 'M_INVALID_PARAM',
        error: 'Query parameter limit must be an integer',
      };
    }
    if (parsed < 0) {
      return {
        ok: false,
        status: 400,
        errcode: 'M_INVALID_PARAM',
        error: 'Query parameter limit must be a positive integer.',
      };
    }
    limit = parsed || undefined;
  }
  return { ok: true, request: { view, limit, since: query.get('since') ?? undefined } };
}

/** `POST ...publicRooms` (MSC2197): `int(content.get("limit", 100))`, `since` and `filter` as given. */
export function fromBody(body: Record<string, unknown>, view: DirectoryView): ParsedRequest {
  const raw = body.limit === undefined ? 100 : body.limit;
  let limit: number;
  if (typeof raw === 'number' && Number.isFinite(raw)) limit = Math.trunc(raw);
  else if (typeof raw === 'boolean') limit = raw ? 1 : 0;
  else if (typeof raw === 'string' && pythonInt(raw) !== null) limit = pythonInt(raw) ?? 0;
  else return INTERNAL;
  // A negative limit reaches Synapse's SQL and paging asserts, which fail.
  if (limit < 0) return INTERNAL;
  const filter = body.filter;
  let searchTerm: string | undefined;
  let roomTypes: (string | null)[] | undefined;
  if (pythonTruthy(filter)) {
    // `search_filter.get(...)` on a list or a string raises.
    if (!isObject(filter)) return INTERNAL;
    const term = filter.generic_search_term;
    if (typeof term === 'string') searchTerm = term;
    // `"%" + term + "%"` raises for anything but a string.
    else if (pythonTruthy(term)) return INTERNAL;
    if (Array.isArray(filter.room_types)) {
      roomTypes = filter.room_types.filter((t): t is string | null => t === null || typeof t === 'string');
    }
  }
  return { ok: true, request: { view, limit: limit || undefined, since: body.since, searchTerm, roomTypes } };
}
