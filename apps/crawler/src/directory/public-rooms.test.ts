import { describe, expect, it } from 'vitest';
import { DirectoryFormatError, parseDirectoryEntry, parseDirectoryPage } from './public-rooms.ts';

const room = (over: Record<string, unknown> = {}) => ({
  room_id: '!abc:example.org',
  num_joined_members: 12,
  world_readable: true,
  guest_can_join: false,
  name: 'Example',
  topic: 'All about examples',
  canonical_alias: '#example:example.org',
  avatar_url: 'mxc://example.org/abc',
  ...over,
});

describe('parseDirectoryPage', () => {
  it('reads a Synapse page', () => {
    const page = parseDirectoryPage({
      chunk: [room(), room({ room_id: '!def:other.org', join_rule: 'knock', room_type: 'm.space' })],
      next_batch: 'p123',
      total_room_count_estimate: 250,
    });
    expect(page.nextBatch).toBe('p123');
    expect(page.totalRoomCountEstimate).toBe(250);
    expect(page.malformed).toBe(0);
    expect(page.rooms).toEqual([
      {
        roomId: '!abc:example.org',
        name: 'Example',
        topic: 'All about examples',
        canonicalAlias: '#example:example.org',
        avatarUrl: 'mxc://example.org/abc',
        numJoinedMembers: 12,
        worldReadable: true,
        guestCanJoin: false,
        joinRule: 'public',
        roomType: null,
      },
      expect.objectContaining({ roomId: '!def:other.org', joinRule: 'knock', roomType: 'm.space' }),
    ]);
  });

  it('skips and counts malformed entries without losing the good ones', () => {
    const page = parseDirectoryPage({
      chunk: [
        room(),
        null,
        'a string',
        [1, 2],
        room({ room_id: undefined }),
        room({ room_id: 'not-a-room-id' }),
        room({ num_joined_members: -1 }),
        room({ num_joined_members: 1.5 }),
        room({ num_joined_members: '12' }),
        room({ room_id: '!ok:example.org', name: 42, topic: ['x'], canonical_alias: 'junk', avatar_url: 7 }),
      ],
    });
    expect(page.malformed).toBe(8);
    expect(page.rooms.map((r) => r.roomId)).toEqual(['!abc:example.org', '!ok:example.org']);
    expect(page.rooms[1]).toMatchObject({ name: null, topic: null, canonicalAlias: null, avatarUrl: null });
    expect(page.nextBatch).toBeUndefined();
  });

  it('sets aside no-index rooms, ours and MRS', () => {
    const page = parseDirectoryPage({
      chunk: [
        room({ room_id: '!a:x.org', topic: 'please (atlas-noindex) thanks' }),
        room({ room_id: '!b:x.org', topic: '(MRS-noindex:true-MRS)' }),
        room({ room_id: '!c:x.org', topic: 'hidden (MRS-\u202Enoindex:true-MRS)' }),
        room({ room_id: '!d:x.org' }),
      ],
    });
    expect(page.noindexRoomIds).toEqual(['!a:x.org', '!b:x.org', '!c:x.org']);
    expect(page.rooms.map((r) => r.roomId)).toEqual(['!d:x.org']);
  });

  it('treats a null or empty next_batch as the end', () => {
    expect(parseDirectoryPage({ chunk: [], next_batch: null }).nextBatch).toBeUndefined();
    expect(parseDirectoryPage({ chunk: [], next_batch: '' }).nextBatch).toBeUndefined();
  });

  it('refuses what is not a directory page', () => {
    expect(() => parseDirectoryPage({ rooms: [] })).toThrow(DirectoryFormatError);
    expect(() => parseDirectoryPage([])).toThrow(DirectoryFormatError);
    expect(() => parseDirectoryPage({ chunk: [], next_batch: 'x'.repeat(5000) })).toThrow(/next_batch/);
  });

  it('cleans names and caps member counts', () => {
    const parsed = parseDirectoryEntry(
      room({ name: '\u202Eevil\u0000 name', num_joined_members: 2 ** 40, join_rule: 'bad rule!' }),
    );
    expect(parsed?.room).toMatchObject({
      name: 'evil name',
      numJoinedMembers: 2_147_483_647,
      joinRule: 'public',
    });
  });
});
