import { crawlPagesLastDay, crawlRunsLastDay, directoryTotals } from '@atlas/shared/db';
import { QUEUE_NAMES } from '@atlas/shared/queue';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { AppDeps } from './deps.ts';

export interface ApiMetrics {
  registry: Registry;
  requestDuration: Histogram<'method' | 'route' | 'status'>;
}

/**
 * Prometheus metrics. Crawl outcomes, pages and room counts are read from the database at scrape
 * time, so they cover every crawler process, not only this one; queue depths come from the queue
 * backend.
 */
export function createMetrics(deps: AppDeps): ApiMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const requestDuration = new Histogram({
    name: 'atlas_http_request_duration_seconds',
    help: 'HTTP request latency by route',
    labelNames: ['method', 'route', 'status'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  const sql = deps.database.sql;

  new Gauge({
    name: 'atlas_rate_limit_store',
    help: 'Where the rate limits count: redis (shared by every API replica) or memory (this process)',
    labelNames: ['store'],
    registers: [registry],
  }).set({ store: deps.limitStore ? 'redis' : 'memory' }, 1);

  new Gauge({
    name: 'atlas_crawl_runs_last_day',
    help: 'Directory crawls finished in the last 24 hours, by outcome and stop reason',
    labelNames: ['status', 'reason'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const row of await crawlRunsLastDay(sql)) {
        this.set({ status: row.status, reason: row.stopReason ?? 'none' }, row.runs);
      }
    },
  });
  new Gauge({
    name: 'atlas_crawl_pages_last_day',
    help: 'Directory pages read by crawls started in the last 24 hours',
    registers: [registry],
    async collect() {
      this.set(await crawlPagesLastDay(sql));
    },
  });
  new Gauge({
    name: 'atlas_rooms',
    help: 'Rooms known, by state',
    labelNames: ['state'],
    registers: [registry],
    async collect() {
      const { rooms } = await directoryTotals(sql);
      this.set({ state: 'listed' }, rooms.listed);
      this.set({ state: 'stale' }, rooms.stale);
      this.set({ state: 'hidden' }, rooms.hidden);
    },
  });
  new Gauge({
    name: 'atlas_servers',
    help: 'Servers known, by status',
    labelNames: ['status'],
    registers: [registry],
    async collect() {
      const { servers } = await directoryTotals(sql);
      for (const [status, n] of Object.entries(servers.byStatus)) this.set({ status }, n);
      this.set({ status: 'blocked' }, servers.blocked);
    },
  });
  new Gauge({
    name: 'atlas_search_documents',
    help: 'Rooms in the search index',
    registers: [registry],
    async collect() {
      this.set((await deps.search.stats()).documents);
    },
  });
  const status = deps.search.status?.bind(deps.search);
  if (status) {
    // How this process's searches were answered (Meilisearch, or PostgreSQL in its place; ADR 0203).
    new Gauge({
      name: 'atlas_search_fallback_active',
      help: 'Whether PostgreSQL answers searches now because Meilisearch cannot be reached or lost its index',
      registers: [registry],
      collect() {
        this.set(status().fallbackActive ? 1 : 0);
      },
    });
    new Counter({
      name: 'atlas_search_queries_total',
      help: 'Searches run by this process (answers from its cache left out), by the backend that answered',
      labelNames: ['backend', 'fallback'],
      registers: [registry],
      collect() {
        const { backend, searches } = status();
        this.reset();
        this.inc({ backend, fallback: 'false' }, searches.primary);
        this.inc({ backend: 'postgres', fallback: 'true' }, searches.fallback);
      },
    });
    new Counter({
      name: 'atlas_search_primary_failures_total',
      help: 'Searches Meilisearch failed, which PostgreSQL then answered',
      registers: [registry],
      collect() {
        this.reset();
        this.inc(status().primaryFailures);
      },
    });
    new Counter({
      name: 'atlas_search_missed_writes_total',
      help: 'Rooms written to PostgreSQL but not to Meilisearch by this process (pushed again by the indexer)',
      registers: [registry],
      collect() {
        this.reset();
        this.inc(status().missedWrites);
      },
    });
  }
  const queues = deps.queues;
  if (queues) {
    new Gauge({
      name: 'atlas_queue_jobs',
      help: 'Jobs per queue and state',
      labelNames: ['queue', 'state'],
      registers: [registry],
      async collect() {
        for (const name of QUEUE_NAMES) {
          const counts = await queues.queue(name).getJobCounts('waiting', 'active', 'delayed', 'failed');
          for (const [state, n] of Object.entries(counts)) this.set({ queue: name, state }, n);
        }
      },
    });
  }
  return { registry, requestDuration };
}
