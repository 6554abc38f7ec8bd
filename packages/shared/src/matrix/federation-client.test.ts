import { describe, expect, it } from 'vitest';
import { federationRequestTarget } from './federation-client.ts';

describe('federationRequestTarget', () => {
  it('encodes the query once, leaving out undefined values', () => {
    expect(
      federationRequestTarget('/_matrix/federation/v1/publicRooms', {
        limit: 100,
        since: 'a b+c/d=e&f',
        include_all_networks: undefined,
      }),
    ).toBe('/_matrix/federation/v1/publicRooms?limit=100&since=a%20b%2Bc%2Fd%3De%26f');
  });

  it('keeps an already-encoded path as it is', () => {
    const roomId = encodeURIComponent('!abc:example.org');
    expect(federationRequestTarget(`/_matrix/federation/v1/hierarchy/${roomId}`)).toBe(
      '/_matrix/federation/v1/hierarchy/!abc%3Aexample.org',
    );
    expect(
      federationRequestTarget('/_matrix/federation/v1/query/directory', {
        room_alias: '#général:example.org',
      }),
    ).toBe('/_matrix/federation/v1/query/directory?room_alias=%23g%C3%A9n%C3%A9ral%3Aexample.org');
  });

  it('refuses paths that carry their own query or are not absolute', () => {
    expect(() => federationRequestTarget('/_matrix/x?limit=1')).toThrow(/pass the query separately/);
    expect(() => federationRequestTarget('_matrix/x')).toThrow(/not a request path/);
    expect(() => federationRequestTarget('/_matrix/x#frag')).toThrow(/not a request path/);
  });
});
