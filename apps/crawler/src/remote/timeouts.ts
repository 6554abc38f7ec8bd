import type { Timeouts } from '@atlas/shared/net';

/**
 * Per-request limits for each kind of call. A server that stalls or trickles costs one worker slot
 * for at most `totalMs`, never the crawl (docs/architecture.md, "Hostile input").
 */
export const PROBE_TIMEOUTS: Timeouts = { connectMs: 5_000, headersMs: 10_000, totalMs: 15_000 };
export const PAGE_TIMEOUTS: Timeouts = { connectMs: 5_000, headersMs: 20_000, totalMs: 30_000 };
export const ROOM_TIMEOUTS: Timeouts = { connectMs: 5_000, headersMs: 10_000, totalMs: 15_000 };

/** Small JSON answers (version, register, complexity, query/directory). */
export const SMALL_MAX_BYTES = 256 * 1024;
/** One directory page; a page of 1,000 rooms with long topics stays well under it. */
export const PAGE_MAX_BYTES = 16 * 1024 * 1024;
/** A space hierarchy page. */
export const HIERARCHY_MAX_BYTES = 4 * 1024 * 1024;
