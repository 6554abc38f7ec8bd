import { address, HOST } from './addresses.ts';
import type {
  AddressRecords,
  Behaviour,
  Federation,
  FoundVia,
  JoinRule,
  SimRoom,
  SimServer,
} from './model.ts';
import { Rng } from './prng.ts';
import { classicRoomId, isHostile, memberCount, roomId12, unique } from './room-ids.ts';
import {
  BEHAVIOUR_WEIGHTS,
  DOMAIN,
  HOST_PREFIXES,
  locate,
  MAX_SLOW_SERVER_ROOMS,
  PLACEMENT_WEIGHTS,
  type Placement,
  REGISTRATION_FLOWS,
  SOFTWARE,
  type Traits,
} from './traits.ts';
import {
  aliasLocalpart,
  hostileRoomName,
  hostileTopic,
  noindexTopic,
  plainRoomName,
  roomTopic,
  unicodeRoomName,
} from './words.ts';

/** Share of plain listings that are rooms without federation (`m.federate: false`). */
const LOCAL_ONLY_SHARE = 0.02;

export class FederationBuilder {
  readonly federation: Federation;
  private readonly root: Rng;
  private readonly prefix: string;
  private ipLiterals = 0;
  /** Servers whose names Atlas may learn from any directory: seeds and those found by alias or room id. */
  private readonly publicNames: string[] = [];
  private readonly publicNameSet = new Set<string>();
  private readonly listedSets = new Map<string, Set<string>>();
  /** Rooms other servers may re-list (shared rooms). */
  private readonly sharedPool: string[] = [];

  constructor(seed: string, prefix: string) {
    this.root = new Rng(seed);
    this.prefix = prefix;
    this.federation = { seed, servers: [], rooms: new Map(), seeds: [] };
  }

