import { type MissedListing, missedListings } from '@atlas/shared/db';
import type { Sql } from 'postgres';
import type { DirectoryPage } from '../directory/public-rooms.ts';
import { isBusy } from '../remote/errors.ts';

/** Rooms a complete read did not list that are looked for one by one before they are closed. */
export const MAX_RECHECKS = 25;
/** Shorter terms match too many rooms to find one among them. */
const MIN_TERM_LENGTH = 3;
const MAX_TERM_LENGTH = 200;

export interface RecheckResult {
  /** Lookups made. */
  checked: number;
  /** Rooms found listed after all (stored like any listed room). */
  found: number;
}

/** What to ask the directory's search for: the room's alias, else its name. */
function searchTerm(room: MissedListing): string | undefined {
  const term = room.canonicalAlias ?? room.name?.trim();
  if (!term || term.length < MIN_TERM_LENGTH || term.length > MAX_TERM_LENGTH) return undefined;
  return term;
}

/**
 * Synapse pages its directory by (members, room id) from the last room it sent, so a room whose
 * member count grows past that point while a read goes on is never sent: it moved behind the read.
 * On a big, busy server that happens to a few rooms in most reads. Before a complete read closes the
 * listings it did not see, the biggest of them (most members first, at most `MAX_RECHECKS`) are
 * looked for with the directory's own search (`filter.generic_search_term`: the alias, else the
 * name). A room found is stored like any listed room; the others are closed as before. A failed
 * lookup ends the rechecks, never the read.
 */
export async function recheckMissedListings(
  sql: Sql,
  serverName: string,
  startedAt: string,
  search: (term: string) => Promise<DirectoryPage>,
  store: (page: DirectoryPage) => Promise<void>,
): Promise<RecheckResult> {
  const missed = await missedListings(sql, serverName, startedAt, MAX_RECHECKS);
  const waiting = new Set(missed.map((room) => room.roomId));
  const result: RecheckResult = { checked: 0, found: 0 };
  for (const room of missed) {
    // Found already, by an earlier lookup's answer.
    if (!waiting.has(room.roomId)) continue;
    const term = searchTerm(room);
    if (term === undefined) continue;
    result.checked++;
    let page: DirectoryPage;
    try {
      page = await search(term);
    } catch (error) {
      // Busy is no answer of the server: the read is not complete yet (ADR 0009).
      if (isBusy(error)) throw error;
      break;
    }
    const rooms = page.rooms.filter((r) => waiting.has(r.roomId));
    const noindexRoomIds = page.noindexRoomIds.filter((id) => waiting.has(id));
    if (rooms.length === 0 && noindexRoomIds.length === 0) continue;
    for (const r of rooms) waiting.delete(r.roomId);
    for (const id of noindexRoomIds) waiting.delete(id);
    result.found += rooms.length;
    await store({ ...page, rooms, noindexRoomIds, nextBatch: undefined });
  }
  return result;
}
