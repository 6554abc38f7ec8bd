import type { Sql } from 'postgres';
import { textArray } from './sql-arrays.ts';

/** A room as a directory lists it, cleaned by the crawler. */
export interface DirectoryRoomRow {
  roomId: string;
  name: string | null;
  topic: string | null;
  canonicalAlias: string | null;
  avatarUrl: string | null;
  numJoinedMembers: number;
  worldReadable: boolean;
  guestCanJoin: boolean;
  joinRule: string;
  roomType: string | null;
}

/** A stored room whose complexity and servers are to be (re)measured. */
export interface RoomNeedingFacts {
  roomId: string;
  canonicalAlias: string | null;
  roomType: string | null;
  numJoinedMembers: number;
  /** Servers in the room besides the listing server, as the leads step found them (complexity step). */
  residents: string[];
}

/**
 * The order rooms are measured in, highest first: spaces (their hierarchy names servers and rooms),
 * then rooms by members, so the rooms people are likeliest to join are measured first. Written for
 * the directory page's rows (`i`).
 */
const FACTS_PRIORITY = `case when i.room_type = 'm.space' then 2147483647 else least(i.num_joined_members, 2147483646) end`;

/** How old a complexity measurement may get before a crawl asks for a new one (ms). */
export const FACTS_MAX_AGE_MS = 24 * 3600 * 1000;

/**
 * Directory pages are stored without waiting for their WAL flush (`synchronous_commit = off` for
 * the statement's own transaction). Pages are re-read on every crawl: a database crash may lose the
 * last moments of them (never corrupt anything), and the next crawl stores them again; meanwhile a
 * page stores in about half the time, which is what bounds reading one big directory page after
 * page. Set from inside the one statement (`set_config(..., true)` lasts until its implicit
 * transaction commits), so a page costs one round trip, not four (begin, set, write, commit).
 */
const NO_FLUSH_WAIT = `set_config('synchronous_commit', 'off', true)`;

/**
 * Upserts one page of a server's directory in a single statement: the rooms, the server's
 * listings, and today's member snapshot (UTC day; the latest crawl of the day wins).
 *
 * - The batch is deduplicated (last entry wins) and sorted, since one INSERT ... ON CONFLICT may not
 *   touch a row twice and concurrent batches must lock shared rows in the same order.
 * - `version` moves only when something the search index shows changed: a field, the room coming
 *   back from stale or from a lifted no-index, or this server newly listing it.
 * - A room hidden because of a no-index tag is shown again: it is only listed without the tag.
 *
 * Rooms that need measuring (new, changed member count, or measured before
 * `factsMeasuredBefore`, a day ago by default) are
 * added to `pending_room_facts` for this server. Returns how many rooms were stored and queued.
 */
