import { type PgTimestamp, timestampToIso } from '@atlas/shared/search';
import type { Sql } from 'postgres';
import { ApiError } from '../errors.ts';

export interface ApiReport {
  id: number;
  room_id: string | null;
  server_name: string | null;
  reason: string;
  created_at: string;
  resolved_at: string | null;
  resolution: string | null;
}

interface ReportRow {
  id: string;
  room_id: string | null;
  server_name: string | null;
  reason: string;
  created_at: PgTimestamp;
  resolved_at: PgTimestamp | null;
  resolution: string | null;
}

function toApiReport(row: ReportRow): ApiReport {
  return {
    id: Number(row.id),
    room_id: row.room_id,
    server_name: row.server_name,
    reason: row.reason,
    created_at: timestampToIso(row.created_at),
    resolved_at: timestampToIso(row.resolved_at),
    resolution: row.resolution,
  };
}

/** A report from anyone about a room or a server Atlas lists. Unknown targets are refused. */
export async function createReport(
  sql: Sql,
  input: { roomId?: string | undefined; serverName?: string | undefined; reason: string; reporterIp: string },
): Promise<{ id: number }> {
  if (input.roomId) {
    const [room] = await sql`select 1 from rooms where room_id = ${input.roomId}`;
    if (!room) throw new ApiError('NOT_FOUND', `no room ${input.roomId} is listed here`);
  }
  if (input.serverName) {
    const [server] = await sql`select 1 from servers where name = ${input.serverName.toLowerCase()}`;
    if (!server) throw new ApiError('NOT_FOUND', `no server ${input.serverName} is listed here`);
  }
  const [row] = await sql<{ id: string }[]>`
    insert into reports (room_id, server_name, reason, reporter_ip)
    values (${input.roomId ?? null}, ${input.serverName?.toLowerCase() ?? null}, ${input.reason}, ${input.reporterIp})
    returning id`;
  return { id: Number(row?.id) };
}

export async function listReports(
  sql: Sql,
  params: { state: 'open' | 'resolved' | 'all'; limit: number; before?: number | undefined },
): Promise<{ reports: ApiReport[]; next_before: number | null }> {
  const state =
    params.state === 'open'
      ? sql`resolved_at is null`
      : params.state === 'resolved'
        ? sql`resolved_at is not null`
        : sql`true`;
  const rows = await sql<ReportRow[]>`
    select id, room_id, server_name, reason, created_at, resolved_at, resolution from reports
    where ${state} ${params.before !== undefined ? sql`and id < ${params.before}` : sql``}
    order by id desc limit ${params.limit + 1}`;
  const page = rows.slice(0, params.limit);
  const last = page[page.length - 1];
  return {
    reports: page.map(toApiReport),
    next_before: rows.length > params.limit && last ? Number(last.id) : null,
  };
}

export async function resolveReport(sql: Sql, id: number, resolution: string): Promise<ApiReport> {
  const [row] = await sql<ReportRow[]>`
    update reports set resolved_at = now(), resolution = ${resolution}
    where id = ${id} and resolved_at is null
    returning id, room_id, server_name, reason, created_at, resolved_at, resolution`;
  if (row) return toApiReport(row);
  const [exists] = await sql`select 1 from reports where id = ${id}`;
  throw exists
    ? new ApiError('CONFLICT', `report ${id} is already resolved`)
    : new ApiError('NOT_FOUND', `no report with id ${id}`);
}
