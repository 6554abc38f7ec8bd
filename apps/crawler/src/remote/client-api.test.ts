import type { ResolvedServer } from '@atlas/shared/matrix';
import { describe, expect, it } from 'vitest';
import { clientEndpoints } from './client-api.ts';

const resolved = (over: Partial<ResolvedServer>): ResolvedServer => ({
  serverName: 'example.org',
  step: 'srv_matrix_fed',
  connectHost: 'matrix.example.org',
  connectPort: 8448,
  hostHeader: 'example.org',
  tlsServername: 'example.org',
  delegatedTo: undefined,
  ...over,
});

describe('clientEndpoints', () => {
  it('uses the well-known base URL alone when there is one, kept polite as the server itself', () => {
    expect(clientEndpoints('example.org', 'https://matrix.example.org', resolved({}))).toEqual([
      { baseUrl: 'https://matrix.example.org', politenessKey: 'example.org' },
    ]);
  });

  it('tries the server name, then the federation endpoint the way federation reaches it', () => {
    expect(clientEndpoints('example.org', null, resolved({}))).toEqual([
      { baseUrl: 'https://example.org', politenessKey: 'example.org' },
      {
        baseUrl: 'https://example.org',
        politenessKey: 'example.org',
        route: {
          connectTo: { host: 'matrix.example.org', port: 8448 },
          tlsServername: 'example.org',
          hostHeader: 'example.org',
        },
      },
    ]);
  });

  it('does not repeat an endpoint that is the server name itself', () => {
    const explicit = resolved({
      serverName: 'example.org:8448',
      step: 'explicit_port',
      connectHost: 'example.org',
      connectPort: 8448,
      hostHeader: 'example.org:8448',
    });
    expect(clientEndpoints('example.org:8448', null, explicit)).toEqual([
      { baseUrl: 'https://example.org:8448', politenessKey: 'example.org' },
    ]);
    expect(clientEndpoints('example.org', null, undefined)).toEqual([
      { baseUrl: 'https://example.org', politenessKey: 'example.org' },
    ]);
  });
});
