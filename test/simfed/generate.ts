import type { ResolutionStep } from '@atlas/shared/matrix';
import { address, HOST, PORT } from './addresses.ts';
import type {
  AddressRecords,
  Behaviour,
  Federation,
  FoundVia,
  SimRoom,
  SimServer,
  Software,
} from './model.ts';
import { Rng } from './prng.ts';
import {
  aliasLocalpart,
  hostileRoomName,
  hostileTopic,
  noindexTopic,
  plainRoomName,
  roomTopic,
  unicodeRoomName,
} from './words.ts';

export const DOMAIN = 'simfed.test';

export interface GenerateOptions {
  servers: number;
  seed: string;
  /** Directory listings to spread over the servers on a power law (default 100 per server). */
  rooms?: number;
  /** When set, the first seed lists exactly this many rooms (the single huge directory benchmark). */
  bigServerRooms?: number;
  /** First three octets of the loopback block, e.g. `127.41.7`; only IP-literal names contain it. */
  blockPrefix: string;
}

/** How a server is located; `well_known` comes in three shapes. */
type Placement =
  | 'default_port'
  | 'default_port_no443'
  | 'explicit_port'
  | 'ip_literal'
  | 'ip_literal_port'
  | 'wk_name_port'
  | 'wk_name_443'
  | 'wk_name'
  | 'wk_srv_fed'
  | 'wk_srv_matrix'
  | 'srv_fed'
  | 'srv_matrix';

interface Traits {
  placement?: Placement;
  behaviour?: Behaviour;
  publishes?: boolean;
  clientDirectory?: boolean;
  malformed?: number;
  addressRecords?: AddressRecords;
}

/**
 * The servers right after the seeds get these traits, so that even a small federation covers
 * every resolution path, every failure mode and every directory state.
 */
const FORCED: Traits[] = [
  { placement: 'wk_name_port' },
  { placement: 'srv_fed' },
  { placement: 'explicit_port' },
  { placement: 'wk_srv_fed' },
  { placement: 'ip_literal_port' },
  { placement: 'wk_name' },
  { placement: 'srv_matrix' },
  { placement: 'wk_srv_matrix' },
  { placement: 'wk_name_443' },
  { placement: 'default_port_no443' },
  { placement: 'ip_literal' },
  { behaviour: 'offline_refused' },
  { behaviour: 'offline_no_dns' },
  { publishes: false, clientDirectory: false },
  { publishes: false, clientDirectory: true },
  { behaviour: 'slow' },
  { behaviour: 'stall_response' },
  { behaviour: 'trickle' },
  { behaviour: 'stall_tls' },
  { malformed: 5 },
  { addressRecords: 'AAAA' },
  { addressRecords: 'A+AAAA', placement: 'srv_fed' },
];

/** The first non-seed servers are found these ways, in this order, so each path is exercised. */
const FORCED_FOUND_VIA: FoundVia['kind'][] = ['alias', 'query_directory', 'room_id', 'hierarchy'];

const PLACEMENT_WEIGHTS: [Placement, number][] = [
  ['default_port', 50],
  ['default_port_no443', 5],
  ['explicit_port', 8],
  ['wk_name_port', 8],
  ['wk_name_443', 5],
  ['wk_name', 4],
  ['wk_srv_fed', 6],
  ['wk_srv_matrix', 2],
  ['srv_fed', 8],
  ['srv_matrix', 2],
];

const BEHAVIOUR_WEIGHTS: [Behaviour, number][] = [
  ['normal', 900],
  ['offline_refused', 30],
  ['offline_no_dns', 30],
  ['slow', 10],
  ['stall_response', 10],
  ['trickle', 10],
  ['stall_tls', 10],
];

const SOFTWARE: [Software, number][] = [
  [{ name: 'Synapse', version: '1.163.2' }, 40],
  [{ name: 'Synapse', version: '1.140.0' }, 15],
  [{ name: 'Synapse', version: '1.98.0' }, 8],
  [{ name: 'conduwuit', version: '0.5.0-rc.3' }, 6],
  [{ name: 'continuwuity', version: '0.5.0-rc.7' }, 6],
  [{ name: 'Conduit', version: '0.10.9' }, 8],
  [{ name: 'Dendrite', version: '0.15.2' }, 5],
  [{ name: 'tuwunel', version: '1.4.3' }, 4],
];

