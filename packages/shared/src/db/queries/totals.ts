import type { Queryable } from '../client.ts';

/**
 * What the directory holds, counted one way for everyone who shows a count: the stats page and
 * `/api/v1/stats`, the summary of `atlas crawl --once`, and the metrics.
 *
 * A server an operator blocked and a room that is hidden (by an operator, or by a no-index tag in
 * its topic) are not part of the directory: no count of servers or rooms includes them, and they are
 * counted on their own (`servers.blocked`, `rooms.hidden`). So the parts add up: `servers.total` is
 * the sum of `servers.byStatus`, and `rooms.total` is `rooms.listed` plus `rooms.stale`.
 */
export interface DirectoryTotals {
  servers: {
    total: number;
    byStatus: { new: number; online: number; offline: number; invalid: number };
    blocked: number;
    /** Online servers that publish their directory over federation (Atlas read it that way). */
    publishing: number;
    /** Online servers that refuse publicRooms over federation (403). */
    notPublishing: number;
    /** Online servers whose registration is open. */
    openRegistration: number;
  };
  rooms: {
    total: number;
    /** Listed by some server now. */
    listed: number;
    /** Listed by no server any more (kept, with their history). */
    stale: number;
    hidden: number;
    spaces: number;
    /** Members of the listed rooms, added up. */
    members: number;
    withComplexity: number;
    /** Rooms whose complexity is an estimate from their members. */
    estimated: number;
  };
}

export async function directoryTotals(sql: Queryable): Promise<DirectoryTotals> {
  const [[servers], [rooms]] = await Promise.all([
    sql<Record<string, string>[]>`
      select count(*) filter (where status <> 'blocked') as total,
        count(*) filter (where status = 'new') as new,
        count(*) filter (where status = 'online') as online,
        count(*) filter (where status = 'offline') as offline,
        count(*) filter (where status = 'invalid') as invalid,
        count(*) filter (where status = 'blocked') as blocked,
        count(*) filter (where status = 'online' and publishes is true) as publishing,
        count(*) filter (where status = 'online' and publishes is false) as not_publishing,
        count(*) filter (where status = 'online' and registration = 'open') as open_registration
      from servers`,
    sql<Record<string, string>[]>`
      select count(*) filter (where not hidden) as total,
        count(*) filter (where not hidden and stale_since is null) as listed,
        count(*) filter (where not hidden and stale_since is not null) as stale,
        count(*) filter (where hidden) as hidden,
        count(*) filter (where not hidden and room_type = 'm.space') as spaces,
        coalesce(sum(num_joined_members) filter (where not hidden and stale_since is null), 0) as members,
        count(*) filter (where not hidden and complexity is not null) as with_complexity,
        count(*) filter (where not hidden and complexity_source = 'estimate') as estimated
      from rooms`,
  ]);
  const s = (column: string) => Number(servers?.[column] ?? 0);
  const r = (column: string) => Number(rooms?.[column] ?? 0);
  return {
    servers: {
      total: s('total'),
      byStatus: { new: s('new'), online: s('online'), offline: s('offline'), invalid: s('invalid') },
      blocked: s('blocked'),
      publishing: s('publishing'),
      notPublishing: s('not_publishing'),
      openRegistration: s('open_registration'),
    },
    rooms: {
      total: r('total'),
      listed: r('listed'),
      stale: r('stale'),
      hidden: r('hidden'),
      spaces: r('spaces'),
      members: r('members'),
      withComplexity: r('with_complexity'),
      estimated: r('estimated'),
    },
  };
}