export async function upsertDirectoryRooms(
  sql: Sql,
  serverName: string,
  rooms: readonly DirectoryRoomRow[],
  options: { factsMeasuredBefore?: Date } = {},
): Promise<{ stored: number; factsQueued: number }> {
  const cutoff = (options.factsMeasuredBefore ?? new Date(Date.now() - FACTS_MAX_AGE_MS)).toISOString();
  if (rooms.length === 0) return { stored: 0, factsQueued: 0 };
  const byId = new Map<string, DirectoryRoomRow>();
  for (const room of rooms) byId.set(room.roomId, room);
  const batch = [...byId.values()];
  const col = (pick: (room: DirectoryRoomRow) => string | number | boolean | null) =>
    textArray(batch.map(pick));
  const [result] = await sql<{ queued: string }[]>`
    with input as (
      select * from unnest(
        ${col((r) => r.roomId)}::text[], ${col((r) => r.name)}::text[], ${col((r) => r.topic)}::text[],
        ${col((r) => r.canonicalAlias)}::text[], ${col((r) => r.avatarUrl)}::text[],
        ${col((r) => r.numJoinedMembers)}::int[], ${col((r) => r.worldReadable)}::bool[],
        ${col((r) => r.guestCanJoin)}::bool[], ${col((r) => r.joinRule)}::text[], ${col((r) => r.roomType)}::text[]
      ) as t(room_id, name, topic, canonical_alias, avatar_url, num_joined_members, world_readable,
             guest_can_join, join_rule, room_type)
    ),
    old as (
      select r.room_id, r.num_joined_members, r.complexity_at from rooms r join input i using (room_id)
    ),
    listed as (
      select l.room_id from room_listings l join input i using (room_id)
      where l.server_name = ${serverName} and l.active
    ),
    upserted as (
      insert into rooms as r (room_id, name, topic, canonical_alias, avatar_url, num_joined_members,
        world_readable, guest_can_join, join_rule, room_type)
      select * from input order by room_id
      on conflict (room_id) do update set
        version = r.version + case when r.name is distinct from excluded.name
          or r.topic is distinct from excluded.topic
          or r.canonical_alias is distinct from excluded.canonical_alias
          or r.avatar_url is distinct from excluded.avatar_url
          or r.num_joined_members <> excluded.num_joined_members
          or r.world_readable <> excluded.world_readable
          or r.guest_can_join <> excluded.guest_can_join
          or r.join_rule <> excluded.join_rule
          or r.room_type is distinct from excluded.room_type
          or r.stale_since is not null
          or r.hidden_reason = 'noindex'
          or not exists (select 1 from listed where listed.room_id = excluded.room_id)
          then 1 else 0 end,
        name = excluded.name,
        topic = excluded.topic,
        canonical_alias = excluded.canonical_alias,
        avatar_url = excluded.avatar_url,
        num_joined_members = excluded.num_joined_members,
        world_readable = excluded.world_readable,
        guest_can_join = excluded.guest_can_join,
        join_rule = excluded.join_rule,
        room_type = excluded.room_type,
        last_seen_at = now(),
        stale_since = null,
        hidden = case when r.hidden_reason = 'noindex' then false else r.hidden end,
        hidden_reason = case when r.hidden_reason = 'noindex' then null else r.hidden_reason end,
        updated_at = now()
      returning 1
    ),
    listing as (
      insert into room_listings (room_id, server_name)
      select room_id, ${serverName} from input order by room_id
      on conflict (room_id, server_name) do update set last_seen_at = now(), active = true
      returning 1
    ),
    snapshot as (
      insert into room_snapshots (room_id, day, num_joined_members)
      select room_id, (now() at time zone 'utc')::date, num_joined_members from input order by room_id
      on conflict (room_id, day) do update set num_joined_members = excluded.num_joined_members
      returning 1
    ),
    queued as (
      insert into pending_room_facts (server_name, room_id, priority)
      select ${serverName}, i.room_id, ${sql.unsafe(FACTS_PRIORITY)}
      from input i left join old o using (room_id)
      where o.room_id is null or o.complexity_at is null
        or o.complexity_at < ${cutoff}::timestamptz
        or o.num_joined_members <> i.num_joined_members
      order by i.room_id
      on conflict (server_name, room_id) do nothing
      returning 1
    )
    select (select count(*) from queued) as queued, ${sql.unsafe(NO_FLUSH_WAIT)} as no_flush_wait`;
  return { stored: batch.length, factsQueued: Number(result?.queued ?? 0) };
}

/**
 * Rooms whose topic now carries a no-index tag: this server's listing goes, and a stored room is
 * hidden (reason 'noindex', so a later listing without the tag shows it again). Returns how many
 * rooms were newly hidden.
 */
export async function hideNoindexRooms(
  sql: Sql,
  serverName: string,
  roomIds: readonly string[],
): Promise<number> {
  if (roomIds.length === 0) return 0;
  const ids = textArray([...new Set(roomIds)].sort());
  const rows = await sql`
    with gone as (
      delete from room_listings where server_name = ${serverName} and room_id = any(${ids}::text[]) returning room_id
    )
    update rooms r set hidden = true, hidden_reason = 'noindex', version = r.version + 1, updated_at = now()
    where r.room_id = any(${ids}::text[]) and not r.hidden
    returning r.room_id`;
  return rows.length;
}

/** A room a server listed before and did not list in a read that has just ended. */
export interface MissedListing {
  roomId: string;
  name: string | null;
  canonicalAlias: string | null;
}

/**
 * The server's active listings not seen since `startedAt`, most members first, at most `limit`:
 * what a complete read is about to close (`closeCompleteCrawl`).
 */
export async function missedListings(
  sql: Sql,
  serverName: string,
  startedAt: string,
  limit: number,
): Promise<MissedListing[]> {
  const rows = await sql<{ room_id: string; name: string | null; canonical_alias: string | null }[]>`
    select r.room_id, r.name, r.canonical_alias
    from room_listings l join rooms r on r.room_id = l.room_id
    where l.server_name = ${serverName} and l.active and l.last_seen_at < ${startedAt}::timestamptz
    order by r.num_joined_members desc, r.room_id
    limit ${limit}`;
  return rows.map((row) => ({ roomId: row.room_id, name: row.name, canonicalAlias: row.canonical_alias }));
}

/**
 * After a complete read of a server's directory: its listings not seen since the run started are
 * no longer active, and a room that no server lists any more becomes stale (kept, with its
 * history). Returns the server's room count now and how many rooms went stale.
 */
