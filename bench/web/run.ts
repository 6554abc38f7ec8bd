// Web UI benchmark: result pages of the rooms page (`/?q=…`, 20 room cards) rendered by `atlas api`
// over the search benchmark's 100,000 rooms, requested at a fixed, evenly paced rate; the size of
// the largest result page and of the CSS and JS the pages load.
// Usage: node --import tsx bench/web/run.ts [--runs 3] [--duration 30] [--rate 200] [--database-url URL]
//          [--rooms 100000] [--servers 5000] [--quiet-cores N] [--busy-cores N] [--max-runs 12]
//          [--api-cpu-prof DIR] [--api-node-flags="FLAGS"] [--out FILE]
// Run it under `flock /tmp/atlas-bench.lock` so that two benchmarks never share the machine.
import { writeFile } from 'node:fs/promises';
import { cpus, totalmem } from 'node:os';
import { parseArgs } from 'node:util';
import { queryMix } from '../search/dataset.ts';
import {
  loadAverages,
  type Measure,
  measureLoad,
  median,
  postmasterPid,
  quietMachine,
  round,
  settle,
  summariseRuns,
} from '../search/measure.ts';
import { pacedLoad } from '../search/paced-load.ts';
import { DATASET_SIZE_OPTIONS, datasetSize, openDatasetDatabase } from '../search/prepare.ts';
import { type ApiRunStats, apiRunStats } from './api-metrics.ts';
import { startAtlasApi } from './api-process.ts';
import { assetSizes, pageSizes, pagesHtml } from './sizes.ts';

const { values } = parseArgs({
  options: {
    /** Pages a second, evenly paced. */
    rate: { type: 'string', default: '200' },
    /** Seconds a run. */
    duration: { type: 'string', default: '30' },
    /** Runs counted (see --busy-cores). */
    runs: { type: 'string', default: '3' },
    ...DATASET_SIZE_OPTIONS,
    /** A kept database with the dataset (bench/search/database.ts) instead of a throwaway one. */
    'database-url': { type: 'string' },
    /** Writes the API process's V8 CPU profile (node --cpu-prof) into this folder. */
    'api-cpu-prof': { type: 'string' },
    /** node flags for the API process, space-separated. */
    'api-node-flags': { type: 'string', default: '' },
    /**
     * For a shared machine. Before each run, wait until the machine has used less than this many
     * cores over 5 s (0: do not wait).
     */
    'quiet-cores': { type: 'string', default: '0' },
    /**
     * For a shared machine: a run during which other work took more than this many cores (its
     * `otherCores`) is reported but not counted, and run again, up to --max-runs in all (0: every
     * run counts). The criterion is the machine's, never the run's latencies.
     */
    'busy-cores': { type: 'string', default: '0' },
    'max-runs': { type: 'string', default: '12' },
    /** Also writes the result (JSON) to this file. */
    out: { type: 'string' },
  },
});
const runs = Number(values.runs);
const duration = Number(values.duration);
const rate = Number(values.rate);

/** The targets (issue 12). KB = 1,000 bytes, the stricter reading. */
const TARGETS = { p50Ms: 10, p99Ms: 50, pageBytes: 60_000, assetsGzipBytes: 30_000 };

/**
 * The filters and sorts of the mix's fifth kind (one word and one of these): what the rooms page's
 * form offers, one at a time, and once the whole form as a browser submits it (empty fields too).
 */
const WEB_FILTERS = [
  'language',
  'type=room',
  'type=space',
  'join_rule=knock',
  'min_members=10',
  'max_members=100',
  'world_readable=true',
  'joinable=true',
  'joinable=custom&joinable_limit=2.5',
  'sort=members',
  'sort=growth7d',
  'sort=newest',
  'sort=complexity',
  'language=&type=&join_rule=&min_members=10&max_members=&joinable=&joinable_limit=&sort=relevance',
];

