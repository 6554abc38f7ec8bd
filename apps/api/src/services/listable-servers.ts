import { listableServers } from '@atlas/shared/db';
import type { Sql } from 'postgres';

/** How long the list is kept: it changes only when directory reads and probes finish. */
const KEEP_MS = 30_000;

/**
 * The servers Atlas may point clients at, read from the database at most every half minute per
 * app: Matrix directory requests ask for it on every page. Concurrent requests share one read.
 */
export function listableServersCache(): (sql: Sql, vouched: readonly string[]) => Promise<string[]> {
  let kept: { at: number; key: string; servers: Promise<string[]> } | undefined;
  return (sql, vouched) => {
    const key = vouched.join(',');
    const now = Date.now();
    if (!kept || kept.key !== key || now - kept.at > KEEP_MS) {
      const entry = { at: now, key, servers: listableServers(sql, vouched) };
      // A failed read is not kept: the next request tries again.
      entry.servers.catch(() => {
        if (kept === entry) kept = undefined;
      });
      kept = entry;
    }
    return kept.servers;
  };
}