  /** Adds one server, wiring it to an earlier server so Atlas can find it; returns it. */
  addServer(options: {
    listings: number;
    seed: boolean;
    traits?: Traits;
    foundVia?: FoundVia['kind'];
  }): SimServer {
    const index = this.federation.servers.length;
    const rng = this.root.fork(`server:${index}`);
    const traits = options.traits ?? {};
    const behaviour: Behaviour = options.seed
      ? 'normal'
      : (traits.behaviour ?? (traits.placement ? 'normal' : rng.weighted(BEHAVIOUR_WEIGHTS)));
    let placement: Placement =
      traits.placement ??
      (options.seed ? rng.pick(['default_port', 'wk_name_port'] as const) : rng.weighted(PLACEMENT_WEIGHTS));
    if (behaviour === 'offline_no_dns' || behaviour === 'offline_refused') placement = 'default_port';
    if (
      (placement === 'ip_literal' || placement === 'ip_literal_port') &&
      this.ipLiterals > HOST.ipLiteralMax - HOST.ipLiteralBase
    ) {
      placement = 'explicit_port';
    }
    const reachable = behaviour === 'normal' || behaviour === 'slow';
    const publishes = options.seed
      ? true
      : (traits.publishes ?? (traits.malformed ? true : reachable ? rng.chance(0.8) : rng.chance(0.5)));
    const clientDirectory = traits.clientDirectory ?? (publishes ? rng.chance(0.1) : rng.chance(0.3));

    const hostname =
      placement === 'ip_literal' || placement === 'ip_literal_port'
        ? address(this.prefix, HOST.ipLiteralBase + this.ipLiterals++)
        : `${rng.pick(HOST_PREFIXES)}${index}.${DOMAIN}`;
    const { name, resolution, delegatedTo, srv } = locate(placement, hostname, index, rng);

    const registrationOpen = rng.chance(0.25);
    const server: SimServer = {
      index,
      name,
      hostname,
      resolution,
      delegatedTo,
      srv,
      behaviour,
      addressRecords:
        traits.addressRecords ??
        rng.weighted<AddressRecords>([
          ['A', 92],
          ['A+AAAA', 6],
          ['AAAA', 2],
        ]),
      serves443:
        placement !== 'default_port_no443' && placement !== 'ip_literal' && placement !== 'ip_literal_port',
      publishes,
      clientDirectory,
      software: rng.weighted(SOFTWARE),
      registration: { open: registrationOpen, flows: registrationOpen ? rng.pick(REGISTRATION_FLOWS) : [] },
      support: rng.chance(0.5)
        ? {
            contacts: [
              { matrix_id: `@admin:${name}`, email_address: `admin@${hostname}`, role: 'm.role.admin' },
              ...(rng.chance(0.4)
                ? [{ email_address: `security@${hostname}`, role: 'm.role.security' }]
                : []),
            ],
            ...(rng.chance(0.5) ? { support_page: `https://${hostname}/support` } : {}),
          }
        : undefined,
      clientWellKnown:
        placement !== 'ip_literal' &&
        placement !== 'ip_literal_port' &&
        placement !== 'default_port_no443' &&
        rng.chance(0.8),
      listed: [],
      malformed: traits.malformed ?? (publishes && rng.chance(0.02) ? rng.int(1, 5) : 0),
      foundVia: { kind: 'seed' },
      keySeed: rng.bytes(32),
      keyId: `ed25519:simfed_${index}`,
      // Forked, so the token takes no draw from the server's own stream.
      accessToken: `syt_YXRsYXM_${rng.fork('access-token').token(20)}`,
    };
    this.federation.servers.push(server);

    if (options.seed) {
      this.federation.seeds.push(server.name);
    } else {
      server.foundVia = this.wire(server, rng, options.foundVia);
    }
    if (
      server.foundVia.kind === 'seed' ||
      server.foundVia.kind === 'alias' ||
      server.foundVia.kind === 'room_id'
    ) {
      this.publicNames.push(server.name);
      this.publicNameSet.add(server.name);
    }
    if (server.publishes || server.clientDirectory) {
      // A slow server answers every request late; with thousands of rooms (each measured by a
      // request or two) it would set the pace of a whole crawl instead of testing timeouts.
      const listings =
        behaviour === 'slow' ? Math.min(options.listings, MAX_SLOW_SERVER_ROOMS) : options.listings;
      for (let k = 0; k < listings; k++) this.addListing(server, rng.fork(`listing:${k}`));
    }
    return server;
  }

  /** Servers a new server can hang off: found, reachable, publishing over federation, listing rooms. */
  private parents(): SimServer[] {
    return this.federation.servers.filter(
      (s) => s.behaviour === 'normal' && s.publishes && s.listed.length > 0,
    );
  }

  /** Makes `server` findable from an earlier server, the way `kind` says (or a seeded choice). */
  private wire(server: SimServer, rng: Rng, forced: FoundVia['kind'] | undefined): FoundVia {
    const parents = this.parents();
    const parent = parents.length > 0 ? rng.pick(parents) : this.federation.servers[0];
    if (!parent || parent === server) throw new Error('the first server must be a seed');
    const kind =
      forced ??
      rng.weighted<FoundVia['kind']>([
        ['alias', 45],
        ['room_id', 25],
        ['query_directory', 15],
        ['hierarchy', 15],
      ]);
    const prng = rng.fork('wire');
    switch (kind) {
      case 'alias': {
        const room = this.newRoom(prng, parent, { version: prng.chance(0.5) ? '12' : '10', bridge: true });
        room.canonicalAlias = `#${aliasLocalpart(prng, room.name)}:${server.name}`;
        room.residents = unique([parent.name, server.name, ...room.residents]);
        this.list(parent, room);
        return { kind, from: parent.name, room_id: room.roomId, alias: room.canonicalAlias };
      }
      case 'room_id': {
        const room = this.newRoom(prng, parent, { version: '10', creator: server.name, bridge: true });
        room.residents = unique([server.name, parent.name, ...room.residents]);
        this.list(parent, room);
        return { kind, from: parent.name, room_id: room.roomId };
      }
      case 'query_directory': {
        const room = this.newRoom(prng, parent, { version: '12', bridge: true });
        room.canonicalAlias = `#${aliasLocalpart(prng, room.name)}:${parent.name}`;
        room.residents = unique([parent.name, server.name, ...room.residents]);
        this.list(parent, room);
        return { kind, from: parent.name, room_id: room.roomId, alias: room.canonicalAlias };
      }
      case 'hierarchy': {
        const space = this.newRoom(prng, parent, { version: '12', space: true, bridge: true });
        const child = this.newRoom(prng.fork('child'), server, { version: '12' });
        child.residents = [server.name];
        space.children = [{ roomId: child.roomId, via: [server.name] }];
        this.list(parent, space);
        return { kind, from: parent.name, space_id: space.roomId, room_id: child.roomId };
      }
      default:
        throw new Error(`unknown discovery path ${kind satisfies 'seed'}`);
    }
  }

