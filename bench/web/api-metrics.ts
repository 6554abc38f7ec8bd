import { round } from '../search/measure.ts';

/**
 * What the API process says about itself on `/metrics` (prom-client's default metrics and Atlas's
 * request histogram), read before and after a run: `atlas api` is measured as it is run, so the
 * bench cannot look inside it any other way.
 */
type Samples = Map<string, number>;

/** `name{labels} value` lines of the Prometheus text format, keyed by `name{labels}`. */
async function scrape(url: string): Promise<Samples> {
  const response = await fetch(`${url}/metrics`);
  if (!response.ok) throw new Error(`/metrics answered ${response.status}`);
  const samples: Samples = new Map();
  for (const line of (await response.text()).split('\n')) {
    const match = /^([a-zA-Z_:][\w:]*(?:\{[^}]*\})?) (\S+)$/.exec(line);
    if (match?.[1] && match[2]) samples.set(match[1], Number(match[2]));
  }
  return samples;
}

export interface ApiRunStats {
  /** The API's event loop over the run (prom-client resets its histogram at each scrape). */
  loopDelayP99Ms: number;
  loopDelayMaxMs: number;
  /** Garbage collections during the run, their total pause, and those over 10 and 100 ms. */
  gcCount: number;
  gcMs: number;
  gcOver10Ms: number;
  gcOver100Ms: number;
  /**
   * Share of the result pages the API itself took more than 10 ms and 50 ms over (from its request
   * histogram: from the first middleware to the last; the time a request waits before the process
   * reads it is not in it, but is in the load's latencies).
   */
  pagesOver10Ms: number;
  pagesOver50Ms: number;
}

const sum = (samples: Samples, match: (key: string) => boolean) =>
  [...samples].reduce((total, [key, value]) => total + (match(key) ? value : 0), 0);

function delta(before: Samples, after: Samples, match: (key: string) => boolean): number {
  return sum(after, match) - sum(before, match);
}

/** Reads the API's metrics now (and so starts its event-loop histogram again); `finish` reads them after. */
export async function apiRunStats(url: string): Promise<{ finish(): Promise<ApiRunStats> }> {
  const before = await scrape(url);
  return {
    async finish() {
      const after = await scrape(url);
      const gcBucket = (le: string) => (key: string) =>
        key.startsWith('nodejs_gc_duration_seconds_bucket{') && key.includes(`le="${le}"`);
      const gcCount = delta(before, after, (key) => key.startsWith('nodejs_gc_duration_seconds_count{'));
      const page = (key: string) =>
        key.startsWith('atlas_http_request_duration_seconds_') &&
        key.includes('method="GET",route="/",status="200"');
      const pages = delta(before, after, (key) => page(key) && key.includes('le="+Inf"'));
      const within = (le: string) => delta(before, after, (key) => page(key) && key.includes(`le="${le}"`));
      return {
        loopDelayP99Ms: round((after.get('nodejs_eventloop_lag_p99_seconds') ?? Number.NaN) * 1000),
        loopDelayMaxMs: round((after.get('nodejs_eventloop_lag_max_seconds') ?? Number.NaN) * 1000),
        gcCount,
        gcMs: round(delta(before, after, (key) => key.startsWith('nodejs_gc_duration_seconds_sum{')) * 1000),
        gcOver10Ms: gcCount - delta(before, after, gcBucket('0.01')),
        gcOver100Ms: gcCount - delta(before, after, gcBucket('0.1')),
        pagesOver10Ms: round(1 - within('0.01') / Math.max(1, pages), 4),
        pagesOver50Ms: round(1 - within('0.05') / Math.max(1, pages), 4),
      };
    },
  };
}
