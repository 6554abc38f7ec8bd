import path from 'node:path';
import { createViaHomeserver } from '@atlas/crawler';
import { silentLogger } from '@atlas/shared/log';
import { createHttpClient } from '@atlas/shared/net';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { freePort } from '../support/ports.ts';
import { activeListings, crawlRuns, type RoomRow, room, server } from './atlas-rows.ts';
import {
  type AtlasIdentity,
  type AtlasTls,
  buildFederationScenario,
  call,
  eventually,
  type FederationScenario,
  federationRequest,
  MatrixApiError,
  NOINDEX_TOPIC,
  type PublicRoom,
  printSynapseLogsOnFailure,
  runAtlasCrawl,
  type SynapseCluster,
  type SynapseInstance,
  startAtlasIdentity,
  startSynapseCluster,
  UNICODE_ROOM_NAME,
  withSynapseLogs,
  writeAtlasTls,
} from './harness/index.ts';

// Atlas crawls a federation of real Synapse homeservers over TLS on loopback, as it would crawl the
// internet: `atlas crawl --once` as a subprocess, then what it stored is compared with what
// Synapse itself answers.

let synapse: SynapseCluster;
let a: SynapseInstance;
let b: SynapseInstance;
let c: SynapseInstance;
let d: SynapseInstance;
let scenario: FederationScenario;
let database: TestDatabase;
let atlasTls: AtlasTls;
let atlasPort: number;
let atlasHttpPort: number;
/** A second identity, for asking Synapse directly what Atlas should have stored (complexity). */
let referee: AtlasIdentity;
/** Each directory as Synapse lists it, read once the scenario settled. */
let directoryOfA: PublicRoom[];
let directoryOfB: PublicRoom[];

/** Four homeservers and a few hundred rooms: minutes on a busy two-core machine. */
const SETUP_TIMEOUT_MS = 600_000;
/** One `atlas crawl --once` (runAtlasCrawl gives up after 240 s). */
const CRAWL_TIMEOUT_MS = 300_000;

printSynapseLogsOnFailure(() => synapse);

/** `atlas crawl --once` with its output kept beside the Synapse logs (printed when a test fails). */
function crawl(env: Record<string, string>, seeds: string[]) {
  const logFile = path.join(synapse.dir, 'atlas-crawl.log');
  synapse.trackLog(logFile);
  return runAtlasCrawl({ env, seeds, logFile });
}

function crawlerEnv(databaseUrl: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    DATABASE_URL: databaseUrl,
    ATLAS_DATA_DIR: path.join(synapse.dir, 'atlas-data'),
    ATLAS_SERVER_NAME: `127.0.0.1:${atlasPort}`,
    ATLAS_FEDERATION_PORT: String(atlasPort),
    ATLAS_TLS_CERT_FILE: atlasTls.certFile,
    ATLAS_TLS_KEY_FILE: atlasTls.keyFile,
    ATLAS_CA_FILE: synapse.caFile,
    ATLAS_ALLOW_NETWORKS: '127.0.0.0/8',
    HOST: '127.0.0.1',
    PORT: String(atlasHttpPort),
    LOG_LEVEL: 'info',
    ...extra,
  };
}

beforeAll(async () => {
  synapse = await startSynapseCluster({ clientApiOnly: true });
  [a, b, c, d] = [synapse.get('A'), synapse.get('B'), synapse.get('C'), synapse.get('D')];
  database = await createTestDatabase('synapse_crawl');
  atlasTls = await writeAtlasTls(synapse.ca, synapse.dir);
  atlasPort = await freePort();
  atlasHttpPort = await freePort();
  referee = await startAtlasIdentity({ ca: synapse.ca, dir: synapse.dir, database });
  scenario = await withSynapseLogs(synapse, 'building the federation scenario', () =>
    buildFederationScenario(synapse),
  );
  directoryOfA = await scenario.alice.allPublicRooms();
  directoryOfB = await scenario.bob.allPublicRooms();
}, SETUP_TIMEOUT_MS);