  private list(server: SimServer, room: SimRoom): void {
    let listed = this.listedSets.get(server.name);
    if (!listed) {
      listed = new Set(server.listed);
      this.listedSets.set(server.name, listed);
    }
    if (listed.has(room.roomId)) return;
    listed.add(room.roomId);
    server.listed.push(room.roomId);
  }

  /** Forgets a listing (mutations). */
  unlist(server: SimServer, roomId: string): void {
    this.listedSets.get(server.name)?.delete(roomId);
    server.listed = server.listed.filter((id) => id !== roomId);
  }

  /** A server Atlas may already know, other than `self`, or undefined when there is none. */
  private otherPublicName(rng: Rng, self: string): string | undefined {
    if (this.publicNames.length === 0 || (this.publicNames.length === 1 && this.publicNames[0] === self)) {
      return undefined;
    }
    for (;;) {
      const name = rng.pick(this.publicNames);
      if (name !== self) return name;
    }
  }

  /** One more room in `server`'s directory: usually a new room, sometimes one another server lists too. */
  addListing(server: SimServer, rng: Rng): SimRoom {
    // Hidden servers (found only through query/directory or a hierarchy) re-list nothing: being
    // in a shared room would name them in its query/directory answer.
    if (this.publicNameSet.has(server.name) && this.sharedPool.length > 20 && rng.chance(0.03)) {
      const shared = this.federation.rooms.get(rng.pick(this.sharedPool));
      if (shared && !this.listedSets.get(server.name)?.has(shared.roomId)) {
        shared.residents = unique([...shared.residents, server.name]);
        this.list(server, shared);
        return shared;
      }
    }
    const room = this.newRoom(rng, server, { mayBeLocal: true });
    this.list(server, room);
    // Only rooms that name no hidden server may be re-listed elsewhere, or a server meant to be
    // found through query/directory or a hierarchy would leak through another directory. A room
    // that does not federate has no other server.
    if (
      room.roomType !== 'm.space' &&
      this.publicNameSet.has(server.name) &&
      rng.chance(0.05) &&
      room.federate
    ) {
      this.sharedPool.push(room.roomId);
    }
    return room;
  }