const REGISTRATION_FLOWS: string[][][] = [
  [['m.login.dummy']],
  [['m.login.registration_token']],
  [['m.login.recaptcha', 'm.login.terms', 'm.login.email.identity']],
  [['m.login.email.identity'], ['m.login.msisdn']],
  [['m.login.terms', 'm.login.registration_token']],
];

const MAX_SLOW_SERVER_ROOMS = 10;

const HOST_PREFIXES = ['hs', 'matrix', 'chat', 'm', 'talk', 'home'];

/** Seeds: two for a small federation, one per hundred servers up to ten. */
export function seedCount(servers: number): number {
  return Math.min(servers, 10, Math.max(2, Math.round(servers / 100)));
}

function roomId12(rng: Rng): string {
  // Room version 12: `!` plus the unpadded URL-safe base64 of the create event's 32-byte hash.
  return `!${rng.bytes(32).toString('base64url')}`;
}

function classicRoomId(rng: Rng, server: string): string {
  return `!${rng.token(18)}:${server}`;
}

/** Joined members on a Pareto tail: most rooms are small, a few are huge. */
function memberCount(rng: Rng): number {
  const u = rng.next();
  return Math.min(150_000, Math.max(1, Math.floor(2 / (1 - u) ** (1 / 1.15)) - 1));
}

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
        const room = this.newRoom(prng, parent, { version: prng.chance(0.5) ? '12' : '10' });
        room.canonicalAlias = `#${aliasLocalpart(prng, room.name)}:${server.name}`;
        room.residents = unique([parent.name, server.name, ...room.residents]);
        this.list(parent, room);
        return { kind, from: parent.name, room_id: room.roomId, alias: room.canonicalAlias };
      }
      case 'room_id': {
        const room = this.newRoom(prng, parent, { version: '10', creator: server.name });
        room.residents = unique([server.name, parent.name, ...room.residents]);
        this.list(parent, room);
        return { kind, from: parent.name, room_id: room.roomId };
      }
      case 'query_directory': {
        const room = this.newRoom(prng, parent, { version: '12' });
        room.canonicalAlias = `#${aliasLocalpart(prng, room.name)}:${parent.name}`;
        room.residents = unique([parent.name, server.name, ...room.residents]);
        this.list(parent, room);
        return { kind, from: parent.name, room_id: room.roomId, alias: room.canonicalAlias };
      }
      case 'hierarchy': {
        const space = this.newRoom(prng, parent, { version: '12', space: true });
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
    const room = this.newRoom(rng, server, {});
    this.list(server, room);
    // Only rooms that name no hidden server may be re-listed elsewhere, or a server meant to be
    // found through query/directory or a hierarchy would leak through another directory.
    if (room.roomType !== 'm.space' && this.publicNameSet.has(server.name) && rng.chance(0.05)) {
      this.sharedPool.push(room.roomId);
    }
    return room;
  }

  /** A new room resident on `server`, referring only to servers Atlas may already know. */
  newRoom(
    rng: Rng,
    server: SimServer,
    options: { version?: string; creator?: string; space?: boolean },
  ): SimRoom {
    const other = () => this.otherPublicName(rng, server.name);
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
    const topicRoll = rng.next();
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
    const room: SimRoom = {
      roomId,
      roomVersion: version,
      name,
      topic,
      canonicalAlias,
      avatarUrl: rng.chance(0.3) ? `mxc://${server.name}/${rng.token(24)}` : undefined,
      members,
      stateEvents: Math.floor(members * (1.05 + rng.next() * 1.5)) + rng.int(6, 40),
      worldReadable: rng.chance(0.2),
      guestCanJoin: rng.chance(0.1),
      joinRule: rng.chance(0.05) ? 'knock' : 'public',
      roomType: options.space || rng.chance(0.02) ? 'm.space' : undefined,
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

function unique(items: string[]): string[] {
  return [...new Set(items)];
}

const HOSTILE_TEXT =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: detecting control characters is the point.
  /[\u0000-\u0008\u000B-\u001F\u007F-\u009F\u202A-\u202E\u2066-\u2069\uFEFF\u2028\u2029\uD800-\uDFFF]/;

/** Text that Atlas's cleaning changes: control, bidi-override and invisible characters, or oversize. */
function isHostile(text: string | undefined): boolean {
  if (text === undefined) return false;
  if (text.length > 256) return true;
  // Lone surrogates are hostile; proper pairs (emoji) are not.
  const withoutPairs = text.replace(/[\uD800-\uDBFF][\uDC00-\uDFFF]/g, '');
  return HOSTILE_TEXT.test(withoutPairs);
}

function locate(
  placement: Placement,
  hostname: string,
  index: number,
  rng: Rng,
): Pick<SimServer, 'name' | 'resolution' | 'delegatedTo' | 'srv'> {
  const srvTarget = `srv${index}.hosting.${DOMAIN}`;
  const none = { delegatedTo: undefined, srv: undefined };
  const step = (resolution: ResolutionStep) => resolution;
  switch (placement) {
    case 'default_port':
    case 'default_port_no443':
      return { name: hostname, resolution: step('default_port'), ...none };
    case 'ip_literal':
      return { name: hostname, resolution: step('ip_literal'), ...none };
    case 'ip_literal_port':
      return { name: `${hostname}:${PORT.explicit[0]}`, resolution: step('ip_literal'), ...none };
    case 'explicit_port':
      return { name: `${hostname}:${rng.pick(PORT.explicit)}`, resolution: step('explicit_port'), ...none };
    case 'wk_name_port':
      return {
        name: hostname,
        resolution: 'well_known',
        delegatedTo: `matrix.${hostname}:${PORT.delegated}`,
        srv: undefined,
      };
    case 'wk_name_443':
      return {
        name: hostname,
        resolution: 'well_known',
        delegatedTo: `matrix.${hostname}:443`,
        srv: undefined,
      };
    case 'wk_name':
      return { name: hostname, resolution: 'well_known', delegatedTo: `fed.${hostname}`, srv: undefined };
    case 'wk_srv_fed':
    case 'wk_srv_matrix': {
      const delegated = `fed.${hostname}`;
      const service = placement === 'wk_srv_fed' ? '_matrix-fed._tcp' : '_matrix._tcp';
      return {
        name: hostname,
        resolution: placement === 'wk_srv_fed' ? 'well_known_srv_matrix_fed' : 'well_known_srv_matrix',
        delegatedTo: delegated,
        srv: { service, owner: `${service}.${delegated}`, target: srvTarget, port: PORT.srv },
      };
    }
    case 'srv_fed':
    case 'srv_matrix': {
      const service = placement === 'srv_fed' ? '_matrix-fed._tcp' : '_matrix._tcp';
      return {
        name: hostname,
        resolution: placement === 'srv_fed' ? 'srv_matrix_fed' : 'srv_matrix',
        delegatedTo: undefined,
        srv: { service, owner: `${service}.${hostname}`, target: srvTarget, port: PORT.srv },
      };
    }
  }
}

/** Listing counts on a Zipf curve over a seeded ranking, so a few servers list thousands of rooms. */
function listingCounts(rng: Rng, servers: number, total: number, seeds: number): number[] {
  const ranks = [
    ...Array.from({ length: seeds }, (_, i) => i),
    ...rng.shuffle(Array.from({ length: servers - seeds }, (_, i) => i + seeds)),
  ];
  let harmonic = 0;
  for (let r = 1; r <= servers; r++) harmonic += 1 / r;
  const counts = new Array<number>(servers).fill(0);
  ranks.forEach((serverIndex, rank) => {
    counts[serverIndex] = Math.max(1, Math.round(total / harmonic / (rank + 1)));
  });
  return counts;
}

/** Generates the whole federation for a seed. Same options, same federation. */
export function generateFederation(options: GenerateOptions): {
  federation: Federation;
  builder: FederationBuilder;
} {
  if (!Number.isInteger(options.servers) || options.servers < 1)
    throw new Error('servers must be a positive integer');
  const builder = new FederationBuilder(options.seed, options.blockPrefix);
  const seeds = seedCount(options.servers);
  const counts = listingCounts(
    new Rng(`${options.seed}/counts`),
    options.servers,
    options.rooms ?? options.servers * 100,
    seeds,
  );
  if (options.bigServerRooms !== undefined) counts[0] = options.bigServerRooms;
  let forcedFoundVia = 0;
  for (let i = 0; i < options.servers; i++) {
    const isSeed = i < seeds;
    const traits = isSeed ? undefined : FORCED[i - seeds];
    // A path that needs the new server to be reachable is fine either way: finding a server does
    // not need it to answer.
    const foundVia = isSeed ? undefined : FORCED_FOUND_VIA[forcedFoundVia++];
    builder.addServer({
      listings: counts[i] ?? 1,
      seed: isSeed,
      ...(traits ? { traits } : {}),
      ...(foundVia ? { foundVia } : {}),
    });
  }
  return { federation: builder.federation, builder };
}
