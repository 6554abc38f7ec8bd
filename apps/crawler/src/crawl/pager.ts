import type { DirectoryPage } from '../directory/public-rooms.ts';

/**
 * Why paging a directory ended (stored in `crawl_runs.stop_reason`):
 * - end: no `next_batch`, the whole directory was read (the only complete outcome)
 * - repeated_token: the server sent a `next_batch` it had sent before (a loop)
 * - page_cap, room_cap, time_cap: Atlas's limits for one server
 * - forbidden: the directory is not published to Atlas (403 or 401)
 * - error: the server failed mid-way; see `crawl_runs.error`
 * - aborted: Atlas was shutting down
 */
export type StopReason =
  | 'end'
  | 'repeated_token'
  | 'page_cap'
  | 'room_cap'
  | 'time_cap'
  | 'forbidden'
  | 'error'
  | 'aborted';

export interface PagerLimits {
  maxPages: number;
  maxRooms: number;
  /** Epoch ms after which no further page is requested. */
  deadline: number;
}

export interface PagerOptions {
  limits: PagerLimits;
  /** Fetches one page; `since` is undefined for the first. */
  fetchPage(since: string | undefined): Promise<DirectoryPage>;
  /** Stores one page before the next is requested, so memory stays flat however big the directory. */
  onPage(page: DirectoryPage): Promise<void>;
  /** Maps a failure of fetchPage to the reason it ends paging with. */
  classifyError(error: unknown): StopReason;
  signal?: AbortSignal;
  now?: () => number;
}

export interface PagerResult {
  stopReason: StopReason;
  pages: number;
  roomsSeen: number;
  malformed: number;
  noindex: number;
  /** The failure behind `error`, `forbidden` or `time_cap`, when there was one. */
  error: unknown;
}

/** Reads a paged directory with every stop condition of ARCHITECTURE.md "Hostile input". */
export async function pageThroughDirectory(options: PagerOptions): Promise<PagerResult> {
  const { limits } = options;
  const now = options.now ?? Date.now;
  const seenTokens = new Set<string>();
  const result: PagerResult = {
    stopReason: 'end',
    pages: 0,
    roomsSeen: 0,
    malformed: 0,
    noindex: 0,
    error: undefined,
  };
  let since: string | undefined;
  for (;;) {
    if (options.signal?.aborted) return { ...result, stopReason: 'aborted' };
    let page: DirectoryPage;
    try {
      page = await options.fetchPage(since);
    } catch (error) {
      return {
        ...result,
        stopReason: options.signal?.aborted ? 'aborted' : options.classifyError(error),
        error,
      };
    }
    result.pages++;
    const room = limits.maxRooms - result.roomsSeen;
    const capped = page.rooms.length > room;
    if (capped) page = { ...page, rooms: page.rooms.slice(0, Math.max(0, room)) };
    result.roomsSeen += page.rooms.length;
    result.malformed += page.malformed;
    result.noindex += page.noindexRoomIds.length;
    await options.onPage(page);

    const next = page.nextBatch;
    if (capped) return { ...result, stopReason: 'room_cap' };
    if (next === undefined) return result;
    if (result.roomsSeen >= limits.maxRooms) return { ...result, stopReason: 'room_cap' };
    if (seenTokens.has(next)) return { ...result, stopReason: 'repeated_token' };
    if (result.pages >= limits.maxPages) return { ...result, stopReason: 'page_cap' };
    if (now() >= limits.deadline) return { ...result, stopReason: 'time_cap' };
    seenTokens.add(next);
    since = next;
  }
}
