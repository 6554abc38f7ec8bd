import {
  blockMatcher,
  claimDueServers,
  closeCompleteCrawl,
  type DirectoryRoomRow,
  exportRooms,
  getServer,
  hideNoindexRooms,
  insertDiscoveredServers,
  matchesBlockPatterns,
  recordProbe,
  recordRoomFacts,
  recordRoomLeads,
  recordServerNames,
  startCrawlRun,
  takePendingRoomFacts,
  takePendingRoomLeads,
  upsertDirectoryRooms,
} from '@atlas/shared/db';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BLOCK_PATTERN_CASES } from '../../packages/shared/src/db/queries/block-pattern-cases.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';

const room = (roomId: string, over: Partial<DirectoryRoomRow> = {}): DirectoryRoomRow => ({
  roomId,
  name: `Room ${roomId}`,
  topic: null,
  canonicalAlias: null,
  avatarUrl: null,
  numJoinedMembers: 10,
  worldReadable: false,
  guestCanJoin: false,
  joinRule: 'public',
  roomType: null,
  ...over,
});

describe('crawler write queries on PostgreSQL', () => {
  let database: TestDatabase;
  const version = async (roomId: string) =>
    Number(
      (await database.sql<{ v: string }[]>`select version as v from rooms where room_id = ${roomId}`)[0]?.v,
    );

  beforeAll(async () => {
    database = await createTestDatabase('crawler_queries');
    await insertDiscoveredServers(database.sql, [
      { name: 'a.example', via: 'seed' },
      { name: 'b.example', via: 'seed' },
    ]);
  });
  afterAll(async () => {
    await database?.drop();
  });

  it('inserts discovered servers once, keeping how they were first found, and skips blocked ones', async () => {
    const fresh = await insertDiscoveredServers(database.sql, [
      { name: 'c.example', via: 'alias', from: '#x:a.example' },
      { name: 'c.example', via: 'room_id', from: '!y:a.example' },
      { name: 'a.example', via: 'alias' },
      { name: 'bad.example', via: 'alias', blocked: true },
    ]);
    expect(fresh).toEqual(['c.example']);
    const c = await getServer(database.db, 'c.example');
    expect(c).toMatchObject({ foundVia: 'alias', foundFrom: '#x:a.example', status: 'new' });
    expect((await getServer(database.db, 'bad.example'))?.status).toBe('blocked');
  });

  it('records server names however they were heard of: valid ones, not its own, blocked ones as blocked', async () => {
    const { recorded, added } = await recordServerNames(
      database.sql,
      [
        { name: 'Seed.Example', via: 'seed' },
        { name: 'not a name', via: 'seed' },
        { name: 'atlas.example', via: 'seed' },
        { name: 'x.spam.example', via: 'alias', from: `#${'a'.repeat(600)}:x.spam.example` },
        { name: 'skipped.example', via: 'alias' },
      ],
      {
        isBlocked: blockMatcher(['*.spam.example']),
        ownServerName: 'atlas.example',
        skip: (name) => name === 'skipped.example',
      },
    );
    expect(recorded).toEqual(['seed.example', 'x.spam.example']);
    expect(added).toEqual(['seed.example']);
    const spam = await getServer(database.db, 'x.spam.example');
    expect(spam).toMatchObject({ status: 'blocked', foundVia: 'alias' });
    expect(spam?.foundFrom).toHaveLength(512);
    expect(await getServer(database.db, 'atlas.example')).toBeUndefined();
  });

  it('upserts a page in one go, deduplicated, bumping version only on real change', async () => {
    const first = await upsertDirectoryRooms(database.sql, 'a.example', [
      room('!1:a.example', { name: 'first' }),
      room('!1:a.example', { name: 'last wins' }),
      room('!2:a.example'),
    ]);
    expect(first).toEqual({ stored: 2, factsQueued: 2 });
    // Both wait for their leads step; none is ready for complexity yet.
    expect((await takePendingRoomLeads(database.sql, 'a.example', 10)).map((r) => r.roomId).sort()).toEqual([
      '!1:a.example',
      '!2:a.example',
    ]);
    expect(await takePendingRoomFacts(database.sql, 'a.example', 10)).toEqual([]);
    await recordRoomLeads(database.sql, 'a.example', [
      { roomId: '!1:a.example', serversInRoom: 3, residents: ['b.example', 'c.example'] },
      { roomId: '!2:a.example', serversInRoom: null, residents: [] },
    ]);
    expect(await takePendingRoomLeads(database.sql, 'a.example', 10)).toEqual([]);
    const ready = await takePendingRoomFacts(database.sql, 'a.example', 10);
    expect(ready.map((r) => [r.roomId, r.residents]).sort()).toEqual([
      ['!1:a.example', ['b.example', 'c.example']],
      ['!2:a.example', []],
    ]);
    expect(
      (await database.sql`select servers_in_room from rooms where room_id = '!1:a.example'`)[0]
        ?.servers_in_room,
    ).toBe(3);
    expect((await database.sql`select name from rooms where room_id = '!1:a.example'`)[0]?.name).toBe(
      'last wins',
    );
    const v1 = await version('!1:a.example');

    await recordRoomFacts(database.sql, 'a.example', [
      {
        roomId: '!1:a.example',
        complexity: 0.5,
        source: 'federation',
        server: 'a.example',
        serversInRoom: 3,
      },
    ]);
    const v2 = await version('!1:a.example');
    expect(v2).toBe(v1 + 1);
    // A measured room leaves the server's queue.
    expect((await takePendingRoomFacts(database.sql, 'a.example', 10)).map((r) => r.roomId)).toEqual([
      '!2:a.example',
    ]);
    const again = await upsertDirectoryRooms(database.sql, 'a.example', [
      room('!1:a.example', { name: 'last wins' }),
    ]);
    expect(await version('!1:a.example')).toBe(v2);
    expect(again.factsQueued).toBe(0);

    // A new listing server changes what search shows (the servers list).
    await upsertDirectoryRooms(database.sql, 'b.example', [room('!1:a.example', { name: 'last wins' })]);
    expect(await version('!1:a.example')).toBe(v2 + 1);

    // A member change bumps version and asks for complexity again.
    const changed = await upsertDirectoryRooms(database.sql, 'a.example', [
      room('!1:a.example', { name: 'last wins', numJoinedMembers: 11 }),
    ]);
    expect(await version('!1:a.example')).toBe(v2 + 2);
    expect(changed.factsQueued).toBe(1);
    const snapshots =
      await database.sql`select num_joined_members from room_snapshots where room_id = '!1:a.example'`;
    expect(snapshots.map((s) => s.num_joined_members)).toEqual([11]);
  });

  it('gathers leads of spaces first, then of the biggest rooms, and measures the biggest first', async () => {
    await upsertDirectoryRooms(database.sql, 'b.example', [
      room('!small:b.example', { numJoinedMembers: 2 }),
      room('!big:b.example', { numJoinedMembers: 5000 }),
      room('!space:b.example', { numJoinedMembers: 1, roomType: 'm.space' }),
      room('!mid:b.example', { numJoinedMembers: 300 }),
    ]);
    const leads = await takePendingRoomLeads(database.sql, 'b.example', 3);
    expect(leads.map((r) => r.roomId)).toEqual(['!space:b.example', '!big:b.example', '!mid:b.example']);
    await recordRoomLeads(
      database.sql,
      'b.example',
      leads.map((r) => ({ roomId: r.roomId, serversInRoom: null, residents: [] })),
    );
    // The one left for leads is the small room; the three others are ready, biggest first.
    expect((await takePendingRoomLeads(database.sql, 'b.example', 10)).map((r) => r.roomId)).toEqual([
      '!small:b.example',
    ]);
    expect((await takePendingRoomFacts(database.sql, 'b.example', 2)).map((r) => r.roomId)).toEqual([
      '!space:b.example',
      '!big:b.example',
    ]);
    // A room another listing server measured meanwhile leaves this server's queue unasked.
    await recordRoomFacts(database.sql, 'a.example', [
      {
        roomId: '!big:b.example',
        complexity: 1,
        source: 'federation',
        server: 'a.example',
        serversInRoom: null,
      },
      {
        roomId: '!space:b.example',
        complexity: 1,
        source: 'federation',
        server: 'a.example',
        serversInRoom: null,
      },
    ]);
    expect((await takePendingRoomFacts(database.sql, 'b.example', 2)).map((r) => r.roomId)).toEqual([
      '!mid:b.example',
    ]);
  });

  it("hands a room's servers found through one listing server to the others' leads steps", async () => {
    await upsertDirectoryRooms(database.sql, 'a.example', [
      room('!shared:a.example'),
      room('!lone:a.example'),
    ]);
    await upsertDirectoryRooms(database.sql, 'b.example', [
      room('!shared:a.example'),
      room('!lone:a.example'),
    ]);
    const onA = await takePendingRoomLeads(database.sql, 'a.example', 100);
    const shared = (r: { roomId: string }) =>
      r.roomId === '!shared:a.example' || r.roomId === '!lone:a.example';
    expect(onA.filter(shared).map((r) => r.answeredElsewhere)).toEqual([null, null]);
    await recordRoomLeads(database.sql, 'a.example', [
      { roomId: '!shared:a.example', serversInRoom: 3, residents: ['b.example', 'c.example'] },
      // The alias's server did not answer: nothing to hand on.
      { roomId: '!lone:a.example', serversInRoom: null, residents: [] },
    ]);
    const onB = (await takePendingRoomLeads(database.sql, 'b.example', 100)).filter(shared);
    expect(Object.fromEntries(onB.map((r) => [r.roomId, r.answeredElsewhere]))).toEqual({
      '!shared:a.example': ['a.example', 'b.example', 'c.example'],
      '!lone:a.example': null,
    });
    // Taken over without asking, it is answered for b.example too, and ready for complexity.
    await recordRoomLeads(database.sql, 'b.example', [
      {
        roomId: '!shared:a.example',
        serversInRoom: null,
        residents: ['a.example', 'c.example'],
        answered: true,
      },
    ]);
    const ready = await takePendingRoomFacts(database.sql, 'b.example', 100);
    expect(ready.find((r) => r.roomId === '!shared:a.example')?.residents).toEqual([
      'a.example',
      'c.example',
    ]);
    expect(
      (await database.sql`select servers_in_room from rooms where room_id = '!shared:a.example'`)[0]
        ?.servers_in_room,
    ).toBe(3);
  });

  it('stales a room only when a complete crawl of every listing server misses it', async () => {
    await upsertDirectoryRooms(database.sql, 'a.example', [room('!s1:a.example'), room('!s2:a.example')]);
    await upsertDirectoryRooms(database.sql, 'b.example', [room('!s2:a.example')]);
    await new Promise((r) => setTimeout(r, 5));
    const run = await startCrawlRun(database.sql, 'a.example', 'federation');
    // This crawl of a.example lists neither room, nor the earlier ones except !1.
    await upsertDirectoryRooms(database.sql, 'a.example', [
      room('!1:a.example', { name: 'last wins', numJoinedMembers: 11 }),
    ]);
    const closed = await closeCompleteCrawl(database.sql, 'a.example', run.startedAt);
    expect(closed.roomCount).toBe(1);
    const rows = await database.sql<{ room_id: string; stale: boolean }[]>`
      select room_id, stale_since is not null as stale from rooms where room_id in ('!s1:a.example', '!s2:a.example', '!2:a.example')
      order by room_id`;
    expect(rows).toEqual([
      { room_id: '!2:a.example', stale: true },
      { room_id: '!s1:a.example', stale: true },
      // Still listed by b.example.
      { room_id: '!s2:a.example', stale: false },
    ]);
    // Seen again: no longer stale, version moved.
    const before = await version('!s1:a.example');
    await upsertDirectoryRooms(database.sql, 'a.example', [room('!s1:a.example')]);
    expect(await version('!s1:a.example')).toBe(before + 1);
    const exported = [];
    for await (const r of exportRooms(database.sql)) exported.push(r);
    expect(exported.find((r) => r.room_id === '!s1:a.example')).toMatchObject({
      stale: false,
      servers: ['a.example'],
    });
    expect(exported.find((r) => r.room_id === '!s2:a.example')).toMatchObject({ servers: ['b.example'] });
  });

  it('hides a stored room that gains a no-index tag, and shows it again when the tag goes', async () => {
    await upsertDirectoryRooms(database.sql, 'a.example', [room('!n:a.example')]);
    expect(
      await hideNoindexRooms(database.sql, 'a.example', ['!n:a.example', '!never-stored:a.example']),
    ).toBe(1);
    const [hidden] =
      await database.sql`select hidden, hidden_reason from rooms where room_id = '!n:a.example'`;
    expect(hidden).toEqual({ hidden: true, hidden_reason: 'noindex' });
    expect(await database.sql`select 1 from room_listings where room_id = '!n:a.example'`).toHaveLength(0);
    expect(await database.sql`select 1 from rooms where room_id = '!never-stored:a.example'`).toHaveLength(0);
    await upsertDirectoryRooms(database.sql, 'a.example', [room('!n:a.example')]);
    const [shown] =
      await database.sql`select hidden, hidden_reason from rooms where room_id = '!n:a.example'`;
    expect(shown).toEqual({ hidden: false, hidden_reason: null });
    // An operator's hiding is not lifted by a crawl.
    await database.sql`update rooms set hidden = true, hidden_reason = 'operator' where room_id = '!n:a.example'`;
    await upsertDirectoryRooms(database.sql, 'a.example', [room('!n:a.example')]);
    expect((await database.sql`select hidden from rooms where room_id = '!n:a.example'`)[0]?.hidden).toBe(
      true,
    );
  });

  it('records probes, measures uptime and claims due servers once, honouring blocks', async () => {
    const probe = {
      latencyMs: 12,
      softwareName: 'Synapse',
      softwareVersion: '1.163.2',
      keyIds: ['ed25519:a'],
      keysValid: true,
      keysValidUntil: new Date(Date.now() + 3600_000),
      clientBaseUrl: 'https://matrix.a.example/',
      contacts: [{ matrixId: '@admin:a.example', role: 'm.role.admin' }],
      supportPage: null,
      registration: 'open' as const,
      registrationStages: ['m.login.dummy'],
      certExpiresAt: null,
      resolution: 'srv_matrix_fed',
      delegatedTo: 'matrix.a.example:443',
      error: null,
      nextProbeAt: new Date(Date.now() + 3600_000),
    };
    const online = await recordProbe(database.sql, {
      ...probe,
      serverName: 'a.example',
      verdict: 'online',
      consecutiveFailures: 0,
    });
    expect(online.crawlDue).toBe(true);
    const offline = await recordProbe(database.sql, {
      ...probe,
      serverName: 'a.example',
      verdict: 'offline',
      error: 'connect_timeout',
      consecutiveFailures: 1,
      nextProbeAt: new Date(Date.now() - 1000),
    });
    expect(offline.crawlDue).toBe(false);
    const a = await getServer(database.db, 'a.example');
    expect(a).toMatchObject({
      status: 'offline',
      softwareName: 'Synapse',
      registration: 'open',
      uptime30d: 0.5,
    });
    expect(await database.sql`select 1 from server_checks where server_name = 'a.example'`).toHaveLength(2);

    await database.sql`insert into blocks (pattern) values ('*.blocked.example')`;
    await insertDiscoveredServers(database.sql, [{ name: 'x.blocked.example', via: 'alias' }]);
    await database.sql`update servers set next_probe_at = now() - interval '1 minute'`;
    const claimed = await claimDueServers(database.sql, 'probe', 100, 60_000);
    expect(claimed).toContain('a.example');
    expect(claimed).not.toContain('x.blocked.example');
    expect(await claimDueServers(database.sql, 'probe', 100, 60_000)).toEqual([]);
  });

  it('matches block patterns in SQL exactly as the crawler does in memory', async () => {
    const sql = database.sql;
    for (const { pattern, name, blocked } of BLOCK_PATTERN_CASES) {
      const [row] = await sql<{ blocked: boolean }[]>`
        select ${matchesBlockPatterns(sql, sql`${name}::text`, [pattern])} as blocked`;
      expect({ pattern, name, blocked: row?.blocked }).toEqual({ pattern, name, blocked });
      expect(blockMatcher([pattern])(name)).toBe(blocked);
    }
  });
});
