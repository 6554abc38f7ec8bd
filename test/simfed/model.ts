import type { ResolutionStep } from '@atlas/shared/matrix';
import type { MediaApi, MediaKind } from './media.ts';

/** How a simulated server behaves on the wire. Everything but `normal` and `slow` is unreachable. */
export type Behaviour =
  | 'normal'
  /** Answers every request, after a delay shorter than Atlas's timeouts. */
  | 'slow'
  /** Accepts TCP, then never finishes the TLS handshake. */
  | 'stall_tls'
  /** Completes TLS, reads the request, never answers. */
  | 'stall_response'
  /** Sends headers at once, then one byte of body per second, for ever. */
  | 'trickle'
  /** The name resolves to an address where nothing listens. */
  | 'offline_refused'
  /** The name has no DNS records at all. */
  | 'offline_no_dns';

export type AddressRecords = 'A' | 'AAAA' | 'A+AAAA';

export const REACHABLE_BEHAVIOURS: ReadonlySet<Behaviour> = new Set(['normal', 'slow']);

/** How Atlas is meant to learn of a server first (docs/architecture.md, "Finding servers"). */
export type FoundVia =
  | { kind: 'seed' }
  /** A room listed by `from` has a canonical alias on this server. */
  | { kind: 'alias'; from: string; room_id: string; alias: string }
  /** A room listed by `from` has a pre-v12 id on this server. */
  | { kind: 'room_id'; from: string; room_id: string }
  /** `from` answers query/directory for `alias` (a room it lists) with this server among `servers`. */
  | { kind: 'query_directory'; from: string; room_id: string; alias: string }
  /** `from` lists space `space_id`; its hierarchy names this server as a `via` of a child. */
  | { kind: 'hierarchy'; from: string; space_id: string; room_id: string };

export interface Software {
  name: string;
  version: string;
}

export interface Registration {
  open: boolean;
  /** Stages of each flow, as `POST /register {}` answers them when open. */
  flows: string[][];
}

export interface SupportContact {
  matrix_id?: string;
  email_address?: string;
  role: string;
}

export type JoinRule = 'public' | 'knock' | 'knock_restricted' | 'invite';

export interface SimRoom {
  roomId: string;
  roomVersion: string;
  /** Raw name as served (may hold hostile characters), or undefined for an unnamed room. */
  name: string | undefined;
  topic: string | undefined;
  canonicalAlias: string | undefined;
  avatarUrl: string | undefined;
  /** What its avatar's origin serves for it (a plain PNG unless a test says otherwise). */
  avatarMedia: MediaKind | undefined;
  members: number;
  /** Current state events; Synapse's complexity v1 is this / 500. */
  stateEvents: number;
  worldReadable: boolean;
  guestCanJoin: boolean;
  /**
   * Synapse lists public, knock and knock_restricted rooms, and any world-readable room (here:
   * invite-only ones); `knock_restricted` needs room version 10 or later.
   */
  joinRule: JoinRule;
  /** For knock_restricted rooms: members of these rooms may join (`allowed_room_ids` in a hierarchy). */
  allowedRoomIds: string[];
  /**
   * `m.federate` of the create event. A room that does not federate lives on one server only; its
   * directory lists it on the client API, leaves it out over federation, and still counts it in
   * `total_room_count_estimate` (Synapse's `count_public_rooms` ignores the flag).
   */
  federate: boolean;
  roomType: 'm.space' | undefined;
  /** Servers in the room; query/directory answers these. */
  residents: string[];
  /** For spaces: child rooms and the `via` of each `m.space.child` event. */
  children: { roomId: string; via: string[] }[];
  /** Name or topic carries control, bidi-override or oversized text that Atlas must clean. */
  hostile: boolean;
}

