import type { Sql } from 'postgres';

export interface StoredTotals {
  servers: { total: number; byStatus: Record<string, number>; publishing: number; notPublishing: number };
  rooms: {
    total: number;
    listed: number;
    stale: number;
    hidden: number;
    withComplexity: number;
    estimated: number;
  };
}

/** Totals of what is stored, for progress lines and `crawl --once --json`. */
export async function storedTotals(sql: Sql): Promise<StoredTotals> {
  const [servers, byStatus, rooms] = await Promise.all([
    sql<{ total: string; publishing: string; not_publishing: string }[]>`
      select count(*) as total, count(*) filter (where publishes) as publishing,
        count(*) filter (where publishes = false) as not_publishing from servers`,
    sql<{ status: string; n: string }[]>`select status, count(*) as n from servers group by status`,
    sql<
      {
        total: string;
        listed: string;
        stale: string;
        hidden: string;
        with_complexity: string;
        estimated: string;
      }[]
    >`
      select count(*) as total, count(*) filter (where stale_since is null and not hidden) as listed,
        count(*) filter (where stale_since is not null) as stale,
        count(*) filter (where hidden) as hidden,
        count(*) filter (where complexity is not null) as with_complexity,
        count(*) filter (where complexity_source = 'estimate') as estimated
      from rooms`,
  ]);
  const s = servers[0];
  const r = rooms[0];
  return {
    servers: {
      total: Number(s?.total ?? 0),
      byStatus: Object.fromEntries(byStatus.map((row) => [row.status, Number(row.n)])),
      publishing: Number(s?.publishing ?? 0),
      notPublishing: Number(s?.not_publishing ?? 0),
    },
    rooms: {
      total: Number(r?.total ?? 0),
      listed: Number(r?.listed ?? 0),
      stale: Number(r?.stale ?? 0),
      hidden: Number(r?.hidden ?? 0),
      withComplexity: Number(r?.with_complexity ?? 0),
      estimated: Number(r?.estimated ?? 0),
    },
  };
}
