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
}

export interface ElementConfigFeed {
  room_directory: { servers: string[] };
}

/**
 * Servers for Element's `room_directory.servers`, best first for someone browsing: online now,
 * publishing their directory over federation, most rooms, best uptime.
 */
export async function elementServerList(sql: Sql, options: ElementFeedOptions): Promise<string[]> {
  const exclude = new Set((options.exclude ?? []).map((name) => name.toLowerCase()));
  const leading: string[] = [];
  for (const name of [options.self, ...(options.include ?? [])]) {
    const parsed = name ? parseServerName(name) : null;
    if (parsed && !exclude.has(parsed.name) && !leading.includes(parsed.name)) leading.push(parsed.name);
  }
  const remaining = Math.max(0, options.limit - leading.length);
  if (remaining === 0) return leading.slice(0, options.limit);
  const skip = [...exclude, ...leading];
  const software = options.software?.map((s) => s.toLowerCase()) ?? [];
  const rows = await sql<{ name: string }[]>`
    select name from servers
    where status in ('online', 'offline')
      and name <> all(${skip}::text[])
      ${options.registrationOpen ? sql`and registration = 'open'` : sql``}
      ${software.length > 0 ? sql`and lower(software_name) = any(${software}::text[])` : sql``}
    order by (status = 'online') desc, (publishes is true) desc, coalesce(room_count, 0) desc,
             coalesce(uptime_30d, 0) desc, name
    limit ${remaining}`;
  return [...leading, ...rows.map((row) => row.name)];
}

export class ElementConfigError extends Error {
  override name = 'ElementConfigError';
}

/**
 * An Element config.json with `room_directory.servers` replaced and everything else kept as it
 * was. Refuses anything that is not a JSON object, rather than overwrite a file it misread.
 */
export function mergeElementConfig(config: unknown, servers: string[]): Record<string, unknown> {
  if (typeof config !== 'object' || config === null || Array.isArray(config)) {
    throw new ElementConfigError('the Element config is not a JSON object');
  }
  const existing = (config as Record<string, unknown>).room_directory;
  if (
    existing !== undefined &&
    (typeof existing !== 'object' || existing === null || Array.isArray(existing))
  ) {
    throw new ElementConfigError('"room_directory" in the Element config is not an object');
  }
  return {
    ...(config as Record<string, unknown>),
    room_directory: { ...((existing as Record<string, unknown> | undefined) ?? {}), servers },
  };
}
