import { hideNoindexRooms, upsertDirectoryRooms } from '@atlas/shared/db';
import { serverOfAlias, serverOfRoomId } from '@atlas/shared/matrix';
import { enqueue } from '@atlas/shared/queue';
import type { CrawlerContext } from '../context.ts';
import type { DirectoryPage } from '../directory/public-rooms.ts';
import { type Candidate, discoverServers } from '../discover/discover-servers.ts';

/** New server names one directory read may put forward; a hostile directory cannot flood discovery. */
const MAX_CANDIDATES_PER_CRAWL = 10_000;

export interface PageStore {
  /** Stores one page: its rooms and listings, hides its no-index rooms, discovers the servers it names. */
  store(page: DirectoryPage): Promise<void>;
  /** Rooms stored so far. */
  readonly roomsStored: number;
  /** Asks for the follow-up of rooms queued since it was last asked for; call when the read ends. */
  finish(): Promise<void>;
}

/**
 * Where one read of `serverName`'s directory puts its pages. Each page is stored before the next
 * is asked for, so memory stays flat whatever the directory's size.
 */
export function pageStore(ctx: CrawlerContext, serverName: string): PageStore {
  const { sql } = ctx.database;
  const sent = new Set<string>([serverName]);
  let candidatesLeft = MAX_CANDIDATES_PER_CRAWL;
  let roomsStored = 0;
  let factsRequested = false;
  let factsSinceRequest = false;
  const askForLeads = () => enqueue(ctx.queues, 'room-leads', [{ listingServer: serverName }]);
  return {
    get roomsStored() {
      return roomsStored;
    },
    async store(page) {
      const { stored, factsQueued } = await upsertDirectoryRooms(sql, serverName, page.rooms, {
        factsMeasuredBefore: ctx.settings.factsMeasuredBefore(),
      });
      if (page.noindexRoomIds.length > 0) await hideNoindexRooms(sql, serverName, page.noindexRoomIds);
      roomsStored += stored;
      ctx.stats.roomsStored += stored;
      const candidates: Candidate[] = [];
      const offer = (name: string | null, via: Candidate['via'], from: string) => {
        if (name === null || sent.has(name) || candidatesLeft <= 0) return;
        sent.add(name);
        candidatesLeft--;
        candidates.push({ name, via, from });
      };
      for (const room of page.rooms) {
        if (room.canonicalAlias) offer(serverOfAlias(room.canonicalAlias), 'alias', room.canonicalAlias);
        offer(serverOfRoomId(room.roomId), 'room_id', room.roomId);
      }
      await discoverServers(ctx, candidates);
      // The server's leads job works through what the pages queue: asked for on the first page that
      // queues rooms, it takes rooms queued meanwhile too; whatever later pages queued is asked for
      // again when the read ends (a request made while the job runs is kept for after it), so
      // nothing queued late is left behind, at two queue writes per read instead of one per page.
      if (factsQueued > 0) {
        if (factsRequested) factsSinceRequest = true;
        else {
          await askForLeads();
          factsRequested = true;
        }
      }
    },
    async finish() {
      if (factsSinceRequest) await askForLeads();
    },
  };
}
