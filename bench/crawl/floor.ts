// Request floor: what the federation requests of one benchmark crawl cost on this machine when
// nothing else is done with them. A bare HTTPS server (one process) verifies each request's X-Matrix
// signature and answers a small query/directory-sized JSON body; this process signs each request,
// sends it over kept-alive TLS connections and parses the answer. No DNS, no database, no queue, no
// SSRF guard, no per-host ordering: the cheapest way the same requests can be made, so its rooms/s
// is an upper bound for any crawler that has to make them.
// Usage: node --import tsx bench/crawl/floor.ts [--requests 60000] [--concurrency 32] [--runs 3]
//   [--rooms 82238] [--unsigned] [--out floor.json]
import { fork } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { Agent, createServer, request as httpsRequest } from 'node:https';
import type { AddressInfo } from 'node:net';
import { cpus, loadavg, totalmem } from 'node:os';
import { parseArgs } from 'node:util';
import {
  generateSigningKey,
  parseXMatrixAuthorization,
  publicKeyFromBase64,
  verifyXMatrixRequest,
  xMatrixAuthorization,
} from '@atlas/shared/matrix';
import { createTestCa } from '../../test/support/test-ca.ts';

const { values } = parseArgs({
  options: {
    /** Requests per run; a federation run of bench/crawl makes ~60,700, ~52,000 of them signed. */
    requests: { type: 'string', default: '60000' },
    concurrency: { type: 'string', default: '32' },
    runs: { type: 'string', default: '3' },
    /** Rooms the benchmark federation stores, to turn the floor into a rooms/s ceiling. */
    rooms: { type: 'string', default: '82238' },
    /** Neither sign nor verify: what the TLS and HTTP part alone costs. */
    unsigned: { type: 'boolean', default: false },
    out: { type: 'string' },
    /** Internal: run as the server process. */
    serve: { type: 'boolean', default: false },
  },
});

const ORIGIN = 'atlas.floor.test';
const SERVERS = 1000;

interface ServerReady {
  port: number;
}
interface ServerCpu {
  cpuSeconds: number;
  requests: number;
  rejected: number;
}

async function serve(): Promise<void> {
  const unsigned = values.unsigned;
  const publicKey = unsigned ? null : publicKeyFromBase64(process.env.FLOOR_PUBLIC_KEY ?? '');
  if (!unsigned && !publicKey) throw new Error('FLOOR_PUBLIC_KEY is not an ed25519 public key');
  const cert = JSON.parse(process.env.FLOOR_TLS ?? '{}') as { cert: string; key: string };
  let requests = 0;
  let rejected = 0;
  const server = createServer({ cert: cert.cert, key: cert.key, keepAliveTimeout: 60_000 }, (req, res) => {
    requests++;
    const host = req.headers.host ?? '';
    if (publicKey) {
      const credentials = parseXMatrixAuthorization(req.headers.authorization);
      if (
        !credentials ||
        !verifyXMatrixRequest(
          credentials,
          { method: req.method ?? 'GET', uri: req.url ?? '/', destination: host },
          publicKey,
        )
      ) {
        rejected++;
        res.writeHead(401, { 'content-type': 'application/json' }).end('{"errcode":"M_UNAUTHORIZED"}');
        return;
      }
    }
    const body = JSON.stringify({
      room_id: `!${(req.url ?? '').slice(-18)}:${host}`,
      servers: [host, 'server1.sim.test', 'server2.sim.test', 'server3.sim.test'],
    });
    res
      .writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) })
      .end(body);
  });
  server.listen(0, '127.0.0.1', () => {
    process.send?.({ port: (server.address() as AddressInfo).port } satisfies ServerReady);
  });
  process.on('message', (message) => {
    if (message !== 'cpu') return;
    const usage = process.cpuUsage();
    process.send?.({ cpuSeconds: (usage.user + usage.system) / 1e6, requests, rejected } satisfies ServerCpu);
  });
}

interface RunResult {
  requests: number;
  wallSeconds: number;
  clientCpuSeconds: number;
  serverCpuSeconds: number;
  /** Microseconds of CPU (both processes) per request. */
  cpuPerRequestUs: number;
  /** Rooms/s if a crawl needed only these requests, bounded by wall time and by two cores' CPU. */
  roomsPerSecondCeiling: number;
  loadAverage: number;
}

function once<T>(child: ReturnType<typeof fork>, test: (m: unknown) => m is T): Promise<T> {
  return new Promise((resolve, reject) => {
    const onMessage = (m: unknown) => {
      if (!test(m)) return;
      child.off('message', onMessage);
      resolve(m);
    };
    child.on('message', onMessage);
    child.once('exit', (code) => reject(new Error(`floor server exited (${code})`)));
  });
}