afterAll(async () => {
  await referee?.close();
  await synapse?.stop();
  await database?.drop();
});

function indexable(rooms: PublicRoom[]): PublicRoom[] {
  return rooms.filter((entry) => !entry.topic?.includes('MRS-noindex'));
}

function ids(rooms: PublicRoom[]): string[] {
  return rooms.map((entry) => entry.room_id).sort();
}

/** Expects Atlas's row for each room to carry what Synapse's directory says. */
async function expectStoredAsListed(db: TestDatabase, listed: PublicRoom[]): Promise<void> {
  const stored = await db.sql<RoomRow[]>`select * from rooms where room_id = any(${ids(listed)})`;
  const byId = new Map(stored.map((row) => [row.room_id, row]));
  for (const entry of listed) {
    const row = byId.get(entry.room_id);
    expect(row, `room ${entry.room_id} (${entry.name}) is stored`).toBeDefined();
    expect(
      {
        members: row?.num_joined_members,
        name: row?.name,
        topic: row?.topic,
        alias: row?.canonical_alias,
        type: row?.room_type,
      },
      `room ${entry.room_id}`,
    ).toEqual({
      members: entry.num_joined_members,
      name: entry.name ?? null,
      topic: entry.topic ?? null,
      alias: entry.canonical_alias ?? null,
      type: entry.room_type ?? null,
    });
  }
}

describe('the test federation behaves as its roles say', () => {
  test('A lets anyone register (401 with flows), B and C do not (403)', async () => {
    const register = (target: SynapseInstance) =>
      call(target.clientUrl, 'POST', '/_matrix/client/v3/register', { body: {} }).then(
        () => undefined,
        (error: unknown) => (error instanceof MatrixApiError ? error : undefined),
      );
    const open = await register(a);
    expect(open?.status).toBe(401);
    expect(open?.body).toMatchObject({ flows: [{ stages: ['m.login.dummy'] }] });
    for (const closed of [b, c]) {
      const refused = await register(closed);
      expect({ status: refused?.status, errcode: refused?.errcode }).toEqual({
        status: 403,
        errcode: 'M_FORBIDDEN',
      });
    }
  });

  test("C refuses its directory over federation (403) while A's answers", async () => {
    const ask = (target: SynapseInstance) =>
      federationRequest({
        baseUrl: target.federationUrl,
        destination: target.serverName,
        uri: '/_matrix/federation/v1/publicRooms?limit=5',
        origin: referee.serverName,
        signingKey: referee.signingKey,
        ca: synapse.ca.cert,
      });
    expect((await ask(a)).status).toBe(200);
    const refused = await ask(c);
    expect(refused.status, refused.text).toBe(403);
    expect(refused.json).toMatchObject({ errcode: 'M_FORBIDDEN' });
  });
});

