import {
  type RoomFacts,
  type RoomLeads,
  type RoomNeedingFacts,
  type RoomNeedingLeads,
  recordRoomFacts,
  recordRoomLeads,
  takePendingRoomFacts,
  takePendingRoomLeads,
} from '@atlas/shared/db';
import { serverOfAlias, serverOfRoomId } from '@atlas/shared/matrix';
import { enqueue } from '@atlas/shared/queue';
import type { CrawlerContext } from '../context.ts';
import { type Candidate, discoverServers } from '../discover/discover-servers.ts';
import { estimateComplexity } from '../policy/complexity.ts';
import { complexityTries, residentsToKeep } from '../policy/follow-up.ts';
import {
  type AliasAnswer,
  fetchComplexity,
  fetchHierarchy,
  queryAliasOverClientApi,
  queryAliasOverFederation,
} from '../remote/room-info.ts';
import type { ServerGate } from './server-gate.ts';
import { workThrough } from './work-through.ts';

/** Rooms taken from the queue per batch: their results are written, and taken off the queue, together. */
const BATCH = 50;
/**
 * Rooms per batch of the leads step. Its requests are one alias lookup per room, and each batch
 * costs four statements (take, server statuses, record, discover) whatever its size, so its batches
 * are bigger; a crash loses at most one batch's answers, asked again after the restart.
 */
const LEADS_BATCH = 100;
/**
 * The leads step for the rooms queued for one server (docs/architecture.md, "Following up a
 * read"): the servers in each room from query/directory on its alias's server, and the children of
 * spaces from their hierarchy. Every server named on the way is discovered. This is how Atlas finds
 * servers no directory lists, so it runs before complexity (its jobs go first in their queue), and
 * when a server's leads are done, or their share of the server's follow-up budget is spent, its
 * complexity step is queued. Rooms left then wait for the server's next read. Returns how many
 * rooms it handled.
 */
export async function gatherLeads(ctx: CrawlerContext, listingServer: string): Promise<number> {
  const { handled, handedBack } = await workThrough<RoomNeedingLeads, LeadsOfRoom>(ctx, listingServer, {
    step: 'leads',
    job: 'room-leads',
    batch: LEADS_BATCH,
    take: (server, limit) => takePendingRoomLeads(ctx.database.sql, server, limit),
    serversOf: (rooms) =>
      rooms
        .map((room) => (room.canonicalAlias ? serverOfAlias(room.canonicalAlias) : null))
        .filter((name): name is string => name !== null),
    work: (gate, room) => leadsOf(ctx, gate, listingServer, room),
    async record(results) {
      // Servers first: once the leads are recorded, the rooms are not asked about again.
      const candidates = new Map<string, Candidate>();
      for (const { found } of results) {
        for (const candidate of found)
          if (!candidates.has(candidate.name)) candidates.set(candidate.name, candidate);
      }
      await discoverServers(ctx, [...candidates.values()]);
      await recordRoomLeads(
        ctx.database.sql,
        listingServer,
        results.map((result) => result.leads),
      );
      ctx.stats.roomsLeads += results.length;
    },
  });
  if (!handedBack && !ctx.signal.aborted) await enqueue(ctx.queues, 'room-complexity', [{ listingServer }]);
  return handled;
}

/**
 * The complexity step for one server's rooms whose leads are gathered (docs/architecture.md,
 * "Following up a read"): Synapse's complexity from a resident server (the listing server first,
 * then the residents the leads step kept), an estimate from members where none answers. Biggest
 * rooms first. Its requests share a few slots of their own, so measuring never takes the slots that
 * reading directories and finding servers need. It stops when the server's follow-up budget is
 * spent; the rooms left wait for the server's next read. Returns how many rooms it measured.
 */
export async function measureRooms(ctx: CrawlerContext, listingServer: string): Promise<number> {
  const { handled } = await workThrough<RoomNeedingFacts, RoomFacts>(ctx, listingServer, {
    step: 'complexity',
    job: 'room-complexity',
    batch: BATCH,
    take: (server, limit) => takePendingRoomFacts(ctx.database.sql, server, limit),
    serversOf: (rooms) => rooms.flatMap((room) => room.residents),
    work: (gate, room, paused) => measureRoom(ctx, gate, listingServer, room, paused),
    async record(facts) {
      await recordRoomFacts(ctx.database.sql, listingServer, facts);
      ctx.stats.roomsMeasured += facts.length;
      for (const fact of facts) ctx.stats.complexity[fact.source]++;
    },
  });
  return handled;
}