export async function closeCompleteCrawl(
  sql: Sql,
  serverName: string,
  startedAt: string,
): Promise<{ delisted: number; staled: number; roomCount: number }> {
  return sql.begin(async (tx) => {
    const changed = await tx<{ staled: boolean }[]>`
      with gone as (
        update room_listings set active = false
        where server_name = ${serverName} and active and last_seen_at < ${startedAt}::timestamptz
        returning room_id
      )
      update rooms r set
        stale_since = case when r.stale_since is null and not exists (
            select 1 from room_listings l where l.room_id = r.room_id and l.active and l.server_name <> ${serverName}
          ) then now() else r.stale_since end,
        version = r.version + 1,
        updated_at = now()
      from gone g where r.room_id = g.room_id
      returning r.stale_since is not null as staled`;
    const [count] = await tx<{ n: string | number }[]>`
      select count(*) as n from room_listings where server_name = ${serverName} and active`;
    return {
      delisted: changed.length,
      staled: changed.filter((row) => row.staled).length,
      roomCount: Number(count?.n ?? 0),
    };
  });
}

/** Active listings of a server (its directory size as Atlas last saw it). */
export async function countActiveListings(sql: Sql, serverName: string): Promise<number> {
  const [row] = await sql<{ n: string | number }[]>`
    select count(*) as n from room_listings where server_name = ${serverName} and active`;
  return Number(row?.n ?? 0);
}

export interface RoomFacts {
  roomId: string;
  /** Synapse's v1 complexity (current state events / 500); null when neither measured nor estimated. */
  complexity: number | null;
  source: 'federation' | 'estimate';
  /** The resident server that answered, for a measured value. */
  server: string | null;
  /** Servers in the room, from query/directory; null when unknown (keeps the last known value). */
  serversInRoom: number | null;
}

/**
 * Stores measured or estimated complexity for a batch of rooms, and takes them off `serverName`'s
 * queue in the same transaction.
 */
export async function recordRoomFacts(
  sql: Sql,
  serverName: string,
  facts: readonly RoomFacts[],
): Promise<void> {
  if (facts.length === 0) return;
  const byId = new Map<string, RoomFacts>();
  for (const fact of facts) byId.set(fact.roomId, fact);
  const batch = [...byId.values()].sort((a, b) => (a.roomId < b.roomId ? -1 : a.roomId > b.roomId ? 1 : 0));
  const col = (pick: (fact: RoomFacts) => string | number | boolean | null) => textArray(batch.map(pick));
  await sql.begin(async (tx) => {
    await tx`
      update rooms r set
        version = r.version + case when r.complexity is distinct from t.complexity
          or r.complexity_source is distinct from t.source then 1 else 0 end,
        complexity = t.complexity,
        complexity_source = t.source,
        complexity_server = t.server,
        complexity_at = now(),
        servers_in_room = coalesce(t.servers_in_room, r.servers_in_room),
        updated_at = now()
      from unnest(
        ${col((f) => f.roomId)}::text[], ${col((f) => f.complexity)}::real[], ${col((f) => f.source)}::text[],
        ${col((f) => f.server)}::text[], ${col((f) => f.serversInRoom)}::int[]
      ) as t(room_id, complexity, source, server, servers_in_room)
      where r.room_id = t.room_id`;
    await tx`delete from pending_room_facts
      where server_name = ${serverName} and room_id = any(${col((f) => f.roomId)}::text[])`;
  });
}

/** A room waiting for its leads step on one listing server. */
export interface RoomNeedingLeads extends RoomNeedingFacts {
  /**
   * Servers in the room as another listing server's leads step found them within the last hour
   * (ANSWERED_WITHIN): that listing server, then the residents it kept; null when none did. Those
   * servers were discovered then; asking the alias's server again would only say it twice.
   */
  answeredElsewhere: string[] | null;
}

/** How recent another listing server's answer about a room must be to be taken instead of asking. */
const ANSWERED_WITHIN = '1 hour';

/**
 * The next rooms whose leads (query/directory, space hierarchy) a server's job is to gather,
 * highest priority first.
 */