describe('a federation crawl of real Synapse servers', () => {
  beforeAll(async () => {
    await crawl(crawlerEnv(database.url), [a.serverName]);
  }, CRAWL_TIMEOUT_MS);

  test('finds B and C from the rooms A publishes, and probes all three', async () => {
    const [serverA, serverB, serverC] = await Promise.all([
      server(database, a.serverName),
      server(database, b.serverName),
      server(database, c.serverName),
    ]);
    expect(serverA?.found_via).toBe('seed');
    // B names itself in the id and alias of the room it shares with A, and sits in the lobby.
    expect(['alias', 'room_id', 'query_directory']).toContain(serverB?.found_via);
    // C's only trace in A's directory is its user in the lobby: the servers query/directory lists.
    expect(serverC?.found_via).toBe('query_directory');
    const version = synapse.version;
    for (const row of [serverA, serverB, serverC]) {
      expect(row, 'server row').toBeDefined();
      expect({ status: row?.status, software: row?.software_name, version: row?.software_version }).toEqual({
        status: 'online',
        software: 'Synapse',
        version,
      });
    }
    expect(serverA?.registration).toBe('open');
    expect(serverA?.registration_stages).toEqual(['m.login.dummy']);
    expect(serverB?.registration).toBe('closed');
    expect(serverC?.registration).toBe('closed');
    const checks = await database.sql<
      { server_name: string; reachable: boolean; software_version: string }[]
    >`
      select server_name, reachable, software_version from server_checks
      where server_name in (${a.serverName}, ${b.serverName}, ${c.serverName})`;
    expect(new Set(checks.map((check) => check.server_name)).size).toBe(3);
    expect(checks.every((check) => check.reachable && check.software_version === version)).toBe(true);
  });

  test('stores every room A publishes with the member count Synapse reports', async () => {
    expect(await activeListings(database, a.serverName)).toEqual(ids(indexable(directoryOfA)));
    await expectStoredAsListed(database, indexable(directoryOfA));
    const lobby = await room(database, scenario.rooms.lobby);
    expect(lobby?.num_joined_members).toBe(3);
    expect((await room(database, scenario.rooms.unicode))?.name).toBe(UNICODE_ROOM_NAME);
    expect((await room(database, scenario.rooms.space))?.room_type).toBe('m.space');
    // The room listed by both A and B is one room with two listings.
    const listings = await database.sql<{ server_name: string }[]>`
      select server_name from room_listings where room_id = ${scenario.rooms.bridge} and active`;
    expect(listings.map((row) => row.server_name).sort()).toEqual([a.serverName, b.serverName].sort());
  });

  test("stores all of B's directory, paged through Synapse's since tokens", async () => {
    expect(directoryOfB.length).toBeGreaterThan(250);
    expect(await activeListings(database, b.serverName)).toEqual(ids(directoryOfB));
    await expectStoredAsListed(database, directoryOfB);
    const runs = await crawlRuns(database, b.serverName);
    const last = runs.at(-1);
    expect(last).toMatchObject({ mode: 'federation', status: 'complete', stop_reason: 'end' });
    // Synapse answers 100 rooms a page at most.
    expect(last?.pages).toBeGreaterThanOrEqual(Math.ceil(directoryOfB.length / 100));
    expect(last?.rooms_seen).toBe(directoryOfB.length);
  });

  test('does not store a room whose topic asks not to be indexed', async () => {
    expect(directoryOfA.some((entry) => entry.topic === NOINDEX_TOPIC)).toBe(true);
    const row = await room(database, scenario.rooms.noindex);
    expect(row === undefined || row.hidden, 'absent, or stored hidden').toBe(true);
  });

  test('records C as not publishing (403), and nothing else suffers', async () => {
    const serverC = await server(database, c.serverName);
    expect(serverC?.publishes).toBe(false);
    const runs = await crawlRuns(database, c.serverName);
    expect(runs.length).toBeGreaterThan(0);
    expect(runs.every((run) => run.status === 'forbidden')).toBe(true);
    expect(await activeListings(database, c.serverName)).toEqual([]);
    expect(await room(database, scenario.rooms.onC)).toBeUndefined();
    for (const name of [a.serverName, b.serverName]) {
      expect((await server(database, name))?.publishes).toBe(true);
      expect((await crawlRuns(database, name)).at(-1)?.status).toBe('complete');
    }
  });

  test("takes complexity from Synapse's own endpoint, and servers_in_room from the hosts in the room", async () => {
    const complexityOf = async (roomId: string): Promise<unknown> => {
      const response = await federationRequest({
        baseUrl: a.federationUrl,
        destination: a.serverName,
        uri: `/_matrix/federation/unstable/rooms/${encodeURIComponent(roomId)}/complexity`,
        origin: referee.serverName,
        signingKey: referee.signingKey,
        ca: synapse.ca.cert,
      });
      expect(response.status, response.text).toBe(200);
      return response.json;
    };
    for (const entry of indexable(directoryOfA)) {
      const row = await room(database, entry.room_id);
      const synapse = await complexityOf(entry.room_id);
      expect({ room: entry.name, v1: row?.complexity, source: row?.complexity_source }).toEqual({
        room: entry.name,
        v1: (synapse as { v1: number }).v1,
        source: 'federation',
      });
    }
    // And Synapse's v1 is the room's current state events / 500, rounded to 2 places.
    const heavyState = await scenario.alice.state(scenario.rooms.heavy);
    const heavy = await room(database, scenario.rooms.heavy);
    expect(heavy?.complexity).toBe(Math.round((heavyState.length / 500) * 100) / 100);
    expect(heavy?.complexity).toBeGreaterThan(0.2);

    for (const roomId of [
      scenario.rooms.lobby,
      scenario.rooms.unicode,
      scenario.rooms.bridge,
      scenario.rooms.heavy,
    ]) {
      const hosts = new Set(
        (await scenario.alice.joinedMembers(roomId)).map((userId) => userId.slice(userId.indexOf(':') + 1)),
      );
      expect((await room(database, roomId))?.servers_in_room, `servers in ${roomId}`).toBe(hosts.size);
    }
    expect((await room(database, scenario.rooms.lobby))?.servers_in_room).toBe(3);
  });

  test(
    "a room removed from A's directory becomes stale on the next crawl; a renamed room is updated",
    async () => {
      const { alice, rooms } = scenario;
      await alice.setPublished(rooms.toUnpublish, false);
      await alice.setName(rooms.toRename, 'After rename ✓');
      await eventually(
        "A's directory after the changes",
        () => alice.allPublicRooms(),
        (list) =>
          !list.some((entry) => entry.room_id === rooms.toUnpublish) &&
          list.find((entry) => entry.room_id === rooms.toRename)?.name === 'After rename ✓',
      );
      await crawl(crawlerEnv(database.url), [a.serverName]);

      const removed = await room(database, rooms.toUnpublish);
      expect(removed?.stale_since ?? null, 'the unpublished room is stale').not.toBeNull();
      expect(Number.isNaN(new Date(String(removed?.stale_since)).getTime())).toBe(false);
      expect(await activeListings(database, a.serverName)).not.toContain(rooms.toUnpublish);
      const renamed = await room(database, rooms.toRename);
      expect({ name: renamed?.name, stale: renamed?.stale_since }).toEqual({
        name: 'After rename ✓',
        stale: null,
      });
      expect((await room(database, rooms.lobby))?.stale_since).toBeNull();
      expect(await activeListings(database, a.serverName)).toEqual(
        ids(indexable(await alice.allPublicRooms())),
      );
    },
    CRAWL_TIMEOUT_MS,
  );
});

