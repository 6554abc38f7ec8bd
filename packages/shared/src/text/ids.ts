import { parseServerName, serverOfAlias } from '../matrix/server-name.ts';
import { LIMITS } from './clean.ts';

/**
 * Matrix identifiers from remote servers are kept exactly as sent or not at all: a "cleaned"
 * alias or room id would point at a different room.
 */

// Printable ASCII without space: what every room id Synapse and Conduit mint looks like, and what
// room version 12 ids (`!` + unpadded url-safe base64 of a hash) are made of.
const ROOM_ID = /^![\x21-\x7E]{1,254}$/;

/** The room id, or null when it is not one (room version 12 ids have no server part). */
export function cleanRoomId(input: unknown): string | null {
  if (typeof input !== 'string' || input.length > 255 || !ROOM_ID.test(input)) return null;
  const colon = input.indexOf(':');
  if (colon >= 0 && parseServerName(input.slice(colon + 1)) === null) return null;
  return input;
}

// Aliases may carry non-ASCII localparts (older rooms), but never whitespace or control characters.
const ALIAS_FORBIDDEN = /[\s\p{Cc}\p{Cf}\p{Cs}\uFFFD]/u;

/** `#local:server` with a valid server name, or null. */
export function cleanAlias(input: unknown): string | null {
  if (typeof input !== 'string' || input.length < 4 || input.length > LIMITS.alias) return null;
  if (!input.startsWith('#') || ALIAS_FORBIDDEN.test(input)) return null;
  const colon = input.indexOf(':');
  if (colon < 2) return null;
  return serverOfAlias(input) ? input : null;
}

/** `@local:server`, or null. */
export function cleanUserId(input: unknown): string | null {
  if (typeof input !== 'string' || input.length < 4 || input.length > 255) return null;
  if (!/^@[\x21-\x39\x3B-\x7E]+:[^\s]+$/.test(input)) return null;
  return parseServerName(input.slice(input.indexOf(':') + 1)) ? input : null;
}