async function run(ca: Awaited<ReturnType<typeof createTestCa>>): Promise<RunResult> {
  const total = Number(values.requests);
  const concurrency = Number(values.concurrency);
  const key = generateSigningKey();
  const names = Array.from({ length: SERVERS }, (_, i) => `server${i}.sim.test`);
  const tls = await ca.issue(['*.sim.test', '127.0.0.1']);
  const child = fork(new URL(import.meta.url), ['--serve', ...(values.unsigned ? ['--unsigned'] : [])], {
    execArgv: ['--import', 'tsx'],
    env: { ...process.env, FLOOR_PUBLIC_KEY: key.publicKeyBase64, FLOOR_TLS: JSON.stringify(tls) },
  });
  try {
    const { port } = await once(child, (m): m is ServerReady => typeof (m as ServerReady)?.port === 'number');
    const agent = new Agent({ keepAlive: true, maxSockets: concurrency, ca: ca.cert });
    const serverBefore = await askCpu(child);
    const clientBefore = process.cpuUsage();
    const started = performance.now();
    let next = 0;
    let failures = 0;
    const worker = async () => {
      while (next < total) {
        const i = next++;
        const destination = names[i % SERVERS] ?? 'server0.sim.test';
        const uri = `/_matrix/federation/v1/query/directory?room_alias=%23room-${i}%3A${destination}`;
        const headers: Record<string, string> = { host: destination };
        if (!values.unsigned) {
          headers.authorization = xMatrixAuthorization(
            { method: 'GET', uri, origin: ORIGIN, destination },
            key,
          );
        }
        const ok = await new Promise<boolean>((resolve) => {
          const req = httpsRequest(
            {
              host: '127.0.0.1',
              port,
              path: uri,
              method: 'GET',
              headers,
              agent,
              servername: 'floor.sim.test',
            },
            (res) => {
              const chunks: Buffer[] = [];
              res.on('data', (c: Buffer) => chunks.push(c));
              res.on('end', () => {
                try {
                  const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { servers?: unknown };
                  resolve(res.statusCode === 200 && Array.isArray(body.servers));
                } catch {
                  resolve(false);
                }
              });
            },
          );
          req.on('error', () => resolve(false));
          req.end();
        });
        if (!ok) failures++;
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
    const wallSeconds = (performance.now() - started) / 1000;
    const clientUsage = process.cpuUsage(clientBefore);
    const serverAfter = await askCpu(child);
    agent.destroy();
    if (failures > 0) throw new Error(`${failures} of ${total} requests failed`);
    const clientCpuSeconds = (clientUsage.user + clientUsage.system) / 1e6;
    const serverCpuSeconds = serverAfter.cpuSeconds - serverBefore.cpuSeconds;
    const seconds = Math.max(wallSeconds, (clientCpuSeconds + serverCpuSeconds) / cpus().length);
    return {
      requests: total,
      wallSeconds,
      clientCpuSeconds,
      serverCpuSeconds,
      cpuPerRequestUs: ((clientCpuSeconds + serverCpuSeconds) / total) * 1e6,
      roomsPerSecondCeiling: Number(values.rooms) / seconds,
      loadAverage: loadavg()[0] ?? 0,
    };
  } finally {
    child.kill();
  }
}

async function askCpu(child: ReturnType<typeof fork>): Promise<ServerCpu> {
  const answer = once(child, (m): m is ServerCpu => typeof (m as ServerCpu)?.cpuSeconds === 'number');
  child.send('cpu');
  return answer;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] ?? 0) : ((s[mid - 1] ?? 0) + (s[mid] ?? 0)) / 2;
}

async function main(): Promise<void> {
  const ca = await createTestCa('Atlas floor CA');
  const results: RunResult[] = [];
  for (let r = 0; r < Number(values.runs); r++) {
    const result = await run(ca);
    results.push(result);
    console.error(
      `run ${r + 1}: ${result.requests} ${values.unsigned ? 'unsigned' : 'signed'} requests in ${result.wallSeconds.toFixed(1)} s, ` +
        `CPU client ${result.clientCpuSeconds.toFixed(1)} s + server ${result.serverCpuSeconds.toFixed(1)} s ` +
        `(${result.cpuPerRequestUs.toFixed(0)} µs a request), ceiling ${result.roomsPerSecondCeiling.toFixed(0)} rooms/s`,
    );
  }
  const summary = {
    machine: {
      date: new Date().toISOString(),
      cpu: cpus()[0]?.model,
      cores: cpus().length,
      memoryGb: Math.round(totalmem() / 2 ** 30),
      node: process.version,
    },
    signed: !values.unsigned,
    concurrency: Number(values.concurrency),
    runs: results,
    median: {
      wallSeconds: median(results.map((r) => r.wallSeconds)),
      clientCpuSeconds: median(results.map((r) => r.clientCpuSeconds)),
      serverCpuSeconds: median(results.map((r) => r.serverCpuSeconds)),
      cpuPerRequestUs: median(results.map((r) => r.cpuPerRequestUs)),
      roomsPerSecondCeiling: median(results.map((r) => r.roomsPerSecondCeiling)),
    },
  };
  const text = JSON.stringify(summary, null, 2);
  if (values.out) await writeFile(values.out, `${text}\n`);
  console.log(text);
}

await (values.serve ? serve() : main());