const prepared = await openDatasetDatabase({
  databaseUrl: values['database-url'],
  ...datasetSize(values),
});
try {
  const paths = await queryMix(prepared.database.sql, 2000, { path: '/', filters: WEB_FILTERS });
  const [room] = await prepared.database.sql<{ room_id: string }[]>`
    select room_id from rooms order by num_joined_members desc limit 1`;
  const loadBefore = loadAverages();
  const profile = values['api-cpu-prof'];
  const api = await startAtlasApi(prepared.url, [
    ...(profile ? ['--cpu-prof', `--cpu-prof-dir=${profile}`] : []),
    ...(values['api-node-flags'] ?? '').split(' ').filter(Boolean),
  ]);
  const measures: (Measure & { startedAt: string; busy: boolean; api: ApiRunStats })[] = [];
  let result: Record<string, unknown>;
  try {
    // Every page of the mix once, one at a time: the sizes, and the warm-up (the answer cache then
    // holds the whole mix, as it would after a while in service).
    console.error(`result pages: ${new Set(paths).size} distinct, one at a time`);
    const pages = await pageSizes(api.url, paths);
    const others = [
      '/',
      '/servers',
      '/stats',
      '/about',
      `/rooms/${encodeURIComponent(room?.room_id ?? '!')}`,
    ];
    const assets = await assetSizes(api.url, [pages.html, ...(await pagesHtml(api.url, others))]);
    // Then the mix once at the measured rate, so the runs start with the cache renewing answers as
    // it does in service, and with the API process idle.
    await pacedLoad(api.url, paths, rate, paths.length / rate);
    await settle(api.pid);
    const pids = { api: api.pid, postgres: await postmasterPid(prepared.database.sql) };
    const quietCores = Number(values['quiet-cores']);
    const busyCores = Number(values['busy-cores']);
    const counted = () => measures.filter((m) => !m.busy).length;
    while (counted() < runs && measures.length < (busyCores > 0 ? Number(values['max-runs']) : runs)) {
      const quiet = quietCores > 0 ? await quietMachine(quietCores) : undefined;
      const inside = await apiRunStats(api.url);
      const startedAt = new Date().toISOString();
      const measure = await measureLoad(rate, pids, () => pacedLoad(api.url, paths, rate, duration));
      const busy = busyCores > 0 && (measure.otherCores ?? 0) > busyCores;
      measures.push({
        startedAt,
        ...measure,
        busy,
        api: await inside.finish(),
        ...(quiet ? { quietBefore: quiet } : {}),
      });
      console.error(`run ${measures.length}${busy ? ' (machine busy: not counted)' : ''}:`, measure);
    }
    const quietRuns = measures.filter((m) => !m.busy);
    const summary = {
      ...summariseRuns(`result pages @${rate}/s`, quietRuns),
      apiLoopDelayP99Ms: round(median(quietRuns.map((m) => m.api.loopDelayP99Ms))),
      apiLoopDelayMaxMs: Math.max(...quietRuns.map((m) => m.api.loopDelayMaxMs)),
      apiGcOver10Ms: quietRuns.reduce((total, m) => total + m.api.gcOver10Ms, 0),
      apiPagesOver50Ms: median(quietRuns.map((m) => m.api.pagesOver50Ms)),
    };
    const gzip = (kind: string) =>
      assets.filter((a) => a.kind === kind).reduce((sum, a) => sum + a.servedBytes, 0);
    const cssJsGzip = gzip('css') + gzip('js');
    const { html: _html, ...pageReport } = pages;
    result = {
      date: new Date().toISOString(),
      machine: {
        cpus: cpus().length,
        cpu: cpus()[0]?.model,
        memoryGiB: Math.round(totalmem() / 2 ** 30),
        node: process.version,
      },
      loadavgBefore: loadBefore,
      loadavgAfter: loadAverages(),
      targets: {
        p50: { target: TARGETS.p50Ms, measured: summary.p50, met: summary.p50 <= TARGETS.p50Ms },
        p99: { target: TARGETS.p99Ms, measured: summary.p99, met: summary.p99 <= TARGETS.p99Ms },
        errors: {
          target: 0,
          measured: summary.errors,
          met: summary.errors === 0 && pages.failed.length === 0,
        },
        pageBytes: {
          target: TARGETS.pageBytes,
          measured: pages.largest.bytes,
          met: pages.largest.bytes <= TARGETS.pageBytes,
        },
        cssJsGzipBytes: {
          target: TARGETS.assetsGzipBytes,
          measured: cssJsGzip,
          met:
            cssJsGzip <= TARGETS.assetsGzipBytes &&
            assets.every((a) => a.kind === 'other' || a.encoding === 'gzip'),
        },
      },
      pages: pageReport,
      assets,
      summary,
      ...(measures.some((m) => m.busy) ? { summaryOfEveryRun: summariseRuns(`every run`, measures) } : {}),
      runs: measures,
    };
  } finally {
    await api.stop();
  }
  const text = JSON.stringify(result, null, 2);
  console.log(text);
  if (values.out) await writeFile(values.out, `${text}\n`);
} finally {
  await prepared.close();
}
