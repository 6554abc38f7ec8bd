// V8 settings per command, set before the command's code loads (see BENCHMARKS.md for the figures).
import v8 from 'node:v8';

/** Commands that answer searches over HTTP: `api`, and `start`, which serves the API too. */
const SERVES_SEARCHES = new Set(['start', 'api']);

/**
 * Commands that crawl: memory over speed. Under a crawl's allocation rate V8 let the heap grow to
 * about three times what is live (~40 MB live, ~130 MB held) before a full collection; optimizing
 * for size keeps it near what is live, for more, shorter collections (the crawler's peak memory
 * went from 311 to 163 MB; its CPU rose ~16 %). Not for the commands that answer searches: there it
 * collects ~15 times as often and takes the search p99 from ~10 ms to ~116 ms.
 *
 * Commands that answer searches: no allocation-site pretenuring. After a spell of slow requests
 * (searches waiting on PostgreSQL) V8 decided that the objects of every request live long, and
 * allocated them in the old generation; each young collection then kept alive what those dead
 * objects pointed to (~1.4 MB copied per collection instead of ~10 KB), and its pauses, ~9 ms
 * instead of ~1-3, were most of the Element feed's p99.
 */
export function applyV8Flags(command) {
  if (SERVES_SEARCHES.has(command ?? '')) v8.setFlagsFromString('--no-allocation-site-pretenuring');
  else v8.setFlagsFromString('--optimize-for-size');
}
