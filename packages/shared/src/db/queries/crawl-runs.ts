import type { Sql } from 'postgres';
import type { Queryable } from '../client.ts';

export type CrawlMode = 'federation' | 'client' | 'via';
export type CrawlRunStatus = 'complete' | 'partial' | 'forbidden' | 'failed';

export interface StartedCrawlRun {
  id: number;
  /** Database time the run started (as PostgreSQL prints it); listings not seen since are gone after a complete run. */
  startedAt: string;
}

/**
 * Opens a run for a server. A run still marked running belongs to a crawl that died (a killed
 * process, a lost job): it is closed as superseded, so each server has at most one open run.
 */
export async function startCrawlRun(sql: Sql, serverName: string, mode: CrawlMode): Promise<StartedCrawlRun> {
  return sql.begin(async (tx) => {
    await tx`update crawl_runs set status = 'failed', stop_reason = 'superseded', finished_at = now()
      where server_name = ${serverName} and status = 'running'`;
    const rows = await tx<{ id: string | number; startedAt: string }[]>`
      insert into crawl_runs (server_name, mode) values (${serverName}, ${mode})
      returning id, started_at as "startedAt"`;
    const row = rows[0];
    if (!row) throw new Error('insert into crawl_runs returned nothing');
    return { id: Number(row.id), startedAt: row.startedAt };
  });
}

export interface FinishedCrawlRun {
  mode: CrawlMode;
  status: CrawlRunStatus;
  stopReason: string;
  pages: number;
  roomsSeen: number;
  roomsStored: number;
  roomsMalformed: number;
  roomsNoindex: number;
  error: string | null;
}

export async function finishCrawlRun(sql: Sql, id: number, run: FinishedCrawlRun): Promise<void> {
  await sql`update crawl_runs set
      mode = ${run.mode}, status = ${run.status}, stop_reason = ${run.stopReason}, pages = ${run.pages},
      rooms_seen = ${run.roomsSeen}, rooms_stored = ${run.roomsStored}, rooms_malformed = ${run.roomsMalformed},
      rooms_noindex = ${run.roomsNoindex}, error = ${run.error}, finished_at = now()
    where id = ${id} and status = 'running'`;
}

/** Directory reads started in the last day, by status and stop reason (for the metrics). */
export async function crawlRunsLastDay(
  sql: Queryable,
): Promise<{ status: string; stopReason: string | null; runs: number }[]> {
  const rows = await sql<{ status: string; reason: string | null; n: string }[]>`
    select status, stop_reason as reason, count(*) as n from crawl_runs
    where started_at > now() - interval '1 day' group by 1, 2`;
  return rows.map((row) => ({ status: row.status, stopReason: row.reason, runs: Number(row.n) }));
}

/** Directory pages read by the reads started in the last day. */
export async function crawlPagesLastDay(sql: Queryable): Promise<number> {
  const [row] = await sql<{ n: string | null }[]>`
    select sum(pages) as n from crawl_runs where started_at > now() - interval '1 day'`;
  return Number(row?.n ?? 0);
}
