import type { DirectoryPage } from '../directory/public-rooms.ts';

/**
 * Why paging a directory ended (stored in `crawl_runs.stop_reason`):
 * - end: no `next_batch`, the whole directory was read (the only complete outcome)
 * - repeated_token: the server sent a `next_batch` it had sent before (a loop)
 * - page_cap, room_cap, time_cap: Atlas's limits for one server
 * - forbidden: the directory is not published to Atlas (403 or 401)
 * - error: the server failed mid-way; see `crawl_runs.error`
 * - aborted: Atlas was shutting down
 * - busy: another crawler process kept the server busy (ADR 0009); the job runs again soon
 */
export type StopReason =
  | 'end'
  | 'repeated_token'
  | 'page_cap'
  | 'room_cap'
  | 'time_cap'
  | 'forbidden'
  | 'error'
  | 'aborted'
  | 'busy';

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

/** Reads a paged directory with every stop condition of docs/architecture.md, "Hostile input". */
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
  // The next page is requested while this one is stored: still one request at a time to the
  // server, but its latency and the database's overlap.
  let prefetched: Promise<DirectoryPage> | undefined;
  let since: string | undefined;
  for (;;) {
    if (options.signal?.aborted) return { ...result, stopReason: 'aborted' };
    let page: DirectoryPage;
    try {
      page = await (prefetched ?? options.fetchPage(since));
    } catch (error) {
      return {
        ...result,
        stopReason: options.signal?.aborted ? 'aborted' : options.classifyError(error),
        error,
      };
    }
    prefetched = undefined;
    result.pages++;
    const room = limits.maxRooms - result.roomsSeen;
    const capped = page.rooms.length > room;
    if (capped) page = { ...page, rooms: page.rooms.slice(0, Math.max(0, room)) };
    result.roomsSeen += page.rooms.length;
    result.malformed += page.malformed;
    result.noindex += page.noindexRoomIds.length;

    const next = page.nextBatch;
    let stop: StopReason | undefined;
    if (capped) stop = 'room_cap';
    else if (next === undefined) stop = 'end';
    else if (result.roomsSeen >= limits.maxRooms) stop = 'room_cap';
    else if (seenTokens.has(next)) stop = 'repeated_token';
    else if (result.pages >= limits.maxPages) stop = 'page_cap';
    else if (now() >= limits.deadline) stop = 'time_cap';
    if (stop === undefined && next !== undefined && !options.signal?.aborted) {
      seenTokens.add(next);
      since = next;
      prefetched = options.fetchPage(next);
      // Awaited on the next turn; a failure while this page is stored must not go unhandled.
      prefetched.catch(() => {});
    }
    try {
      await options.onPage(page);
    } catch (error) {
      await prefetched?.catch(() => {});
      throw error;
    }
    if (stop !== undefined) return { ...result, stopReason: stop };
  }
}