async function lookUpAlias(
  ctx: CrawlerContext,
  gate: ServerGate,
  alias: string,
): Promise<AliasAnswer | null> {
  const aliasServer = serverOfAlias(alias);
  if (!aliasServer) return null;
  return gate.ask(aliasServer, () =>
    ctx.ownServerName
      ? queryAliasOverFederation(ctx.federation, alias, aliasServer, ctx.signal)
      : gate
          .endpoints(aliasServer)
          .then((endpoints) => queryAliasOverClientApi(ctx.http, endpoints, alias, ctx.signal)),
  );
}

/** What the leads step learnt about one room, and the servers it named on the way. */
interface LeadsOfRoom {
  leads: RoomLeads;
  found: Candidate[];
}

async function leadsOf(
  ctx: CrawlerContext,
  gate: ServerGate,
  listingServer: string,
  room: RoomNeedingLeads,
): Promise<LeadsOfRoom> {
  if (room.answeredElsewhere && room.roomType !== 'm.space') {
    // Another listing server's job asked about this room lately and discovered its servers then;
    // a space is still asked for its hierarchy, which this listing server may see otherwise.
    const residents = residentsToKeep(listingServer, room.answeredElsewhere);
    return { leads: { roomId: room.roomId, serversInRoom: null, residents, answered: true }, found: [] };
  }
  const found: Candidate[] = [];
  const offer = (candidate: Candidate) => found.push(candidate);
  let residents: string[] = [];
  let serversInRoom: number | null = null;
  if (room.canonicalAlias) {
    const answer = await lookUpAlias(ctx, gate, room.canonicalAlias);
    if (answer) {
      for (const name of answer.servers) offer({ name, via: 'query_directory', from: room.canonicalAlias });
      // An alias may point at another room than the one listed with it; its servers say nothing about this one.
      if (answer.roomId === room.roomId) {
        residents = answer.servers;
        serversInRoom = answer.servers.length;
      }
    }
  }
  // The hierarchy endpoint wants a signed request.
  if (ctx.ownServerName && room.roomType === 'm.space') {
    const hierarchy = await gate.ask(listingServer, () =>
      fetchHierarchy(ctx.federation, listingServer, room.roomId, ctx.signal),
    );
    for (const child of hierarchy?.children ?? []) {
      for (const name of child.via) offer({ name, via: 'hierarchy', from: room.roomId });
      const idServer = serverOfRoomId(child.roomId);
      if (idServer) offer({ name: idServer, via: 'room_id', from: child.roomId });
    }
    for (const alias of hierarchy?.childAliases ?? []) {
      const aliasServer = serverOfAlias(alias);
      if (aliasServer) offer({ name: aliasServer, via: 'alias', from: alias });
    }
  }
  return {
    leads: { roomId: room.roomId, serversInRoom, residents: residentsToKeep(listingServer, residents) },
    found,
  };
}

async function measureRoom(
  ctx: CrawlerContext,
  gate: ServerGate,
  listingServer: string,
  room: RoomNeedingFacts,
  /** Wraps the wait for a complexity slot, which is not this server's time. */
  paused: <P>(wait: Promise<P>) => Promise<P>,
): Promise<RoomFacts> {
  let complexity: number | null = null;
  let answeredBy: string | null = null;
  // The complexity endpoint wants a signed request.
  if (ctx.ownServerName) {
    for (const server of complexityTries(listingServer, room.residents)) {
      const value = await gate.ask(server, async () => {
        const release = await paused(ctx.complexitySlots.acquire(ctx.signal));
        try {
          return await fetchComplexity(ctx.federation, server, room.roomId, ctx.signal);
        } finally {
          release();
        }
      });
      if (value !== null) {
        complexity = value;
        answeredBy = server;
        break;
      }
    }
  }
  // Servers in the room were stored by the leads step (null keeps them).
  if (complexity === null) {
    return {
      roomId: room.roomId,
      complexity: estimateComplexity(room.numJoinedMembers),
      source: 'estimate',
      server: null,
      serversInRoom: null,
    };
  }
  return { roomId: room.roomId, complexity, source: 'federation', server: answeredBy, serversInRoom: null };
}
