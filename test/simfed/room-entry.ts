import type { SimRoom } from './model.ts';

/**
 * A `PublishedRoomsChunk` as Synapse builds it (synapse/handlers/room_list.py `build_room_entry`):
 * every field present, then the `None` ones dropped.
 */
export function roomEntry(room: SimRoom): Record<string, string | number | boolean> {
  const entry: Record<string, string | number | boolean | undefined> = {
    room_id: room.roomId,
    name: room.name,
    topic: room.topic,
    canonical_alias: room.canonicalAlias,
    num_joined_members: room.members,
    avatar_url: room.avatarUrl,
    world_readable: room.worldReadable,
    guest_can_join: room.guestCanJoin,
    join_rule: room.joinRule,
    room_type: room.roomType,
  };
  return Object.fromEntries(Object.entries(entry).filter(([, v]) => v !== undefined)) as Record<
    string,
    string | number | boolean
  >;
}

/**
 * The same entry as JSON text, built directly: rendering 200,000 entries through objects costs
 * seconds the simulator spends before it can serve.
 */
export function roomEntryJson(room: SimRoom): string {
  const q = JSON.stringify;
  let json = `{"room_id":${q(room.roomId)}`;
  if (room.name !== undefined) json += `,"name":${q(room.name)}`;
  if (room.topic !== undefined) json += `,"topic":${q(room.topic)}`;
  if (room.canonicalAlias !== undefined) json += `,"canonical_alias":${q(room.canonicalAlias)}`;
  json += `,"num_joined_members":${room.members}`;
  if (room.avatarUrl !== undefined) json += `,"avatar_url":${q(room.avatarUrl)}`;
  json += `,"world_readable":${room.worldReadable},"guest_can_join":${room.guestCanJoin},"join_rule":${q(room.joinRule)}`;
  if (room.roomType !== undefined) json += `,"room_type":${q(room.roomType)}`;
  return `${json}}`;
}

/** Synapse's complexity v1: current state events / 500, rounded to two places. */
export function complexityOf(room: SimRoom): number {
  return Math.round(room.stateEvents / 5) / 100;
}

/**
 * Broken entries a buggy or hostile server mixes into its directory. Each one lacks a usable
 * `room_id` or `num_joined_members`, so a careful crawler skips it and counts it.
 */
export function malformedEntry(server: string, k: number): string {
  const variants = [
    { name: 'No room id here', num_joined_members: 5, world_readable: false, guest_can_join: false },
    {
      room_id: 12345,
      name: 'Numeric room id',
      num_joined_members: 3,
      world_readable: false,
      guest_can_join: false,
    },
    {
      room_id: `!lots${k}:${server}`,
      num_joined_members: 'lots',
      world_readable: true,
      guest_can_join: false,
    },
    'not an object',
    null,
    { room_id: 'no-sigil', num_joined_members: 1, world_readable: false, guest_can_join: false },
    { room_id: `!neg${k}:${server}`, num_joined_members: -4, world_readable: false, guest_can_join: false },
    [`!array${k}:${server}`],
  ];
  return JSON.stringify(variants[k % variants.length]);
}
