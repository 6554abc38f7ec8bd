import type { Queryable } from '../client.ts';
import type { PgTimestamp } from '../timestamps.ts';

/** Reports from anyone about a room or a server, for the operator. */
export interface ReportRow {
  id: string;
  room_id: string | null;
  server_name: string | null;
  reason: string;
  created_at: PgTimestamp;
  resolved_at: PgTimestamp | null;
  resolution: string | null;
}

const REPORT_COLUMNS = 'id, room_id, server_name, reason, created_at, resolved_at, resolution';

/** Whether a room is known (a report may name only rooms Atlas lists or listed). */
export async function isKnownRoom(sql: Queryable, roomId: string): Promise<boolean> {
  return (await sql`select 1 from rooms where room_id = ${roomId}`).length > 0;
}

/** Whether a server is known. */
export async function isKnownServer(sql: Queryable, name: string): Promise<boolean> {
  return (await sql`select 1 from servers where name = ${name}`).length > 0;
}

export async function insertReport(
  sql: Queryable,
  report: { roomId: string | null; serverName: string | null; reason: string; reporterIp: string },
): Promise<number> {
  const [row] = await sql<{ id: string }[]>`
    insert into reports (room_id, server_name, reason, reporter_ip)
    values (${report.roomId}, ${report.serverName}, ${report.reason}, ${report.reporterIp})
    returning id`;
  return Number(row?.id);
}

/** Reports newest first, `limit` of them, before the report `before` when given. */
export async function listReports(
  sql: Queryable,
  query: { state: 'open' | 'resolved' | 'all'; limit: number; before?: number | undefined },
): Promise<ReportRow[]> {
  const state =
    query.state === 'open'
      ? sql`resolved_at is null`
      : query.state === 'resolved'
        ? sql`resolved_at is not null`
        : sql`true`;
  return sql<ReportRow[]>`
    select ${sql.unsafe(REPORT_COLUMNS)} from reports
    where ${state} ${query.before !== undefined ? sql`and id < ${query.before}` : sql``}
    order by id desc limit ${query.limit}`;
}

/**
 * Resolves an open report. Returns it, or `resolved` when it was resolved already, or undefined
 * when there is no such report.
 */
export async function resolveReport(
  sql: Queryable,
  id: number,
  resolution: string,
): Promise<ReportRow | 'resolved' | undefined> {
  const [row] = await sql<ReportRow[]>`
    update reports set resolved_at = now(), resolution = ${resolution}
    where id = ${id} and resolved_at is null
    returning ${sql.unsafe(REPORT_COLUMNS)}`;
  if (row) return row;
  const [exists] = await sql`select 1 from reports where id = ${id}`;
  return exists ? 'resolved' : undefined;
}
