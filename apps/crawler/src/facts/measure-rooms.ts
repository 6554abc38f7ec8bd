import {
  getServerStatuses,
  type RoomFacts,
  type RoomNeedingFacts,
  recordRoomFacts,
  takePendingRoomFacts,
} from '@atlas/shared/db';
import { serverOfAlias, serverOfRoomId } from '@atlas/shared/matrix';
import type { CrawlerContext } from '../context.ts';
import { type Candidate, enqueueDiscover } from '../jobs/enqueue.ts';
import type { RoomFactsPayload } from '../jobs/payloads.ts';
import { estimateComplexity } from '../policy/complexity.ts';
import { type ClientEndpoint, clientEndpoints } from '../remote/client-api.ts';
import {
  type AliasAnswer,
  fetchComplexity,
  fetchHierarchy,
  queryAliasOverClientApi,
  queryAliasOverFederation,
} from '../remote/room-info.ts';

/** Resident servers asked for a room's complexity before falling back to an estimate. */
const MAX_COMPLEXITY_TRIES = 3;

type Room = RoomNeedingFacts;

interface KnownServer {
  status: string;
  clientBaseUrl: string | null;
}

/**
 * What one job knows about the servers it talks to: their stored status, and which failed during
 * this job. A server that is known to be down, or stopped answering a moment ago, is not asked
 * again, so one dead server costs a batch one timeout, not one per room.
 */
class ServerGate {
  readonly failed = new Set<string>();
  constructor(
    private readonly ctx: CrawlerContext,
    private readonly known: Map<string, KnownServer>,
  ) {}

  /** Reads the servers' stored status; a gate from the previous batch passes on what failed. */
  static async load(
    ctx: CrawlerContext,
    names: Iterable<string>,
    previous?: ServerGate,
  ): Promise<ServerGate> {
    const rows = await getServerStatuses(ctx.database.sql, [...names]);
    const gate = new ServerGate(ctx, new Map(rows.map((r) => [r.name, r])));
    for (const name of previous?.failed ?? []) gate.failed.add(name);
    return gate;
  }

  async usable(name: string): Promise<boolean> {
    if (this.failed.has(name) || name === this.ctx.ownServerName) return false;
    const status = this.known.get(name)?.status;
    if (status === 'offline' || status === 'invalid' || status === 'blocked') return false;
    return !(await this.ctx.blocks.isBlocked(name));
  }

  async endpoints(name: string): Promise<ClientEndpoint[]> {
    const resolved = await this.ctx.resolver.resolve(name).catch(() => undefined);
    return clientEndpoints(name, this.known.get(name)?.clientBaseUrl ?? null, resolved);
  }

  /** Runs a request to `name`; a transport failure marks the server as failed for this job. */
  async ask<T>(name: string, request: () => Promise<T>): Promise<T | null> {
    if (!(await this.usable(name))) return null;
    try {
      return await request();
    } catch {
      this.failed.add(name);
      return null;
    }
  }
}

/** Rooms measured per batch: their facts are written, and taken off the queue, together. */
const BATCH = 50;

/**
 * Measures the rooms queued for one server (ARCHITECTURE.md "Complexity", "More servers"): the
 * servers in each room from query/directory on its alias's server, Synapse's complexity from a
 * resident server (the listing server first), the children of spaces from their hierarchy; an
 * estimate from members where no server answers. Every server named on the way is discovered.
 * Runs until the server's queue is empty (or Atlas shuts down); returns how many rooms it measured.
 */
export async function measureRooms(ctx: CrawlerContext, payload: RoomFactsPayload): Promise<number> {
  const listingServer = payload.listingServer;
  let measured = 0;
  let gate: ServerGate | undefined;
  while (!ctx.signal.aborted) {
    const rooms = await takePendingRoomFacts(ctx.database.sql, listingServer, BATCH);
    if (rooms.length === 0) break;
    const aliasServers = rooms
      .map((room) => (room.canonicalAlias ? serverOfAlias(room.canonicalAlias) : null))
      .filter((name): name is string => name !== null);
    gate = await ServerGate.load(ctx, [listingServer, ...aliasServers], gate);
    const facts: RoomFacts[] = [];
    const candidates = new Map<string, Candidate>();
    for (const room of rooms) {
      if (ctx.signal.aborted) break;
      facts.push(await measureRoom(ctx, gate, listingServer, room, candidates));
    }
    await recordRoomFacts(ctx.database.sql, listingServer, facts);
    await enqueueDiscover(ctx, [...candidates.values()]);
    measured += facts.length;
    ctx.stats.roomsMeasured += facts.length;
    for (const fact of facts) ctx.stats.complexity[fact.source]++;
  }
  return measured;
}

/** Keeps the first way a name was found. */
function offer(candidates: Map<string, Candidate>, candidate: Candidate): void {
  if (!candidates.has(candidate.name)) candidates.set(candidate.name, candidate);
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

async function measureRoom(
  ctx: CrawlerContext,
  gate: ServerGate,
  listingServer: string,
  room: Room,
  candidates: Map<string, Candidate>,
): Promise<RoomFacts> {
  let residents: string[] = [];
  let serversInRoom: number | null = null;
  if (room.canonicalAlias) {
    const answer = await lookUpAlias(ctx, gate, room.canonicalAlias);
    if (answer) {
      for (const name of answer.servers)
        offer(candidates, { name, via: 'query_directory', from: room.canonicalAlias });
      // An alias may point at another room than the one listed with it; its servers say nothing about this one.
      if (answer.roomId === room.roomId) {
        residents = answer.servers;
        serversInRoom = answer.servers.length;
      }
    }
  }

  let complexity: number | null = null;
  let answeredBy: string | null = null;
  // The complexity and hierarchy endpoints want a signed request.
  if (ctx.ownServerName) {
    const tries = [listingServer, ...residents.filter((name) => name !== listingServer)].slice(
      0,
      MAX_COMPLEXITY_TRIES,
    );
    for (const server of tries) {
      const value = await gate.ask(server, () =>
        fetchComplexity(ctx.federation, server, room.roomId, ctx.signal),
      );
      if (value !== null) {
        complexity = value;
        answeredBy = server;
        break;
      }
    }
    if (room.roomType === 'm.space') {
      const hierarchy = await gate.ask(listingServer, () =>
        fetchHierarchy(ctx.federation, listingServer, room.roomId, ctx.signal),
      );
      for (const child of hierarchy?.children ?? []) {
        for (const name of child.via) offer(candidates, { name, via: 'hierarchy', from: room.roomId });
        const idServer = serverOfRoomId(child.roomId);
        if (idServer) offer(candidates, { name: idServer, via: 'room_id', from: child.roomId });
      }
      for (const alias of hierarchy?.childAliases ?? []) {
        const aliasServer = serverOfAlias(alias);
        if (aliasServer) offer(candidates, { name: aliasServer, via: 'alias', from: alias });
      }
    }
  }
  if (complexity === null) {
    return {
      roomId: room.roomId,
      complexity: estimateComplexity(room.numJoinedMembers),
      source: 'estimate',
      server: null,
      serversInRoom,
    };
  }
  return { roomId: room.roomId, complexity, source: 'federation', server: answeredBy, serversInRoom };
}
