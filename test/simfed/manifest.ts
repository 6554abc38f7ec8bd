import { hasNoindexTag } from '@atlas/shared/matrix';
import { listenerId, type Placement } from './layout.ts';
import { mediaApiOf } from './media.ts';
import {
  type Federation,
  type Manifest,
  type ManifestRoom,
  type ManifestServer,
  REACHABLE_BEHAVIOURS,
} from './model.ts';
import { complexityOf } from './room-entry.ts';

export interface ManifestInputs {
  federation: Federation;
  placements: Map<string, Placement>;
  env: Record<string, string>;
  network: string;
}

/** What tests, the demo and the benchmark read: every server and room as the simulator serves them. */
export function buildManifest({ federation, placements, env, network }: ManifestInputs): Manifest {
  const roomCache = new Map<string, ManifestRoom>();
  const manifestRoom = (roomId: string): ManifestRoom | undefined => {
    const cached = roomCache.get(roomId);
    if (cached) return cached;
    const room = federation.rooms.get(roomId);
    if (!room) return undefined;
    const entry: ManifestRoom = {
      room_id: room.roomId,
      room_version: room.roomVersion,
      name: room.name ?? null,
      topic: room.topic ?? null,
      canonical_alias: room.canonicalAlias ?? null,
      num_joined_members: room.members,
      noindex: hasNoindexTag(room.topic),
      complexity: complexityOf(room),
      servers_in_room: [...room.residents],
      room_type: room.roomType ?? null,
      join_rule: room.joinRule,
      world_readable: room.worldReadable,
      guest_can_join: room.guestCanJoin,
      avatar_url: room.avatarUrl ?? null,
      avatar_media: room.avatarUrl ? (room.avatarMedia ?? 'png') : null,
      hostile: room.hostile,
      federate: room.federate,
    };
    roomCache.set(roomId, entry);
    return entry;
  };

  const indexable = new Set<string>();
  let listings = 0;
  const servers: ManifestServer[] = federation.servers.map((server) => {
    const placement = placements.get(server.name);
    // As the directory serves them: Synapse lists no room without joined members.
    const listed = server.listed
      .map(manifestRoom)
      .filter((r): r is ManifestRoom => r !== undefined && r.num_joined_members > 0)
      .sort((a, b) => b.num_joined_members - a.num_joined_members || (a.room_id < b.room_id ? 1 : -1));
    // Over federation, rooms that do not federate are left out: Atlas reads them only where it
    // reads the client API, that is where the server does not publish over federation.
    const rooms = server.publishes ? listed.filter((r) => r.federate) : listed;
    const localOnly = server.publishes ? listed.filter((r) => !r.federate) : [];
    const reachable = REACHABLE_BEHAVIOURS.has(server.behaviour);
    listings += rooms.length;
    if (reachable && server.publishes)
      for (const room of rooms) if (!room.noindex) indexable.add(room.room_id);
    return {
      name: server.name,
      reachable,
      behaviour: server.behaviour,
      publishes: server.publishes,
      client_directory: server.clientDirectory,
      software: server.software.name,
      version: server.software.version,
      media_api: mediaApiOf(server.software),
      resolution: server.resolution,
      delegated_to: server.delegatedTo ?? null,
      srv: server.srv ? `${server.srv.owner} -> ${server.srv.target}:${server.srv.port}` : null,
      address_records:
        server.behaviour === 'offline_no_dns' || server.resolution === 'ip_literal'
          ? 'none'
          : server.addressRecords,
      endpoint: placement?.endpoint ? listenerId(placement.endpoint) : null,
      registration: server.registration.open ? 'open' : 'closed',
      registration_stages: server.registration.flows,
      contacts: server.support?.contacts ?? [],
      support_page: server.support?.support_page ?? null,
      client_well_known: server.clientWellKnown,
      found_via: server.foundVia,
      malformed_entries: server.malformed,
      key_id: server.keyId,
      access_token: server.accessToken,
      endless: server.endless !== undefined,
      rooms,
      local_only_rooms: localOnly,
    };
  });
  return {
    generated_by: 'atlas-simfed',
    seed: federation.seed,
    env,
    seeds: [...federation.seeds],
    network,
    totals: {
      servers: servers.length,
      reachable: servers.filter((s) => s.reachable).length,
      publishing: servers.filter((s) => s.reachable && s.publishes).length,
      indexable_rooms: indexable.size,
      listings,
    },
    servers,
  };
}