  /** A new room resident on `server`, referring only to servers Atlas may already know. */
  newRoom(
    rng: Rng,
    server: SimServer,
    /**
     * `bridge`: the room is how Atlas finds another server, so it must be one Atlas reads: no
     * no-index tag (an opted-out room is not followed) and publicly joinable (the hierarchy and
     * complexity endpoints answer only for those). `mayBeLocal`: a plain listing, which may be a
     * room that does not federate (`m.federate: false`).
     */
    options: { version?: string; creator?: string; space?: boolean; bridge?: boolean; mayBeLocal?: boolean },
  ): SimRoom {
    // Forked, so that deciding it takes no draw from the room's own stream.
    const local = options.mayBeLocal === true && rng.fork('federate').chance(LOCAL_ONLY_SHARE);
    const other = () => (local ? undefined : this.otherPublicName(rng, server.name));
    const version = options.version ?? (rng.chance(0.15) ? '12' : rng.pick(['10', '10', '11', '9']));
    const creator = options.creator ?? (rng.chance(0.08) ? (other() ?? server.name) : server.name);
    let roomId = version === '12' ? roomId12(rng) : classicRoomId(rng, creator);
    while (this.federation.rooms.has(roomId))
      roomId = version === '12' ? roomId12(rng) : classicRoomId(rng, creator);

    const kindRoll = rng.next();
    const name =
      kindRoll < 0.045
        ? undefined
        : kindRoll < 0.105
          ? unicodeRoomName(rng)
          : kindRoll < 0.12
            ? hostileRoomName(rng)
            : plainRoomName(rng);
    const topicRoll = options.bridge ? 0.5 : rng.next();
    const topic =
      topicRoll < 0.02
        ? noindexTopic(rng)
        : topicRoll < 0.03
          ? hostileTopic(rng)
          : topicRoll < 0.7
            ? roomTopic(rng)
            : undefined;
    const members = memberCount(rng);
    const aliasServer = rng.chance(0.15) ? (other() ?? server.name) : server.name;
    const canonicalAlias = rng.chance(0.7) ? `#${aliasLocalpart(rng, name)}:${aliasServer}` : undefined;
    const extraResidents = Math.floor(Math.log2(members + 1) / 2);
    const residents = unique([
      server.name,
      creator,
      ...(canonicalAlias ? [aliasServer] : []),
      ...Array.from({ length: extraResidents }, () => other() ?? server.name),
    ]);
    // Drawn in this order, one draw each, so that earlier seeds keep their rooms.
    const avatarUrl = rng.chance(0.3) ? `mxc://${server.name}/${rng.token(24)}` : undefined;
    const stateEvents = Math.floor(members * (1.05 + rng.next() * 1.5)) + rng.int(6, 40);
    const worldReadable = rng.chance(0.2);
    const guestCanJoin = rng.chance(0.1);
    const ruleRoll = rng.next();
    const joinRule = options.bridge ? 'public' : pickJoinRule(ruleRoll, version);
    const room: SimRoom = {
      roomId,
      roomVersion: version,
      name,
      topic,
      canonicalAlias,
      avatarUrl,
      avatarMedia: undefined,
      members,
      stateEvents,
      // Synapse lists an invite-only room only when it is world readable.
      worldReadable: worldReadable || joinRule === 'invite',
      guestCanJoin,
      joinRule,
      allowedRoomIds: joinRule === 'knock_restricted' ? server.listed.slice(-1) : [],
      federate: !local,
      roomType: (options.space || rng.chance(0.02)) && !local ? 'm.space' : undefined,
      residents,
      children: [],
      hostile: false,
    };
    room.hostile = isHostile(room.name) || isHostile(room.topic);
    if (room.roomType === 'm.space' && !options.space) {
      // An ordinary space: its children are rooms this server already lists.
      const candidates = server.listed.slice(-20);
      const count = Math.min(candidates.length, rng.int(1, 5));
      room.children = rng
        .shuffle([...candidates])
        .slice(0, count)
        .map((childId) => ({
          roomId: childId,
          via: [
            server.name,
            ...(this.federation.rooms.get(childId)?.residents ?? []).filter(
              (name) => name !== server.name && this.publicNameSet.has(name),
            ),
          ].slice(0, 3),
        }));
    }
    this.federation.rooms.set(roomId, room);
    return room;
  }
}

/**
 * Join rules of listed rooms (5% are not public): knock, knock_restricted (room version 10 and
 * later; knock before), and world-readable invite-only rooms, which Synapse lists too.
 */
function pickJoinRule(roll: number, version: string): JoinRule {
  if (roll >= 0.05) return 'public';
  if (roll < 0.025) return 'knock';
  if (roll < 0.035) return Number(version) >= 10 ? 'knock_restricted' : 'knock';
  return 'invite';
}
