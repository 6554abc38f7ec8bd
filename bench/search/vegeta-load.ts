import { spawn } from 'node:child_process';
import type { PacedResult } from './paced-load.ts';

/**
 * The same open-loop fixed-rate load as paced-load.ts, sent by vegeta (a constant-rate HTTP load
 * tool in Go) in a process of its own: the Node load generator's own garbage collection and timer
 * lateness (p99 ~6 ms on this machine) otherwise add to every latency it records. vegeta starts a
 * new worker whenever all are busy, so a slow answer never holds the rate back. Latencies are from
 * when each request was sent. Install: `go install github.com/tsenart/vegeta/v12@v12.12.0`.
 */
export async function vegetaLoad(
  binary: string,
  url: string,
  paths: string[],
  rate: number,
  seconds: number,
  timeoutMs = 10_000,
): Promise<PacedResult> {
  const total = Math.round(rate * seconds);
  const targets = Array.from({ length: total }, (_, i) => `GET ${url}${paths[i % paths.length] ?? '/'}`).join(
    '\n',
  );
  const attack = spawn(
    binary,
    ['attack', `-rate=${rate}/s`, `-duration=${seconds}s`, `-timeout=${timeoutMs}ms`, '-keepalive=true'],
    { stdio: ['pipe', 'pipe', 'pipe'] },
  );
  const encode = spawn(binary, ['encode', '--to', 'csv'], { stdio: ['pipe', 'pipe', 'pipe'] });
  attack.stdout.pipe(encode.stdin);
  attack.stdin.end(`${targets}\n`);
  let csv = '';
  let stderr = '';
  encode.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    csv += chunk;
  });
  attack.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  const exited = (child: typeof attack) =>
    new Promise<number>((resolve, reject) => {
      child.once('error', (error) =>
        reject(new Error(`cannot run ${binary} (${error.message}); install it: ${INSTALL}`)),
      );
      child.once('close', (code) => resolve(code ?? 1));
    });
  const [attackCode, encodeCode] = await Promise.all([exited(attack), exited(encode)]);
  if (attackCode !== 0 || encodeCode !== 0)
    throw new Error(`vegeta failed (${attackCode}/${encodeCode}): ${stderr}`);
  // CSV columns: timestamp (ns), status code, latency (ns), bytes out, bytes in, error, body, ...
  const result: PacedResult = { requests: 0, errors: 0, latencies: [] };
  for (const line of csv.split('\n')) {
    if (!line) continue;
    const [, code, latencyNs] = line.split(',');
    result.requests++;
    if (code === '200') result.latencies.push(Number(latencyNs) / 1e6);
    else result.errors++;
  }
  return result;
}

const INSTALL = 'go install github.com/tsenart/vegeta/v12@v12.12.0 (puts it in ~/go/bin)';