describe('crawling without a federation identity of its own', () => {
  test(
    "via-homeserver mode reads B's directory through A's client API and stores the same rooms",
    async () => {
      const viaDatabase = await createTestDatabase('synapse_via');
      const botDevices = await scenario.bot.client.deviceIds();
      try {
        await crawl(
          {
            DATABASE_URL: viaDatabase.url,
            ATLAS_DATA_DIR: path.join(synapse.dir, 'atlas-via-data'),
            ATLAS_CA_FILE: synapse.caFile,
            ATLAS_ALLOW_NETWORKS: '127.0.0.0/8',
            ATLAS_HOMESERVER_URL: a.clientUrl,
            ATLAS_HOMESERVER_USER: scenario.bot.username,
            ATLAS_HOMESERVER_PASSWORD: scenario.bot.password,
            HOST: '127.0.0.1',
            PORT: String(await freePort()),
            LOG_LEVEL: 'info',
          },
          [b.serverName],
        );
        // Atlas logged into A as the bot (a new device), and read B's directory through A.
        expect((await scenario.bot.client.deviceIds()).length).toBeGreaterThan(botDevices.length);
        const viaListing = await activeListings(viaDatabase, b.serverName);
        expect(viaListing).toEqual(await activeListings(database, b.serverName));
        const direct = await database.sql<{ room_id: string; name: string; num_joined_members: number }[]>`
        select r.room_id, r.name, r.num_joined_members from rooms r
        join room_listings l on l.room_id = r.room_id and l.server_name = ${b.serverName}
        order by r.room_id`;
        const via = await viaDatabase.sql<{ room_id: string; name: string; num_joined_members: number }[]>`
        select r.room_id, r.name, r.num_joined_members from rooms r
        join room_listings l on l.room_id = r.room_id and l.server_name = ${b.serverName}
        order by r.room_id`;
        expect(via).toEqual(direct);
        const runs = await crawlRuns(viaDatabase, b.serverName);
        expect(runs.at(-1)).toMatchObject({ mode: 'via', status: 'complete' });
        expect((await server(viaDatabase, b.serverName))?.crawl_mode).toBe('via');
      } finally {
        await viaDatabase.drop();
      }
    },
    CRAWL_TIMEOUT_MS,
  );

  test('via-homeserver mode looks for a missed room with a filtered search that A relays to B', async () => {
    const { alice } = scenario;
    const http = createHttpClient({
      ca: synapse.ca.cert,
      allowNetworks: ['127.0.0.0/8'],
      userAgent: 'Atlas test',
      maxInFlight: 2,
    });
    const request = (searchTerm: string) => ({
      limit: 20,
      since: undefined,
      deadline: Date.now() + 60_000,
      searchTerm,
    });
    try {
      // Via-homeserver mode: A relays the filtered search to B over federation.
      const via = createViaHomeserver({
        url: a.clientUrl,
        token: alice.accessToken,
        http,
        log: silentLogger,
      });
      const onB = await via.fetchPage(b.serverName, request(`#bridge:${b.serverName}`));
      expect(onB.rooms.map((r) => r.roomId)).toEqual([scenario.rooms.bridge]);
      // Without a token the client API answers no filtered search, even where it lists its
      // directory to anyone, so the client-API mode does not look for missed rooms.
      const filtered = await call(d.clientUrl, 'POST', '/_matrix/client/v3/publicRooms', {
        body: { limit: 20, filter: { generic_search_term: 'D drei' } },
      }).then(
        () => undefined,
        (error: unknown) => (error instanceof MatrixApiError ? error : undefined),
      );
      expect({ status: filtered?.status, errcode: filtered?.errcode }).toEqual({
        status: 401,
        errcode: 'M_MISSING_TOKEN',
      });
    } finally {
      await http.close();
    }
  });

  test(
    'the client-API fallback reads a directory that is published only without a token',
    async () => {
      const fallbackDatabase = await createTestDatabase('synapse_fallback');
      try {
        const { dave } = scenario;
        if (!dave) throw new Error('the scenario has no user on D');
        // D refuses the federation directory, and its client API answers without a token.
        const federated = await federationRequest({
          baseUrl: d.federationUrl,
          destination: d.serverName,
          uri: '/_matrix/federation/v1/publicRooms?limit=5',
          origin: referee.serverName,
          signingKey: referee.signingKey,
          ca: synapse.ca.cert,
        });
        expect(federated.status, federated.text).toBe(403);
        const anonymous = await call(d.clientUrl, 'GET', '/_matrix/client/v3/publicRooms');
        const expected = (anonymous as { chunk: PublicRoom[] }).chunk;
        expect(expected).toHaveLength(3);
        await crawl(crawlerEnv(fallbackDatabase.url), [d.serverName]);
        expect(await activeListings(fallbackDatabase, d.serverName)).toEqual(ids(expected));
        await expectStoredAsListed(fallbackDatabase, expected);
        const runs = await crawlRuns(fallbackDatabase, d.serverName);
        expect(runs.at(-1)).toMatchObject({ mode: 'client', status: 'complete' });
        expect((await server(fallbackDatabase, d.serverName))?.crawl_mode).toBe('client');
      } finally {
        await fallbackDatabase.drop();
      }
    },
    CRAWL_TIMEOUT_MS,
  );
});
