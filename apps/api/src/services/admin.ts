import {
  addBlock as addStoredBlock,
  BlockPatternError,
  type BlockRow,
  blockingPattern,
  getServerStatuses,
  listBlockPatterns,
  normalizeBlockPattern,
  listBlocks as readBlocks,
  recordServerNames,
  removeBlock as removeStoredBlock,
  setRoomHidden as storeRoomHidden,
  timestampToIso,
} from '@atlas/shared/db';
import { parseServerName } from '@atlas/shared/matrix';
import { enqueue, type QueueBackend } from '@atlas/shared/queue';
import { loadIndexDecisions, type SearchIndex } from '@atlas/shared/search';
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

function toApiBlock(row: BlockRow): ApiBlock {
  return {
    id: Number(row.id),
    pattern: row.pattern,
    reason: row.reason,
    created_at: timestampToIso(row.created_at),
  };
}

export async function listBlocks(sql: Sql): Promise<ApiBlock[]> {
  return (await readBlocks(sql)).map(toApiBlock);
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
  const added = await addStoredBlock(sql, pattern, reason ?? null);
  if (!added) throw new ApiError('CONFLICT', `"${pattern}" is already blocked`);
  return { ...toApiBlock(added.block), servers_blocked: added.serversBlocked };
}

/** Lifts a block; servers no other block matches are probed again from scratch. */
export async function removeBlock(sql: Sql, id: number): Promise<{ servers_unblocked: number }> {
  const removed = await removeStoredBlock(sql, id);
  if (!removed) throw new ApiError('NOT_FOUND', `no block with id ${id}`);
  return { servers_unblocked: removed.serversUnblocked };
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
  if (!(await storeRoomHidden(sql, roomId, hidden)))
    throw new ApiError('NOT_FOUND', `no room ${roomId} is known`);
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
  const name = serverName.toLowerCase();
  const [server] = await getServerStatuses(sql, [name]);
  if (!server) throw new ApiError('NOT_FOUND', `no server ${serverName} is known; add it first`);
  if (server.status === 'blocked') throw new ApiError('CONFLICT', `${serverName} is blocked`);
  // Folds into a read of the server already waiting or running, whoever asked for it.
  const [jobId = ''] = await enqueue(queues, 'crawl', [{ serverName: name }]);
  return { server_name: name, job_id: jobId };
}
