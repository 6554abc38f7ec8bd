import {
  BlockPatternError,
  blockingPattern,
  getServerStatuses,
  listBlockPatterns,
  matchesBlockPatterns,
  normalizeBlockPattern,
  recordServerNames,
} from '@atlas/shared/db';
import { parseServerName } from '@atlas/shared/matrix';
import { enqueue, type QueueBackend } from '@atlas/shared/queue';
import { loadIndexDecisions, type PgTimestamp, type SearchIndex, timestampToIso } from '@atlas/shared/search';
import type { Sql } from 'postgres';
import { ApiError } from '../errors.ts';

function validateBlockPattern(raw: string): string {
  try {
    return normalizeBlockPattern(raw);
  } catch (error) {
    if (error instanceof BlockPatternError) throw new ApiError('BAD_REQUEST', error.message);
    throw error;
  }
}

export async function addServer(
  sql: Sql,
  queues: QueueBackend | undefined,
  rawName: string,
): Promise<{ name: string; status: string; created: boolean }> {
  const parsed = parseServerName(rawName.trim());
  if (!parsed)
    throw new ApiError('BAD_REQUEST', `"${rawName}" is not a Matrix server name (e.g. example.org)`);
  const name = parsed.name;
  const pattern = blockingPattern(await listBlockPatterns(sql), name);
  if (pattern)
    throw new ApiError('CONFLICT', `${name} is blocked by the pattern "${pattern}"; remove that block first`);
  const { added } = await recordServerNames(sql, [{ name, via: 'admin' }], { isBlocked: () => false });
  if (queues) await enqueue(queues, 'probe', [{ serverName: name }]);
  if (added.length > 0) return { name, status: 'new', created: true };
  const [existing] = await getServerStatuses(sql, [name]);
  return { name, status: existing?.status ?? 'new', created: false };
}

export interface ApiBlock {
  id: number;
  pattern: string;
  reason: string | null;
  created_at: string;
}

function toApiBlock(row: {
  id: string | number;
  pattern: string;
  reason: string | null;
  created_at: PgTimestamp;
}): ApiBlock {
  return {
    id: Number(row.id),
    pattern: row.pattern,
    reason: row.reason,
    created_at: timestampToIso(row.created_at),
  };
}

export async function listBlocks(sql: Sql): Promise<ApiBlock[]> {
  const rows = await sql<{ id: string; pattern: string; reason: string | null; created_at: PgTimestamp }[]>`
    select id, pattern, reason, created_at from blocks order by id`;
  return rows.map(toApiBlock);
}

/**
 * Blocks servers by name or pattern: matching servers turn `blocked` (never contacted, never
 * listed) and the rooms they list are queued for reindexing, which drops rooms no other server lists.
 */
export async function addBlock(
  sql: Sql,
  rawPattern: string,
  reason: string | undefined,
): Promise<ApiBlock & { servers_blocked: number }> {
  const pattern = validateBlockPattern(rawPattern);
  return await sql.begin(async (tx) => {
    const inserted = await tx<
      { id: string; pattern: string; reason: string | null; created_at: PgTimestamp }[]
    >`
      insert into blocks (pattern, reason) values (${pattern}, ${reason ?? null})
      on conflict (pattern) do nothing returning id, pattern, reason, created_at`;
    const block = inserted[0];
    if (!block) throw new ApiError('CONFLICT', `"${pattern}" is already blocked`);
    const blocked = await tx<{ name: string }[]>`
      update servers set status = 'blocked', version = version + 1, updated_at = now()
      where ${matchesBlockPatterns(tx, tx`name`, [pattern])} and status <> 'blocked' returning name`;
    await bumpRoomsOf(
      tx,
      blocked.map((s) => s.name),
    );
    return { ...toApiBlock(block), servers_blocked: blocked.length };
  });
}

/** Lifts a block; servers no other block matches are probed again from scratch. */
export async function removeBlock(sql: Sql, id: number): Promise<{ servers_unblocked: number }> {
  return await sql.begin(async (tx) => {
    const [removed] = await tx<{ pattern: string }[]>`delete from blocks where id = ${id} returning pattern`;
    if (!removed) throw new ApiError('NOT_FOUND', `no block with id ${id}`);
    const remaining = await listBlockPatterns(tx);
    const freed = (
      await tx<{ name: string }[]>`
        select name from servers where status = 'blocked'
          and ${matchesBlockPatterns(tx, tx`name`, [removed.pattern])}
          and not ${matchesBlockPatterns(tx, tx`name`, remaining)}`
    ).map((row) => row.name);
    if (freed.length > 0) {
      await tx`
        update servers set status = 'new', next_probe_at = now(), version = version + 1, updated_at = now()
        where name = any(${freed}::text[])`;
      await bumpRoomsOf(tx, freed);
    }
    return { servers_unblocked: freed.length };
  });
}

async function bumpRoomsOf(sql: Sql | import('postgres').TransactionSql, servers: string[]): Promise<void> {
  if (servers.length === 0) return;
  await sql`
    update rooms set version = version + 1, updated_at = now()
    where room_id in (select room_id from room_listings where server_name = any(${servers}::text[]))`;
}

/**
 * Hides or shows a room. The change is pushed to the search index at once (an operator expects a
 * hidden room gone now); the version bump makes the index queue confirm it.
 */
export async function setRoomHidden(
  sql: Sql,
  search: SearchIndex,
  roomId: string,
  hidden: boolean,
): Promise<void> {
  const updated = await sql<{ room_id: string }[]>`
    update rooms set hidden = ${hidden}, version = version + 1, updated_at = now()
    where room_id = ${roomId} returning room_id`;
  if (updated.length === 0) throw new ApiError('NOT_FOUND', `no room ${roomId} is known`);
  const [decision] = await loadIndexDecisions(sql, [roomId]);
  if (decision?.document) await search.upsert([decision.document]);
  else await search.remove([roomId]);
}

export async function triggerCrawl(
  sql: Sql,
  queues: QueueBackend | undefined,
  serverName: string,
): Promise<{ server_name: string; job_id: string }> {
  if (!queues)
    throw new ApiError(
      'UNAVAILABLE',
      'this process has no job queues; trigger the crawl where the crawler runs',
    );
  const [server] = await sql<
    { status: string }[]
  >`select status from servers where name = ${serverName.toLowerCase()}`;
  if (!server) throw new ApiError('NOT_FOUND', `no server ${serverName} is known; add it first`);
  if (server.status === 'blocked') throw new ApiError('CONFLICT', `${serverName} is blocked`);
  const name = serverName.toLowerCase();
  // Folds into a read of the server already waiting or running, whoever asked for it.
  const [jobId = ''] = await enqueue(queues, 'crawl', [{ serverName: name }]);
  return { server_name: name, job_id: jobId };
}
