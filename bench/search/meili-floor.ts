// What a Meilisearch search costs on this machine, and where its slow answers come from, without the
// API or a load in between: a real Meilisearch filled from the dataset's rooms as the indexer does,
// then, one request at a time,
// - the floors: `/health`, a search without words (1 and 21 rooms back), one common word;
// - the distinct searches of `run.ts --uncached` through Atlas's own backend (its three tiers),
//   Meilisearch's CPU for each (every thread's schedstat, in nanoseconds), and its slowest searches
//   asked a second time: a search slow only the first time waited for the index, not for its words.
// Usage: node --import tsx bench/search/meili-floor.ts <database url> [count]
import { readdirSync, readFileSync } from 'node:fs';
import { createMeilisearchIndex } from '@atlas/shared/search';
import { openBackend } from './backends.ts';
import { distinctQueries } from './dataset.ts';
import { loadAverages, percentile, round } from './measure.ts';
import { openDatasetDatabase } from './prepare.ts';

const [databaseUrl, countText] = process.argv.slice(2);
if (!databaseUrl) throw new Error('usage: meili-floor.ts <database url> [count]');
const count = Number(countText ?? 2000);

const prepared = await openDatasetDatabase({ databaseUrl, rooms: 100_000, servers: 2_000 });
const backend = await openBackend('meilisearch', prepared.database);
const url = backend.env.MEILI_URL ?? '';
const key = backend.env.MEILI_KEY ?? '';

/** Meilisearch's CPU so far, in ms: the sum over its threads (they come and go little). */
function meiliCpuMs(): number {
  let ns = 0;
  for (const task of readdirSync(`/proc/${backend.pid}/task`)) {
    try {
      ns += Number(readFileSync(`/proc/${backend.pid}/task/${task}/schedstat`, 'utf8').split(' ')[0]);
    } catch {
      // A thread that ended between the listing and the read.
    }
  }
  return ns / 1e6;
}

const headers = {
  Authorization: `Bearer ${key}`,
  'Content-Type': 'application/json',
  'Accept-Encoding': 'identity',
};
const floors: Record<string, { cpuMs: number; wallMs: number }> = {};
const FLOORS: [string, string, object | undefined][] = [
  ['GET /health', '/health', undefined],
  ['search without words, 1 room', '/indexes/rooms/search', { q: '', limit: 1 }],
  ['search without words, 21 rooms', '/indexes/rooms/search', { q: '', limit: 21 }],
  ['one common word ("chat"), 21 rooms', '/indexes/rooms/search', { q: 'chat', limit: 21 }],
];
for (const [label, path, body] of FLOORS) {
  const request = body ? { method: 'POST', headers, body: JSON.stringify(body) } : { headers };
  for (let i = 0; i < 100; i++) await (await fetch(`${url}${path}`, request)).arrayBuffer();
  const cpu = meiliCpuMs();
  const started = performance.now();
  for (let i = 0; i < 1000; i++) await (await fetch(`${url}${path}`, request)).arrayBuffer();
  floors[label] = {
    cpuMs: round((meiliCpuMs() - cpu) / 1000),
    wallMs: round((performance.now() - started) / 1000),
  };
}

const index = createMeilisearchIndex({ url, key });
const queries = (await distinctQueries(prepared.database.sql, count)).map(
  (path) => new URL(path, 'http://bench').searchParams.get('q') ?? '',
);
const search = (q: string) => index.search({ q, limit: 20, filters: { stale: false } });
const each: { q: string; ms: number; cpuMs: number }[] = [];
for (const q of queries) {
  const cpu = meiliCpuMs();
  const started = performance.now();
  await search(q);
  each.push({ q, ms: performance.now() - started, cpuMs: meiliCpuMs() - cpu });
}
const slowest = [...each].sort((a, b) => b.ms - a.ms).slice(0, 15);
const again: string[] = [];
for (const s of slowest) {
  const cpu = meiliCpuMs();
  const started = performance.now();
  await search(s.q);
  again.push(
    `"${s.q}": ${round(s.ms, 1)} ms (${round(s.cpuMs, 1)} ms CPU), again ${round(performance.now() - started, 1)} ms (${round(meiliCpuMs() - cpu, 1)} ms CPU)`,
  );
}
const ms = each.map((e) => e.ms).sort((a, b) => a - b);
const cpu = each.map((e) => e.cpuMs).sort((a, b) => a - b);
console.log(
  JSON.stringify(
    {
      date: new Date().toISOString(),
      load: loadAverages(),
      rooms: backend.rooms,
      floors,
      distinct: {
        searches: each.length,
        ms: {
          p50: round(percentile(ms, 50)),
          p90: round(percentile(ms, 90)),
          p99: round(percentile(ms, 99)),
          max: round(ms.at(-1) ?? 0),
        },
        meiliCpuMs: {
          mean: round(cpu.reduce((a, b) => a + b, 0) / cpu.length),
          p50: round(percentile(cpu, 50)),
          p99: round(percentile(cpu, 99)),
          max: round(cpu.at(-1) ?? 0),
        },
        slowestAskedAgain: again,
      },
    },
    null,
    2,
  ),
);
await index.close();
await backend.close();
await prepared.close();
