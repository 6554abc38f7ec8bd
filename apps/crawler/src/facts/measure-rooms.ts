import {
  getServerStatuses,
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
import { type ClientEndpoint, clientEndpoints } from '../remote/client-api.ts';
import {
  type AliasAnswer,
  fetchComplexity,
  fetchHierarchy,
  queryAliasOverClientApi,
  queryAliasOverFederation,
} from '../remote/room-info.ts';
import { FollowUpBudget } from './follow-up-budget.ts';

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
  /** Names whose status was read (known or not), so the next batch does not read them again. */
  readonly asked = new Set<string>();
  constructor(
    private readonly ctx: CrawlerContext,
    readonly known: Map<string, KnownServer>,
  ) {}

  /**
   * Reads the servers' stored status. A gate from the previous batch of the same job passes on what
   * failed and the statuses it read (a job lasts a few hundred rooms), so only new names are read.
   */
  static async load(
    ctx: CrawlerContext,
    names: Iterable<string>,
    previous?: ServerGate,
  ): Promise<ServerGate> {
    const known = new Map(previous?.known);
    const unread = [...new Set(names)].filter((name) => !previous?.asked.has(name));
    const rows = unread.length > 0 ? await getServerStatuses(ctx.database.sql, unread) : [];
    for (const row of rows) {
      known.set(row.name, row);
      ctx.knownServers.add(row.name);
    }
    const gate = new ServerGate(ctx, known);
    for (const name of previous?.asked ?? []) gate.asked.add(name);
    for (const name of unread) gate.asked.add(name);
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

/** Rooms taken from the queue per batch: their results are written, and taken off the queue, together. */
const BATCH = 50;
/**
 * Rooms per batch of the leads step. Its requests are one alias lookup per room, and each batch
 * costs four statements (take, server statuses, record, discover) whatever its size, so its batches
 * are bigger; a crash loses at most one batch's answers, asked again after the restart.
 */
const LEADS_BATCH = 100;
/**
 * Rooms one job handles before it hands its worker back: the rest of the server's rooms go to a job
 * queued behind every other server's, so one server with thousands of rooms does not hold a worker
 * (or hold up the servers found after it) for the whole crawl.
 */
const ROOMS_PER_JOB = 500;
/** Time after which a job hands its worker back the same way, however few rooms it handled. */
const JOB_SLICE_MS = 30_000;
/**
 * Rooms of a batch asked about at once. Requests to one host still go one at a time (the HTTP
 * client's per-host lock); this lets rooms whose alias lives on another server go in parallel.
 */
const PARALLEL_ROOMS = 4;

/**
 * Runs `work` over `items`, at most `limit` at a time, keeping the results in order. Once `stop()`
 * says so, no further item is begun: the results are those of the items begun before.
 */
async function inParallel<T, R>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<R>,
  stop: () => boolean,
): Promise<R[]> {
  const results = new Array<R | undefined>(items.length);
  const done = new Array<boolean>(items.length).fill(false);
  let next = 0;
  const lane = async () => {
    while (next < items.length && !stop()) {
      const index = next++;
      results[index] = await work(items[index] as T);
      done[index] = true;
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  return results.filter((_, index) => done[index]) as R[];
}

/** Whether a job has had its turn: it queues the rest of its server's rooms behind other servers'. */
function turnIsOver(handled: number, startedAt: number): boolean {
  return handled >= ROOMS_PER_JOB || Date.now() - startedAt >= JOB_SLICE_MS;
}

/**
 * The leads step for the rooms queued for one server (ARCHITECTURE.md "More servers"): the servers
 * in each room from query/directory on its alias's server, and the children of spaces from their
 * hierarchy. Every server named on the way is discovered. This is how Atlas finds servers no
 * directory lists, so it runs before complexity (its jobs have the queue's first priority), and
 * when a server's leads are done, or their share of the server's follow-up budget is spent, its
 * complexity step is queued. Rooms left then wait for the server's next read. Returns how many
 * rooms it handled.
 */
export async function gatherLeads(ctx: CrawlerContext, listingServer: string): Promise<number> {
  const budget = await FollowUpBudget.open(ctx, listingServer, 'leads');
  const startedAt = Date.now();
  let handled = 0;
  let gate: ServerGate | undefined;
  while (!ctx.signal.aborted && !budget.exhausted) {
    if (turnIsOver(handled, startedAt)) {
      await enqueue(ctx.queues, 'room-leads', [{ listingServer }]);
      return handled;
    }
    const rooms = await takePendingRoomLeads(ctx.database.sql, listingServer, LEADS_BATCH);
    if (rooms.length === 0) break;
    const aliasServers = rooms
      .map((room) => (room.canonicalAlias ? serverOfAlias(room.canonicalAlias) : null))
      .filter((name): name is string => name !== null);
    gate = await ServerGate.load(ctx, [listingServer, ...aliasServers], gate);
    const candidates = new Map<string, Candidate>();
    const active = gate;
    const leads = await inParallel(
      rooms,
      PARALLEL_ROOMS,
      (room) => budget.time(() => leadsOf(ctx, active, listingServer, room, candidates)),
      () => budget.exhausted || ctx.signal.aborted,
    );
    if (ctx.signal.aborted) break;
    // Servers first: once the leads are recorded, the rooms are not asked about again.
    await discoverServers(ctx, [...candidates.values()]);
    await recordRoomLeads(ctx.database.sql, listingServer, leads);
    await budget.charge();
    handled += leads.length;
    ctx.stats.roomsLeads += leads.length;
  }
  if (!ctx.signal.aborted) await enqueue(ctx.queues, 'room-complexity', [{ listingServer }]);
  return handled;
}

/**
 * The complexity step for one server's rooms whose leads are gathered (ARCHITECTURE.md
 * "Complexity"): Synapse's complexity from a resident server (the listing server first, then the
 * residents the leads step kept), an estimate from members where none answers. Biggest rooms
 * first. Its requests share a few slots of their own, so measuring never takes the slots that
 * reading directories and finding servers need. It stops when the server's follow-up budget is
 * spent; the rooms left wait for the server's next read. Returns how many rooms it measured.
 */
export async function measureRooms(ctx: CrawlerContext, listingServer: string): Promise<number> {
  const budget = await FollowUpBudget.open(ctx, listingServer, 'complexity');
  const startedAt = Date.now();
  let measured = 0;
  let gate: ServerGate | undefined;
  while (!ctx.signal.aborted && !budget.exhausted) {
    if (turnIsOver(measured, startedAt)) {
      await enqueue(ctx.queues, 'room-complexity', [{ listingServer }]);
      return measured;
    }
    const rooms = await takePendingRoomFacts(ctx.database.sql, listingServer, BATCH);
    if (rooms.length === 0) break;
    gate = await ServerGate.load(ctx, [listingServer, ...rooms.flatMap((room) => room.residents)], gate);
    const active = gate;
    const facts = await inParallel(
      rooms,
      PARALLEL_ROOMS,
      (room) => budget.time((paused) => measureRoom(ctx, active, listingServer, room, paused)),
      () => budget.exhausted || ctx.signal.aborted,
    );
    if (ctx.signal.aborted) break;
    await recordRoomFacts(ctx.database.sql, listingServer, facts);
    await budget.charge();
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

async function leadsOf(
  ctx: CrawlerContext,
  gate: ServerGate,
  listingServer: string,
  room: RoomNeedingLeads,
  candidates: Map<string, Candidate>,
): Promise<RoomLeads> {
  if (room.answeredElsewhere && room.roomType !== 'm.space') {
    // Another listing server's job asked about this room lately and discovered its servers then;
    // a space is still asked for its hierarchy, which this listing server may see otherwise.
    return {
      roomId: room.roomId,
      serversInRoom: null,
      residents: room.answeredElsewhere
        .filter((name) => name !== listingServer)
        .slice(0, MAX_COMPLEXITY_TRIES - 1),
      answered: true,
    };
  }
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
  // The hierarchy endpoint wants a signed request.
  if (ctx.ownServerName && room.roomType === 'm.space') {
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
  return {
    roomId: room.roomId,
    serversInRoom,
    residents: residents.filter((name) => name !== listingServer).slice(0, MAX_COMPLEXITY_TRIES - 1),
  };
}

async function measureRoom(
  ctx: CrawlerContext,
  gate: ServerGate,
  listingServer: string,
  room: Room,
  /** Wraps the wait for a complexity slot, which is not this server's time. */
  paused: <P>(wait: Promise<P>) => Promise<P>,
): Promise<RoomFacts> {
  let complexity: number | null = null;
  let answeredBy: string | null = null;
  // The complexity endpoint wants a signed request.
  if (ctx.ownServerName) {
    const tries = [listingServer, ...room.residents.filter((name) => name !== listingServer)].slice(
      0,
      MAX_COMPLEXITY_TRIES,
    );
    for (const server of tries) {
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
