import { mergeElementConfig } from '@atlas/shared/api';
import { z } from 'zod';

/** Atlas's Element feed: `GET /api/v1/element/config.json` → `{"room_directory":{"servers":[...]}}`. */
const feedSchema = z.object({
  room_directory: z.object({ servers: z.array(z.string()).max(1000) }),
});

// A server name as Element shows it: a DNS name or IP literal with an optional port.
const SERVER_NAME = /^(?:\[[0-9A-Fa-f:.]{2,45}\]|[A-Za-z0-9.-]{1,255})(?::\d{1,5})?$/;

export class FeedError extends Error {
  override name = 'FeedError';
}

/** The server names of a feed answer; anything that is not one is dropped. */
export function parseFeed(body: unknown): string[] {
  const parsed = feedSchema.safeParse(body);
  if (!parsed.success)
    throw new FeedError(`the feed is not {"room_directory":{"servers":[...]}}: ${parsed.error.message}`);
  return parsed.data.room_directory.servers
    .filter((name) => SERVER_NAME.test(name))
    .map((name) => name.toLowerCase());
}

/**
 * Element's config.json: the base config rendered by setup.sh with `room_directory.servers` set to
 * this homeserver first, then the feed's servers (no duplicates, at most `limit` in all), merged as
 * `atlas element-config --merge` does. Throws ElementConfigError when the base is not an object.
 */
export function withDirectoryServers(
  base: unknown,
  ownServer: string,
  feed: string[],
  limit: number,
): Record<string, unknown> {
  const servers: string[] = [];
  for (const name of [ownServer.toLowerCase(), ...feed]) {
    if (!servers.includes(name) && servers.length < limit) servers.push(name);
  }
  return mergeElementConfig(base, servers);
}
