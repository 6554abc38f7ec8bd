import {
  insertReport,
  isKnownRoom,
  isKnownServer,
  type ReportRow,
  listReports as readReports,
  resolveReport as resolveStoredReport,
  timestampToIso,
} from '@atlas/shared/db';
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
  if (input.roomId && !(await isKnownRoom(sql, input.roomId))) {
    throw new ApiError('NOT_FOUND', `no room ${input.roomId} is listed here`);
  }
  const serverName = input.serverName?.toLowerCase();
  if (serverName && !(await isKnownServer(sql, serverName))) {
    throw new ApiError('NOT_FOUND', `no server ${input.serverName} is listed here`);
  }
  const id = await insertReport(sql, {
    roomId: input.roomId ?? null,
    serverName: serverName ?? null,
    reason: input.reason,
    reporterIp: input.reporterIp,
  });
  return { id };
}

export async function listReports(
  sql: Sql,
  params: { state: 'open' | 'resolved' | 'all'; limit: number; before?: number | undefined },
): Promise<{ reports: ApiReport[]; next_before: number | null }> {
  const rows = await readReports(sql, { ...params, limit: params.limit + 1 });
  const page = rows.slice(0, params.limit);
  const last = page[page.length - 1];
  return {
    reports: page.map(toApiReport),
    next_before: rows.length > params.limit && last ? Number(last.id) : null,
  };
}

export async function resolveReport(sql: Sql, id: number, resolution: string): Promise<ApiReport> {
  const resolved = await resolveStoredReport(sql, id, resolution);
  if (resolved === undefined) throw new ApiError('NOT_FOUND', `no report with id ${id}`);
  if (resolved === 'resolved') throw new ApiError('CONFLICT', `report ${id} is already resolved`);
  return toApiReport(resolved);
}