export async function takePendingRoomLeads(
  sql: Sql,
  serverName: string,
  limit: number,
): Promise<RoomNeedingLeads[]> {
  const rows = await sql<(Omit<RoomNeedingFacts, 'residents'> & { answeredElsewhere: string | null })[]>`
    select r.room_id as "roomId", r.canonical_alias as "canonicalAlias", r.room_type as "roomType",
      r.num_joined_members as "numJoinedMembers",
      (select trim(o.server_name || ' ' || array_to_string(o.residents, ' ')) from pending_room_facts o
        where o.room_id = p.room_id and o.server_name <> p.server_name and o.residents is not null
          and o.leads_at > now() - ${ANSWERED_WITHIN}::interval
        limit 1) as "answeredElsewhere"
    from pending_room_facts p join rooms r on r.room_id = p.room_id
    where p.server_name = ${serverName} and p.leads_at is null
    order by p.priority desc
    limit ${limit}`;
  return rows.map(({ answeredElsewhere, ...row }) => ({
    ...row,
    residents: [],
    answeredElsewhere: answeredElsewhere === null ? null : answeredElsewhere.split(' ').filter(Boolean),
  }));
}

/** What the leads step learnt about one room. */
export interface RoomLeads {
  roomId: string;
  /** Servers in the room from query/directory; null when unknown (keeps the last known value). */
  serversInRoom: number | null;
  /** Resident servers to ask for complexity besides the listing server (a few at most). */
  residents: readonly string[];
  /**
   * Whether the room's servers are known from an answer (this one's or another listing server's);
   * other listing servers' leads steps take them instead of asking again. Default: an answer
   * counted the servers (`serversInRoom` is set).
   */
  answered?: boolean;
}

/**
 * Stores the servers in each room and marks the rooms' leads as gathered, so the complexity step
 * can take them. One statement for the batch. The residents of an answered room are kept (an empty
 * list when there are none); those of an unanswered one stay null.
 */
export async function recordRoomLeads(
  sql: Sql,
  serverName: string,
  leads: readonly RoomLeads[],
): Promise<void> {
  if (leads.length === 0) return;
  const byId = new Map<string, RoomLeads>();
  for (const lead of leads) byId.set(lead.roomId, lead);
  const batch = [...byId.values()].sort((a, b) => (a.roomId < b.roomId ? -1 : a.roomId > b.roomId ? 1 : 0));
  // Server names hold no spaces, so each row's residents travel as one space-separated string
  // (null: not answered).
  await sql`
    with t as (
      select * from unnest(
        ${textArray(batch.map((l) => l.roomId))}::text[],
        ${textArray(batch.map((l) => l.serversInRoom))}::int[],
        ${textArray(batch.map((l) => ((l.answered ?? l.serversInRoom !== null) ? l.residents.join(' ') : null)))}::text[]
      ) as t(room_id, servers_in_room, residents)
    ),
    counted as (
      update rooms r set servers_in_room = t.servers_in_room
      from t where r.room_id = t.room_id and t.servers_in_room is not null
        and r.servers_in_room is distinct from t.servers_in_room
      returning 1
    )
    update pending_room_facts p set leads_at = now(),
      residents = case when t.residents is null then null else string_to_array(t.residents, ' ') end
    from t where p.server_name = ${serverName} and p.room_id = t.room_id`;
}

/**
 * The next rooms a server is to be asked about for complexity (their leads gathered), highest
 * priority first. Rooms measured since they were queued (another listing server answered first)
 * leave the queue here.
 */
export async function takePendingRoomFacts(
  sql: Sql,
  serverName: string,
  limit: number,
): Promise<RoomNeedingFacts[]> {
  for (;;) {
    const rows = await sql<
      (Omit<RoomNeedingFacts, 'residents'> & { residents: string; measured: boolean })[]
    >`
      with batch as (
        select p.room_id, p.queued_at, p.residents, p.priority from pending_room_facts p
        where p.server_name = ${serverName} and p.leads_at is not null
        order by p.priority desc
        limit ${limit}
      ),
      measured as (
        delete from pending_room_facts p using batch b, rooms r
        where p.server_name = ${serverName} and p.room_id = b.room_id
          and r.room_id = b.room_id and r.complexity_at > b.queued_at
        returning p.room_id
      )
      select r.room_id as "roomId", r.canonical_alias as "canonicalAlias", r.room_type as "roomType",
        r.num_joined_members as "numJoinedMembers", array_to_string(b.residents, ' ') as residents,
        exists (select 1 from measured m where m.room_id = b.room_id) as measured
      from batch b join rooms r on r.room_id = b.room_id
      order by b.priority desc`;
    const left = rows
      .filter((row) => !row.measured)
      .map(({ measured: _measured, residents, ...room }) => ({
        ...room,
        residents: residents ? residents.split(' ') : [],
      }));
    // A batch that was all measured elsewhere is gone now; look at the next one.
    if (left.length > 0 || rows.length === 0) return left;
  }
}

/** Whether a stored room changed since it was last put in the search index. */
export async function hasUnindexedRooms(sql: Sql): Promise<boolean> {
  const rows = await sql`select 1 from rooms where version <> indexed_version limit 1`;
  return rows.length > 0;
}
