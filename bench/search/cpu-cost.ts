// CPU time per search, which other load on the machine inflates far less than latency: the
// benchmark's query mix, one search at a time through the PostgreSQL backend (after one warm-up
// pass), the database's CPU time read from /proc/<pid>/schedstat of the backend's connections (in
// nanoseconds) and this process's own, per query kind.
// With --distinct, the searches are all different (run.ts --uncached's kinds), and the slowest are
// named with their CPU time: what makes an uncached tail.
// Usage: node --import tsx bench/search/cpu-cost.ts <database url> [count] [--distinct]
import { readFileSync } from 'node:fs';
import {
  createPostgresSearchIndex,
  type RoomFilters,
  type RoomSort,
  type SearchQuery,
} from '@atlas/shared/search';
import postgres from 'postgres';
import { DISTINCT_KINDS, distinctQueries, queryMix } from './dataset.ts';

const args = process.argv.slice(2);
const distinct = args.includes('--distinct');
const [databaseUrl, countText] = args.filter((a) => a !== '--distinct');
if (!databaseUrl) throw new Error('usage: cpu-cost.ts <database url> [count] [--distinct]');
const count = Number(countText ?? 500);
const KINDS: readonly string[] = distinct
  ? DISTINCT_KINDS
  : ['one word', 'two words', 'prefix', 'typo', 'word + filter'];

/** The search the API makes for one of the mix's paths (stale rooms left out, as by default). */
function searchOf(path: string): SearchQuery {
  const params = new URL(path, 'http://bench').searchParams;
  const filters: RoomFilters = { stale: false };
  const language = params.get('language');
  if (language) filters.languages = [language];
  if (params.get('min_members')) filters.minMembers = Number(params.get('min_members'));
  if (params.get('type')) filters.roomTypes = [null];
  if (params.get('joinable')) filters.joinableWithLimit = 1;
  const sort = params.get('sort');
  return { q: params.get('q') ?? '', limit: 20, filters, ...(sort ? { sort: sort as RoomSort } : {}) };
}

const probe = postgres(databaseUrl, { max: 1, onnotice: () => {} });
// Distinct: a warm-up set of its own, so that the measured searches were never made before.
const all = distinct ? await distinctQueries(probe, count * 2) : await queryMix(probe, count);
const warmUp = distinct ? all.slice(count) : all;
const paths = distinct ? all.slice(0, count) : all;
const before = new Set(
  (
    await probe<
      { pid: number }[]
    >`select pid from pg_stat_activity where application_name like 'atlas-search%'`
  ).map((row) => row.pid),
);
const index = createPostgresSearchIndex({ databaseUrl, poolSize: 1 });
await index.init();
// Warm-up: every statement shape prepared, the typo dictionary loaded, the pages in memory.
for (const path of warmUp) await index.search(searchOf(path));
const pids = (
  await probe<{ pid: number }[]>`select pid from pg_stat_activity where application_name like 'atlas-search%'`
)
  .map((row) => row.pid)
  .filter((pid) => !before.has(pid));
const databaseMs = () =>
  pids.reduce((sum, pid) => sum + Number(readFileSync(`/proc/${pid}/schedstat`, 'utf8').split(' ')[0]), 0) /
  1e6;

const byKind: number[][] = KINDS.map(() => []);
const each: { path: string; ms: number }[] = [];
const client = process.cpuUsage();
const started = performance.now();
let total = 0;
for (const [i, path] of paths.entries()) {
  const start = databaseMs();
  await index.search(searchOf(path));
  const spent = databaseMs() - start;
  byKind[i % KINDS.length]?.push(spent);
  each.push({ path, ms: spent });
  total += spent;
}
const wall = performance.now() - started;
const used = process.cpuUsage(client);
const stats = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (p: number) =>
    Number((sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? 0).toFixed(2));
  return {
    mean: Number((values.reduce((a, b) => a + b, 0) / values.length).toFixed(2)),
    p50: at(0.5),
    p90: at(0.9),
    max: at(1),
  };
};
console.log(
  JSON.stringify(
    {
      searches: paths.length,
      postgresCpuMsPerSearch: Number((total / paths.length).toFixed(2)),
      clientCpuMsPerSearch: Number(((used.user + used.system) / 1000 / paths.length).toFixed(2)),
      wallMsPerSearch: Number((wall / paths.length).toFixed(2)),
      postgresCpuMsByKind: Object.fromEntries(KINDS.map((kind, k) => [kind, stats(byKind[k] ?? [])])),
      slowest: each
        .sort((a, b) => b.ms - a.ms)
        .slice(0, 12)
        .map((s) => `${s.ms.toFixed(1)} ms ${new URL(s.path, 'http://bench').searchParams.get('q')}`),
    },
    null,
    2,
  ),
);
await probe.end();
await index.close();