export interface SimServer {
  index: number;
  /** The Matrix server name (hostname, with `:port` for explicit ports and IP literal with port). */
  name: string;
  /** The hostname part of `name`. */
  hostname: string;
  resolution: ResolutionStep;
  /** The `m.server` of `/.well-known/matrix/server`, when the server delegates. */
  delegatedTo: string | undefined;
  /** The SRV record that locates it, when one does. */
  srv:
    | { service: '_matrix-fed._tcp' | '_matrix._tcp'; owner: string; target: string; port: number }
    | undefined;
  behaviour: Behaviour;
  /** Something listens on 443 for its hostname (well-known, client API); false means refused. */
  serves443: boolean;
  /**
   * Which address records its names have. AAAA records hold the IPv4-mapped form of the block's
   * address (`::ffff:127.x.y.1`), which reaches the same IPv4 listener on a dual-stack host.
   */
  addressRecords: AddressRecords;
  /** Serves `/_matrix/federation/v1/publicRooms` (otherwise 403). */
  publishes: boolean;
  /** Serves `/_matrix/client/v3/publicRooms` without a token (`allow_public_rooms_without_auth`). */
  clientDirectory: boolean;
  software: Software;
  registration: Registration;
  support: { contacts: SupportContact[]; support_page?: string } | undefined;
  clientWellKnown: boolean;
  /** Room ids in its public directory (federation or client), in no particular order. */
  listed: string[];
  /** Broken entries mixed into its directory pages (Atlas must skip and count them). */
  malformed: number;
  foundVia: FoundVia;
  /** 32-byte ed25519 seed for its signing key. */
  keySeed: Buffer;
  keyId: string;
  /** The access token of `@atlas:<name>`, the one account its client API knows. */
  accessToken: string;
  /**
   * Its federation directory never ends (endless.ts): every page 100 new rooms. `delayMs`: how long
   * it takes to answer any request.
   */
  endless?: { delayMs: number };
}

export interface Federation {
  seed: string;
  servers: SimServer[];
  rooms: Map<string, SimRoom>;
  seeds: string[];
}

// ---- manifest (what tests, the demo and Atlas read) ----

export interface ManifestRoom {
  room_id: string;
  room_version: string;
  name: string | null;
  topic: string | null;
  canonical_alias: string | null;
  num_joined_members: number;
  /** Topic carries a no-index tag: Atlas must not store the room. */
  noindex: boolean;
  /** Synapse's complexity v1 (state events / 500, two places); served by resident servers. */
  complexity: number;
  servers_in_room: string[];
  room_type: string | null;
  join_rule: string;
  world_readable: boolean;
  guest_can_join: boolean;
  avatar_url: string | null;
  /** What the avatar's origin serves for `avatar_url` (null without an avatar). */
  avatar_media: MediaKind | null;
  /** Name or topic holds text Atlas cleans (control or bidi characters, oversized). */
  hostile: boolean;
  /** `m.federate`: false for a room that only its own server's client API lists. */
  federate: boolean;
}

export interface ManifestServer {
  name: string;
  /** Answers federation requests within Atlas's timeouts. */
  reachable: boolean;
  behaviour: Behaviour;
  /** Publishes its directory over federation (otherwise 403 M_FORBIDDEN). */
  publishes: boolean;
  /** Lists its rooms on the unauthenticated client API. */
  client_directory: boolean;
  software: string;
  version: string;
  /** Its media endpoints: federation media, the legacy API, or both (media.ts). */
  media_api: MediaApi;
  /** The step of the spec's resolution that decides where it lives. */
  resolution: ResolutionStep;
  delegated_to: string | null;
  srv: string | null;
  /** Address records of its names: `AAAA` ones hold IPv4-mapped IPv6 addresses of the block. */
  address_records: AddressRecords | 'none';
  /** Where federation traffic ends up: `address:port` (changes between runs). */
  endpoint: string | null;
  registration: 'open' | 'closed';
  registration_stages: string[][];
  contacts: SupportContact[];
  support_page: string | null;
  client_well_known: boolean;
  found_via: FoundVia;
  malformed_entries: number;
  key_id: string;
  /** Token of `@atlas:<name>` for its client API (via-homeserver mode: `publicRooms?server=`). */
  access_token: string;
  /** Its directory never ends (every page 100 new rooms); `rooms` is empty, there is no list of them. */
  endless: boolean;
  /**
   * The rooms Atlas reads from its directory, including no-index ones: the federation directory
   * when it publishes there, else its client API directory (which also lists its `m.federate:
   * false` rooms).
   */
  rooms: ManifestRoom[];
  /**
   * Its `m.federate: false` rooms that `rooms` leaves out because it publishes over federation:
   * only its client API lists them, yet its federation directory counts them in
   * `total_room_count_estimate`. Atlas reading over federation never sees them.
   */
  local_only_rooms: ManifestRoom[];
}

export interface Manifest {
  generated_by: 'atlas-simfed';
  seed: string;
  env: Record<string, string>;
  seeds: string[];
  /** The loopback block the servers live in (also in env.ATLAS_ALLOW_NETWORKS). */
  network: string;
  totals: {
    servers: number;
    reachable: number;
    publishing: number;
    /** Distinct rooms listed by reachable servers that publish over federation, minus no-index ones. */
    indexable_rooms: number;
    listings: number;
  };
  servers: ManifestServer[];
}
