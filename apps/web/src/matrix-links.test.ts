import { describe, expect, it } from 'vitest';
import {
  complexityLevel,
  elementRoomUrl,
  matrixToUrl,
  parseRoomReference,
  roomPath,
  viaServers,
} from './matrix-links.ts';

const room = {
  room_id: '!abc:origin.example',
  canonical_alias: '#rust:alias.example',
  servers: ['lister.example', 'origin.example', 'other.example'],
};

describe('join links', () => {
  it('names the room’s own server first, then the listing servers, once each', () => {
    expect(viaServers(room)).toEqual(['origin.example', 'lister.example', 'other.example']);
    // Room version 12 ids have no server: the alias's server leads.
    expect(viaServers({ ...room, room_id: '!hashonly' })).toEqual([
      'alias.example',
      'lister.example',
      'origin.example',
      'other.example',
    ]);
  });

  it('builds matrix.to links by alias, percent-encoded, with via', () => {
    expect(matrixToUrl(room)).toBe(
      'https://matrix.to/#/%23rust%3Aalias.example?via=origin.example&via=lister.example&via=other.example',
    );
    expect(matrixToUrl({ room_id: '!x:a.example', canonical_alias: null, servers: [] })).toBe(
      'https://matrix.to/#/!x%3Aa.example?via=a.example',
    );
  });

  it('opens the room in the configured Element', () => {
    expect(elementRoomUrl('https://chat.example/', room)).toBe(
      'https://chat.example/#/room/%23rust%3Aalias.example?via=origin.example&via=lister.example&via=other.example',
    );
  });

  it('links a room’s page with its id encoded', () => {
    expect(roomPath('!abc:origin.example')).toBe('/rooms/!abc%3Aorigin.example');
  });
});

describe('complexity for a small server', () => {
  it('is light up to half of Synapse’s default limit, heavy above it, unknown without a value', () => {
    expect(complexityLevel(0.2)).toBe('light');
    expect(complexityLevel(0.5)).toBe('light');
    expect(complexityLevel(0.8)).toBe('moderate');
    expect(complexityLevel(1)).toBe('moderate');
    expect(complexityLevel(1.01)).toBe('heavy');
    expect(complexityLevel(null)).toBe('unknown');
    expect(complexityLevel(3, 5)).toBe('moderate');
  });
});

describe('room references typed into the search box', () => {
  it('reads aliases, room ids and matrix.to links', () => {
    expect(parseRoomReference('#rust:example.org')).toEqual({ alias: '#rust:example.org' });
    expect(parseRoomReference(' !abc:example.org ')).toEqual({ roomId: '!abc:example.org' });
    expect(parseRoomReference('https://matrix.to/#/%23rust%3Aexample.org?via=a.example')).toEqual({
      alias: '#rust:example.org',
    });
    expect(parseRoomReference('https://matrix.to/#/#rust:example.org')).toEqual({
      alias: '#rust:example.org',
    });
  });

  it('leaves plain words and broken links alone', () => {
    expect(parseRoomReference('rust programming')).toBeNull();
    expect(parseRoomReference('#hashtag')).toBeNull();
    expect(parseRoomReference('https://matrix.to/#/%E0%A4%A')).toBeNull();
  });
});
