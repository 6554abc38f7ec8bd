// CPU time per search, which other load on the machine does not inflate the way it inflates
// latency: N searches from the benchmark's query mix, one at a time, through one PostgreSQL
// connection; the server process's CPU time (from /proc) plus this process's.
// Usage: node --import tsx bench/search/cpu-cost.ts <database url> [count]
import { readFile } from 'node:fs/promises';
import { connectDatabase } from '@atlas/shared/db';
import { createPostgresSearchIndex, type RoomSort } from '@atlas/shared/search';
import postgres from 'postgres';
import { queryMix } from './dataset.ts';

const [databaseUrl, countText] = process.argv.slice(2);
if (!databaseUrl) throw new Error('usage: cpu-cost.ts <database url> [count]');
const count = Number(countText ?? 500);
const TICKS_PER_SECOND = 100;

async function backendCpuMs(pid: number): Promise<number> {
  const fields = (await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1]?.split(' ') ?? [];
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_SECOND;
}

const database = connectDatabase(databaseUrl, { max: 1 });
const paths = await queryMix(database.sql, count);
await database.close();
const index = createPostgresSearchIndex({ databaseUrl, poolSize: 1 });
await index.init();
const probe = postgres(databaseUrl, { max: 1 });
await index.search({ q: 'warm', limit: 20 });
// The search pool's one backend: the most recent other connection of this database.
const [{ pid } = { pid: 0 }] = await probe<{ pid: number }[]>`
  select pid from pg_stat_activity where application_name = 'atlas-search' order by backend_start desc limit 1`;
const pgBefore = await backendCpuMs(pid);
const nodeBefore = process.cpuUsage();
const started = performance.now();
for (const path of paths) {
  const url = new URL(path, 'http://bench');
  const params = url.searchParams;
  await index.search({
    q: params.get('q') ?? '',
    limit: 20,
    filters: {
      stale: false,
      ...(params.get('language') ? { languages: [params.get('language') ?? ''] } : {}),
      ...(params.get('min_members') ? { minMembers: Number(params.get('min_members')) } : {}),
      ...(params.get('type') ? { roomTypes: [null] } : {}),
      ...(params.get('joinable') ? { joinableWithLimit: 1 } : {}),
    },
    ...(params.get('sort') ? { sort: params.get('sort') as RoomSort } : {}),
  });
}
const wall = performance.now() - started;
const pgMs = (await backendCpuMs(pid)) - pgBefore;
const node = process.cpuUsage(nodeBefore);
const nodeMs = (node.user + node.system) / 1000;
console.log(
  JSON.stringify({
    searches: paths.length,
    postgresCpuMsPerSearch: Number((pgMs / paths.length).toFixed(2)),
    clientCpuMsPerSearch: Number((nodeMs / paths.length).toFixed(2)),
    wallMsPerSearch: Number((wall / paths.length).toFixed(2)),
  }),
);
await probe.end();
await index.close();
