import { type PublicRoom, SynapseClient } from './client.ts';
import type { SynapseCluster } from './cluster.ts';
import { createPublishedRooms, createSpace, eventually, mapConcurrent } from './rooms.ts';

/** Number of extra state events in the heavy room: enough for a complexity well above rounding noise. */
const HEAVY_STATE_EVENTS = 120;

export const UNICODE_ROOM_NAME = 'Café ☕ — 日本語 · עברית · Ελληνικά';
export const NOINDEX_TOPIC = 'Please keep this out of directories (MRS-noindex:true-MRS)';

export interface ScenarioOptions {
  /** Published rooms created in bulk on B, so B's directory takes several pages. Default 260. */
  bulkRoomsOnB?: number;
}

/**
 * The rooms of the test federation, built through the client API of real homeservers:
 *
 * - A publishes: a lobby that users of B and C joined over federation (so query/directory lists
 *   all three servers; the lobby is the only place C shows up), a unicode room, a room created on
 *   B (room version 10, so its id names B; alias on B) joined and republished by A, a space with
 *   children, a room heavy with state, a room without alias, one with a no-index topic, and two
 *   rooms the tests later unpublish and rename.
 * - B publishes the room it shares with A and `bulkRoomsOnB` more (several directory pages).
 * - C has a room of its own but does not publish over federation.
 * - D (when started) publishes three rooms, readable only through its unauthenticated client API.
 */
export interface FederationScenario {
  alice: SynapseClient;
  bob: SynapseClient;
  carol: SynapseClient;
  dave: SynapseClient | undefined;
  /** A non-admin account on A for via-homeserver mode; `client` is its registration session. */
  bot: { username: string; password: string; userId: string; client: SynapseClient };
  rooms: {
    lobby: string;
    unicode: string;
    bridge: string;
    space: string;
    spaceChildHidden: string;
    heavy: string;
    noAlias: string;
    noindex: string;
    toUnpublish: string;
    toRename: string;
    onC: string;
    onD: string[];
  };
  aliases: { lobby: string; unicode: string; bridge: string; heavy: string };
  bulkOnB: string[];
}

/** Joins each user to the room, one at a time (joins over federation touch the same room state). */
async function joinAll(room: string, via: string[], users: SynapseClient[]): Promise<void> {
  for (const user of users) await user.join(room, via);
}

