import { createHash } from 'node:crypto';
import type { FederationBuilder } from './builder.ts';
import type { MediaKind } from './media.ts';
import type { Behaviour, Federation, FoundVia, SimServer } from './model.ts';
import { Rng } from './prng.ts';

/** Changes between two crawls. Room ids and server names are those of the manifest. */
export interface Mutation {
  /** Taken out of every directory (Atlas should mark them stale, not delete them). */
  removeRooms?: string[];
  /** `null` removes the name. */
  renameRooms?: { roomId: string; name: string | null }[];
  changeTopics?: { roomId: string; topic: string | null }[];
  /** New member counts; state events (and so complexity) follow unless given. */
  changeMembers?: { roomId: string; members: number; stateEvents?: number }[];
  /** New rooms in these servers' directories. */
  addRooms?: { server: string; count: number }[];
  /** New servers, each findable from an existing publishing server. */
  addServers?: { count: number; foundVia?: FoundVia['kind'] };
  /** Turn federation publishing on or off (off answers 403 M_FORBIDDEN). */
  setPublishes?: { server: string; publishes: boolean }[];
  /**
   * Change how a server behaves on the wire from its next connection on: a server that goes down
   * (`stall_tls`, `stall_response`, `trickle`) or comes back (`normal`, `slow`). Behaviours that
   * live in DNS (`offline_refused`, `offline_no_dns`) cannot be switched to.
   */
  setBehaviour?: { server: string; behaviour: Exclude<Behaviour, 'offline_refused' | 'offline_no_dns'> }[];
  /**
   * Gives rooms an avatar held by `server` (default: the first server listing the room) that its
   * origin serves as `media` (media.ts: plain images and hostile answers).
   */
  setAvatars?: { roomId: string; media: MediaKind; server?: string }[];
}

export interface ChangeSummary {
  removedRooms: string[];
  renamedRooms: string[];
  changedTopics: string[];
  changedMembers: string[];
  /** Rooms that appeared in a directory, with the server that lists them. */
  addedRooms: { server: string; roomId: string }[];
  addedServers: string[];
  publishingChanged: string[];
  behaviourChanged: string[];
  /** Rooms whose avatar changed, with its new `mxc://`. */
  avatarsSet: { roomId: string; avatarUrl: string }[];
}

export interface MutationResult {
  summary: ChangeSummary;
  changedRooms: Set<string>;
  newServers: SimServer[];
}

function serverByName(federation: Federation, name: string): SimServer {
  const server = federation.servers.find((s) => s.name === name.toLowerCase());
  if (!server) throw new Error(`no simulated server named ${name}`);
  return server;
}

