import {
  type LeftOutServer,
  type ListableServerRow,
  leftOutServers,
  listableServerRows,
} from '@atlas/shared/db';
import { parseServerName } from '@atlas/shared/matrix';
import type { Sql } from 'postgres';

export interface ElementFeedOptions {
  limit: number;
  /** Listed first, in this order, whatever the filters say (the operator's own servers). */
  include?: string[] | undefined;
  exclude?: string[] | undefined;
  /** Only servers whose registration is open. */
  registrationOpen?: boolean | undefined;
  /** Only these server implementations (case-insensitive). */
  software?: string[] | undefined;
  /** Atlas's own server name: Atlas answers publicRooms itself, so it leads the list. */
  self?: string | undefined;
  /** Servers the operator vouches for (ATLAS_VOUCHED_SERVERS): a flag for review does not keep them out. */
  vouched: readonly string[];
}

/** Why a server Atlas could list is not in this feed: the feed's own options. */
export const FEED_REASONS = {
  excluded: 'excluded by the request (exclude)',
  registration_closed: 'its registration is not open (registration_open)',
  software: 'runs other software than the request asks for (software)',
  beyond_limit: 'ranked below the requested number of servers (limit)',
} as const;

export interface FeedLeftOut {
  name: string;
  reason: LeftOutServer['reason'] | keyof typeof FEED_REASONS;
  explanation: string;
  room_count: number | null;
}

export interface ElementFeedExplained {
  servers: string[];
  /** Every server left out and why, most rooms first (at most `leftOutLimit`). */
  left_out: FeedLeftOut[];
}

/**
 * The feed from the servers Atlas may list (`listableCondition`: online, directory last read over
 * federation with rooms in it, not flagged unless vouched for), best first for someone browsing:
 * most rooms, then best uptime. The feed's options are applied here and nowhere else, so the list
 * and its explanation cannot disagree.
 */
async function rankFeed(
  sql: Sql,
  options: ElementFeedOptions,
): Promise<{ servers: string[]; skipped: FeedLeftOut[]; leading: Set<string> }> {
  const exclude = new Set((options.exclude ?? []).map((name) => name.toLowerCase()));
  const leading: string[] = [];
  for (const name of [options.self, ...(options.include ?? [])]) {
    const parsed = name ? parseServerName(name) : null;
    if (parsed && !exclude.has(parsed.name) && !leading.includes(parsed.name)) leading.push(parsed.name);
  }
  const software = new Set(options.software?.map((s) => s.toLowerCase()) ?? []);
  const candidates = await listableServerRows(sql, options.vouched);
  const servers = leading.slice(0, options.limit);
  const skipped: FeedLeftOut[] = [];
  const skip = (candidate: ListableServerRow, reason: keyof typeof FEED_REASONS) =>
    skipped.push({
      name: candidate.name,
      reason,
      explanation: FEED_REASONS[reason],
      room_count: candidate.room_count,
    });
  for (const candidate of candidates) {
    if (leading.includes(candidate.name)) continue;
    if (exclude.has(candidate.name)) skip(candidate, 'excluded');
    else if (options.registrationOpen && candidate.registration !== 'open')
      skip(candidate, 'registration_closed');
    else if (software.size > 0 && !software.has((candidate.software_name ?? '').toLowerCase()))
      skip(candidate, 'software');
    else if (servers.length >= options.limit) skip(candidate, 'beyond_limit');
    else servers.push(candidate.name);
  }
  return { servers, skipped, leading: new Set(leading) };
}

/** Servers for Element's `room_directory.servers`, best first. */
export async function elementServerList(sql: Sql, options: ElementFeedOptions): Promise<string[]> {
  return (await rankFeed(sql, options)).servers;
}

/**
 * The feed and, for the operator, why every other server is not in it: first the feed's own
 * options, then the reasons Atlas lists no server for (offline, refuses publicRooms over
 * federation, read only through the client API, empty, flagged...). `names` narrows the
 * explanation to those servers.
 */
export async function explainElementFeed(
  sql: Sql,
  options: ElementFeedOptions & { leftOutLimit: number; names?: string[] | undefined },
): Promise<ElementFeedExplained> {
  const { servers, skipped, leading } = await rankFeed(sql, options);
  const wanted = options.names ? new Set(options.names.map((name) => name.toLowerCase())) : undefined;
  const rule = await leftOutServers(sql, options.vouched, {
    limit: options.leftOutLimit,
    names: options.names?.map((name) => name.toLowerCase()),
  });
  const left_out = [
    ...skipped.filter((s) => !wanted || wanted.has(s.name)),
    ...rule
      .filter((s) => !leading.has(s.name))
      .map(({ name, reason, explanation, room_count }) => ({ name, reason, explanation, room_count })),
  ]
    .sort((a, b) => (b.room_count ?? 0) - (a.room_count ?? 0) || (a.name < b.name ? -1 : 1))
    .slice(0, options.leftOutLimit);
  return { servers, left_out };
}