export async function buildFederationScenario(
  cluster: SynapseCluster,
  options: ScenarioOptions = {},
): Promise<FederationScenario> {
  const a = cluster.get('A');
  const b = cluster.get('B');
  const c = cluster.get('C');
  const d = cluster.instances.find((instance) => instance.label === 'D');

  const bot = { username: 'atlasbot', password: 'atlas-bot-password' };
  const [alice, bob, carol, dave, botClient] = await Promise.all([
    SynapseClient.register(a, { username: 'alice', admin: true }),
    SynapseClient.register(b, { username: 'bob', admin: true }),
    SynapseClient.register(c, { username: 'carol', admin: true }),
    d ? SynapseClient.register(d, { username: 'dave', admin: true }) : Promise.resolve(undefined),
    SynapseClient.register(a, { username: bot.username, password: bot.password }),
  ]);

  // B's bulk rooms are independent of everything else: start them first, they take longest.
  const bulk = createPublishedRooms(bob, { count: options.bulkRoomsOnB ?? 260, prefix: 'B bulk' });

  const aliases = {
    lobby: `#lobby:${a.serverName}`,
    unicode: `#cafe:${a.serverName}`,
    bridge: `#bridge:${b.serverName}`,
    heavy: `#heavy:${a.serverName}`,
  };
  const [lobby, unicode, heavy, noAlias, noindex, toUnpublish, toRename, spaceChildHidden] =
    await Promise.all([
      alice.createRoom({ name: 'Lobby', topic: 'Where A, B and C meet', alias: 'lobby' }),
      alice.createRoom({ name: UNICODE_ROOM_NAME, topic: 'Ünïcödé ✓ — اختبار', alias: 'cafe' }),
      // The extra state goes in with the room: Synapse persists a new room's events as one batch.
      alice.createRoom({
        name: 'Heavy state',
        topic: 'Many state events',
        alias: 'heavy',
        initialState: Array.from({ length: HEAVY_STATE_EVENTS }, (_, n) => ({
          type: 'org.atlas.test.state',
          state_key: `key-${n}`,
          content: { n },
        })),
      }),
      alice.createRoom({ name: 'No alias here', topic: 'Found by its listing only' }),
      alice.createRoom({ name: 'Do not index', topic: NOINDEX_TOPIC, alias: 'noindex' }),
      alice.createRoom({ name: 'Old news', topic: 'Leaves the directory', alias: 'oldnews' }),
      alice.createRoom({ name: 'Before rename', topic: 'Gets a new name', alias: 'rename' }),
      alice.createRoom({ name: 'Hidden child', publish: false }),
    ]);
  // Room version 10: the room id carries B's name, as every room before version 12 does.
  const bridge = await bob.createRoom({
    name: 'Bridge from B',
    topic: 'Created on B, listed by A and B',
    alias: 'bridge',
    roomVersion: '10',
  });
  const onC = await carol.createRoom({ name: 'C keeps to itself', alias: 'conly' });

  await joinAll(aliases.lobby, [a.serverName], [bob, carol]);
  await bob.join(aliases.unicode, [a.serverName]);
  await alice.join(aliases.bridge, [b.serverName]);
  // Alice administers A, which lets her list a room of B's in A's directory.
  await alice.setPublished(bridge, true);

  const space = await createSpace(alice, {
    name: 'Atlas test space',
    alias: 'space',
    topic: 'A space with children',
    children: [
      { roomId: lobby, via: [a.serverName] },
      { roomId: unicode, via: [a.serverName] },
      { roomId: spaceChildHidden, via: [a.serverName] },
    ],
  });

  const onD = dave
    ? await mapConcurrent(['D one', 'D two', 'D drei ✓'], 3, (name, index) =>
        dave.createRoom({
          name,
          topic: `Client API only room ${index + 1}`,
          ...(index === 0 ? { alias: 'done' } : {}),
        }),
      )
    : [];

  const bulkOnB = await bulk;

  const scenario: FederationScenario = {
    alice,
    bob,
    carol,
    dave,
    bot: { ...bot, userId: botClient.userId, client: botClient },
    rooms: {
      lobby,
      unicode,
      bridge,
      space,
      spaceChildHidden,
      heavy,
      noAlias,
      noindex,
      toUnpublish,
      toRename,
      onC,
      onD,
    },
    aliases,
    bulkOnB,
  };
  await waitForDirectories(scenario);
  return scenario;
}

function members(rooms: PublicRoom[], roomId: string): number | undefined {
  return rooms.find((room) => room.room_id === roomId)?.num_joined_members;
}

/**
 * Synapse updates the room stats behind its directory a moment after each event; wait until every
 * directory shows what the scenario did, so the tests compare against settled answers.
 */
async function waitForDirectories(scenario: FederationScenario): Promise<void> {
  const { alice, bob, dave, rooms, bulkOnB } = scenario;
  await eventually(
    "A's directory",
    () => alice.allPublicRooms(),
    (list) =>
      list.length === 9 &&
      members(list, rooms.lobby) === 3 &&
      members(list, rooms.unicode) === 2 &&
      members(list, rooms.bridge) === 2,
  );
  await eventually(
    "B's directory",
    () => bob.allPublicRooms(),
    (list) => list.length === bulkOnB.length + 1 && members(list, rooms.bridge) === 2,
  );
  if (dave)
    await eventually(
      "D's directory",
      () => dave.allPublicRooms(),
      (list) => list.length === rooms.onD.length,
    );
}