/** Applies a mutation to the model. The caller refreshes caches, DNS and routes afterwards. */
export function applyMutation(
  federation: Federation,
  builder: FederationBuilder,
  mutation: Mutation,
): MutationResult {
  const summary: ChangeSummary = {
    removedRooms: [],
    renamedRooms: [],
    changedTopics: [],
    changedMembers: [],
    addedRooms: [],
    addedServers: [],
    publishingChanged: [],
    behaviourChanged: [],
    avatarsSet: [],
  };
  const changedRooms = new Set<string>();
  const room = (roomId: string) => {
    const found = federation.rooms.get(roomId);
    if (!found) throw new Error(`no simulated room ${roomId}`);
    changedRooms.add(roomId);
    return found;
  };

  const removing = new Set(mutation.removeRooms ?? []);
  if (removing.size > 0) {
    for (const id of removing) room(id);
    for (const server of federation.servers) {
      if (server.listed.some((id) => removing.has(id))) {
        for (const id of server.listed) if (removing.has(id)) builder.unlist(server, id);
      }
    }
    summary.removedRooms.push(...removing);
  }
  for (const { roomId, name } of mutation.renameRooms ?? []) {
    room(roomId).name = name ?? undefined;
    summary.renamedRooms.push(roomId);
  }
  for (const { roomId, topic } of mutation.changeTopics ?? []) {
    room(roomId).topic = topic ?? undefined;
    summary.changedTopics.push(roomId);
  }
  for (const { roomId, members, stateEvents } of mutation.changeMembers ?? []) {
    const r = room(roomId);
    const ratio = r.stateEvents / Math.max(1, r.members);
    r.members = members;
    r.stateEvents = stateEvents ?? Math.max(6, Math.floor(members * ratio));
    summary.changedMembers.push(roomId);
  }
  for (const { server: name, count } of mutation.addRooms ?? []) {
    const server = serverByName(federation, name);
    // By index, not name: IP-literal names hold the address block, which differs between runs.
    const rng = new Rng(`${federation.seed}/added/${server.index}/${server.listed.length}`);
    for (let k = 0; k < count; k++) {
      const added = builder.addListing(server, rng.fork(k));
      changedRooms.add(added.roomId);
      summary.addedRooms.push({ server: server.name, roomId: added.roomId });
    }
  }
  for (const { server: name, publishes } of mutation.setPublishes ?? []) {
    serverByName(federation, name).publishes = publishes;
    summary.publishingChanged.push(name);
  }
  for (const { server: name, behaviour } of mutation.setBehaviour ?? []) {
    const server = serverByName(federation, name);
    if (server.behaviour === 'offline_refused' || server.behaviour === 'offline_no_dns') {
      throw new Error(`${name} has no address to answer on; it cannot become ${behaviour}`);
    }
    server.behaviour = behaviour;
    summary.behaviourChanged.push(name);
  }
  for (const { roomId, media, server: holder } of mutation.setAvatars ?? []) {
    const r = room(roomId);
    const origin = holder ?? federation.servers.find((s) => s.listed.includes(roomId))?.name;
    if (!origin) throw new Error(`no server lists ${roomId}; name the avatar's server`);
    const id = `${media}_${createHash('sha256').update(roomId).digest('hex').slice(0, 16)}`;
    r.avatarUrl = `mxc://${origin}/${id}`;
    r.avatarMedia = media;
    summary.avatarsSet.push({ roomId, avatarUrl: r.avatarUrl });
  }
  const newServers: SimServer[] = [];
  for (let k = 0; k < (mutation.addServers?.count ?? 0); k++) {
    const rng = new Rng(`${federation.seed}/new-server/${federation.servers.length}`);
    const server = builder.addServer({
      listings: rng.int(3, 40),
      seed: false,
      traits: { behaviour: 'normal', publishes: true },
      ...(mutation.addServers?.foundVia ? { foundVia: mutation.addServers.foundVia } : {}),
    });
    newServers.push(server);
    summary.addedServers.push(server.name);
    const via = server.foundVia;
    if (via.kind !== 'seed') {
      const bridge = via.kind === 'hierarchy' ? via.space_id : via.room_id;
      changedRooms.add(bridge);
      summary.addedRooms.push({ server: via.from, roomId: bridge });
    }
    for (const id of server.listed) {
      changedRooms.add(id);
      summary.addedRooms.push({ server: server.name, roomId: id });
    }
  }
  return { summary, changedRooms, newServers };
}

/**
 * A seeded round of changes, the kind a real federation sees between two crawls: some rooms
 * unpublished, renamed, growing or shrinking, new rooms, new servers. Rooms that are some server's
 * only discovery path are left in place, so every server stays findable.
 */
export function seededChanges(federation: Federation, label: string): Mutation {
  const rng = new Rng(`${federation.seed}/changes/${label}`);
  const protectedRooms = new Set<string>();
  for (const server of federation.servers) {
    const via = server.foundVia;
    if (via.kind === 'hierarchy') protectedRooms.add(via.space_id);
    else if (via.kind !== 'seed') protectedRooms.add(via.room_id);
  }
  const candidates = federation.servers.filter(
    (s) => s.behaviour === 'normal' && s.publishes && s.listed.length > 0,
  );
  // Model order, not sorted ids: IP-literal room ids hold the address block, which differs between runs.
  const listed = [...new Set(candidates.flatMap((s) => s.listed))].filter((id) => !protectedRooms.has(id));
  rng.shuffle(listed);
  const share = (fraction: number) => Math.max(1, Math.round(listed.length * fraction));
  let at = 0;
  const take = (count: number) => {
    const out = listed.slice(at, at + count);
    at += count;
    return out;
  };
  const removeRooms = take(share(0.03));
  const renameRooms = take(share(0.03)).map((roomId) => ({ roomId, name: `Renamed ${rng.token(6)}` }));
  const changeMembers = take(share(0.1)).map((roomId) => {
    const current = federation.rooms.get(roomId)?.members ?? 1;
    return { roomId, members: Math.max(1, Math.round(current * (0.5 + rng.next() * 1.5)) + rng.int(0, 5)) };
  });
  const addRooms = rng
    .shuffle([...candidates])
    .slice(0, Math.min(candidates.length, 5))
    .map((s) => ({ server: s.name, count: rng.int(1, 5) }));
  return {
    removeRooms,
    renameRooms,
    changeMembers,
    addRooms,
    addServers: { count: Math.max(1, Math.round(federation.servers.length / 50)) },
  };
}
