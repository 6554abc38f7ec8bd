import type { DirectoryTotals } from '@atlas/shared/db';
import type { CrawlMode } from './crawl/crawl-server.ts';
import type { CrawlStats } from './stats.ts';

/**
 * What `atlas crawl --once --json` prints on stdout, one object on one line. Documented in README
 * ("Command line"); the Synapse suite and the benchmark read it.
 */
export interface CrawlSummaryJson {
  ok: true;
  durationMs: number;
  seeds: string[];
  identity: {
    /** ATLAS_SERVER_NAME when Atlas signed its requests, else null. */
    serverName: string | null;
    /** This process served the key over TLS while crawling. */
    servesKeyOverTls: boolean;
    /** The ways directories were tried, in order. */
    modes: CrawlMode[];
  };
  queueBackend: 'postgres' | 'redis';
  /** What this run did (counters of this process). */
  run: ReturnType<CrawlStats['toJSON']>;
  /**
   * What the directory holds after the run (`directoryTotals`: blocked servers and hidden rooms are
   * counted on their own); `rooms.searchable`: rooms the search index holds.
   */
  totals: DirectoryTotals & { rooms: DirectoryTotals['rooms'] & { searchable: number } };
}

export function summaryJson(input: {
  startedAt: number;
  seeds: readonly string[];
  serverName: string | null;
  servesKeyOverTls: boolean;
  modes: CrawlMode[];
  queueBackend: 'postgres' | 'redis';
  stats: CrawlStats;
  totals: DirectoryTotals;
  searchable: number;
}): CrawlSummaryJson {
  return {
    ok: true,
    durationMs: Date.now() - input.startedAt,
    seeds: [...input.seeds],
    identity: { serverName: input.serverName, servesKeyOverTls: input.servesKeyOverTls, modes: input.modes },
    queueBackend: input.queueBackend,
    run: input.stats.toJSON(),
    totals: { ...input.totals, rooms: { ...input.totals.rooms, searchable: input.searchable } },
  };
}
