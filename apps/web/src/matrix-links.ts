import { DEFAULT_COMPLEXITY_LIMIT } from '@atlas/shared/search';

/** How many `via` servers a link carries: enough to find a way in, short enough to share. */
export const MAX_VIA = 5;

/** The server part of a room id (`!x:server`, room versions 1–11) or alias; null for v12 ids. */
export function serverOf(id: string | null | undefined): string | null {
  if (!id) return null;
  const colon = id.indexOf(':');
  return colon > 0 && colon < id.length - 1 ? id.slice(colon + 1) : null;
}

/**
 * Servers to name as `via`: the room's own server first (from its id, else its alias), then the
 * servers listing it, without repeats.
 */
export function viaServers(room: {
  room_id: string;
  canonical_alias: string | null;
  servers: string[];
}): string[] {
  const via: string[] = [];
  for (const server of [serverOf(room.room_id) ?? serverOf(room.canonical_alias), ...room.servers]) {
    if (server && !via.includes(server)) via.push(server);
    if (via.length === MAX_VIA) break;
  }
  return via;
}

/** What a link joins by: the canonical alias when there is one (Element joins by alias), else the id. */
export function roomTarget(room: { room_id: string; canonical_alias: string | null }): string {
  return room.canonical_alias ?? room.room_id;
}

function viaQuery(via: string[]): string {
  return via.length > 0 ? `?${via.map((server) => `via=${encodeURIComponent(server)}`).join('&')}` : '';
}

/**
 * `https://matrix.to/#/<alias or id>?via=…`, the identifier percent-encoded as the spec's
 * "matrix.to navigation" appendix asks.
 */
export function matrixToUrl(room: {
  room_id: string;
  canonical_alias: string | null;
  servers: string[];
}): string {
  return `https://matrix.to/#/${encodeURIComponent(roomTarget(room))}${viaQuery(viaServers(room))}`;
}

/** The room in Element Web: `<element>/#/room/<alias or id>?via=…`. */
export function elementRoomUrl(
  elementUrl: string,
  room: { room_id: string; canonical_alias: string | null; servers: string[] },
): string {
  return `${elementUrl.replace(/\/+$/, '')}/#/room/${encodeURIComponent(roomTarget(room))}${viaQuery(viaServers(room))}`;
}

/** The room's page in Atlas. */
export function roomPath(roomId: string): string {
  return `/rooms/${encodeURIComponent(roomId)}`;
}

export function serverPath(name: string): string {
  return `/servers/${encodeURIComponent(name)}`;
}

export type ComplexityLevel = 'unknown' | 'light' | 'moderate' | 'heavy';

/**
 * How heavy a room is to join, against Synapse's default `limit_remote_rooms.complexity` (1.0):
 * above it, a server with the limit on refuses the join; up to half of it, a join is light.
 */
export function complexityLevel(
  complexity: number | null,
  limit = DEFAULT_COMPLEXITY_LIMIT,
): ComplexityLevel {
  if (complexity === null || !Number.isFinite(complexity)) return 'unknown';
  if (complexity > limit) return 'heavy';
  return complexity > limit / 2 ? 'moderate' : 'light';
}

/**
 * What a room reference typed into the search box names: a room id, a `#alias:server`, or either
 * inside a matrix.to link. Null for plain words.
 */
export function parseRoomReference(input: string): { roomId: string } | { alias: string } | null {
  let text = input.trim();
  const link = /^(?:https?:\/\/)?matrix\.to\/#\/([^?\s]+)/i.exec(text);
  if (link?.[1]) {
    try {
      text = decodeURIComponent(link[1]);
    } catch {
      return null;
    }
  }
  if (/^#[^\s:]+:[A-Za-z0-9.:[\]-]+$/.test(text)) return { alias: text };
  if (/^![^\s:]+(?::[A-Za-z0-9.:[\]-]+)?$/.test(text) && text.length <= 255) return { roomId: text };
  return null;
}
