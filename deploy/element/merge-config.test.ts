import { ElementConfigError } from '@atlas/shared/api';
import { describe, expect, it } from 'vitest';
import { FeedError, parseFeed, withDirectoryServers } from './merge-config.ts';

const base = {
  default_server_config: { 'm.homeserver': { base_url: 'https://example.org' } },
  room_directory: { servers: ['example.org'] },
  brand: 'Element',
};

describe("Element's room directory from Atlas's feed", () => {
  it('puts this homeserver first, then the feed, without duplicates, and keeps the rest of the config', () => {
    const feed = parseFeed({
      room_directory: { servers: ['directory.example.org', 'Example.org', 'small.server:8448'] },
    });
    const config = withDirectoryServers(base, 'example.org', feed, 20);
    expect(config.room_directory).toEqual({
      servers: ['example.org', 'directory.example.org', 'small.server:8448'],
    });
    expect(config.brand).toBe('Element');
    expect(config.default_server_config).toEqual(base.default_server_config);
  });

  it('caps the list', () => {
    const feed = Array.from({ length: 50 }, (_, i) => `s${i}.example`);
    const config = withDirectoryServers(base, 'example.org', feed, 5);
    expect((config.room_directory as { servers: string[] }).servers).toHaveLength(5);
  });

  it('drops entries that are not server names, and refuses a feed of another shape', () => {
    expect(parseFeed({ room_directory: { servers: ['ok.example', '<script>', 'a b', ''] } })).toEqual([
      'ok.example',
    ]);
    expect(() => parseFeed({ servers: ['x.example'] })).toThrow(FeedError);
    expect(() => withDirectoryServers([], 'example.org', [], 5)).toThrow(ElementConfigError);
  });
});
