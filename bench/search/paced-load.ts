import http from 'node:http';

export interface PacedResult {
  /** Requests answered (any status). */
  requests: number;
  /** Answers other than 200, connection errors and timeouts. */
  errors: number;
  /** Latency of each 200 answer in ms, from the moment the request was due. */
  latencies: number[];
}

/**
 * An open-loop load at a fixed rate: request i is due at start + i / rate and is sent then, whether
 * or not earlier ones were answered, over keep-alive connections (as many as are busy at once).
 * autocannon's rate limit sends each second's quota back to back on every connection at the top
 * of the second and then waits, so at "500/s" it measures bursts of 50 concurrent requests rather
 * than a steady 500/s. Latency counts from when a request was due, so a server (or this process)
 * that falls behind is charged for the wait (no coordinated omission).
 */
export async function pacedLoad(
  url: string,
  paths: string[],
  rate: number,
  seconds: number,
  timeoutMs = 10_000,
  /** Called with each 200 answer's path and latency (to find which searches make the tail). */
  record?: (path: string, ms: number) => void,
): Promise<PacedResult> {
  const target = new URL(url);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1024 });
  const total = Math.round(rate * seconds);
  const interval = 1000 / rate;
  const result: PacedResult = { requests: 0, errors: 0, latencies: [] };
  const start = performance.now() + 5;
  let sent = 0;
  let settled = 0;
  await new Promise<void>((resolve) => {
    const send = (due: number, path: string) => {
      let finished = false;
      const finish = (latency: number | null) => {
        if (finished) return;
        finished = true;
        if (latency === null) result.errors++;
        else {
          result.latencies.push(latency);
          record?.(path, latency);
        }
        settled++;
        if (settled === total) resolve();
      };
      const request = http.request(
        { host: target.hostname, port: target.port, path, agent, method: 'GET' },
        (response) => {
          response.resume();
          response.on('end', () => {
            result.requests++;
            finish(response.statusCode === 200 ? performance.now() - due : null);
          });
          response.on('error', () => finish(null));
        },
      );
      request.setTimeout(timeoutMs, () => request.destroy(new Error('timed out')));
      request.on('error', () => finish(null));
      request.end();
    };
    const tick = () => {
      const now = performance.now();
      while (sent < total && start + sent * interval <= now) {
        send(start + sent * interval, paths[sent % paths.length] ?? '/');
        sent++;
      }
      if (sent < total) setTimeout(tick, Math.max(0, start + sent * interval - performance.now()));
    };
    if (total === 0) resolve();
    else setTimeout(tick, 5);
  });
  agent.destroy();
  return result;
}
