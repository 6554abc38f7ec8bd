import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadOrCreateSigningKey } from '@atlas/shared/matrix';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createTestApi, type TestApi } from '../support/api-app.ts';
import { killAtlas, type RunningAtlas, startAtlasCommand, untilHealthy } from '../support/atlas-process.ts';
import { type DnsServer, startDnsServer } from '../support/dns-server.ts';
import {
  atlasBackendOn,
  readHaproxyTemplate,
  resolversAsking,
  startHaproxy,
  templateSection,
  untilHaproxy,
} from '../support/haproxy.ts';
import { freePort, waitFor } from '../support/ports.ts';
import { seedRooms } from '../support/seed-rooms.ts';

// Issue 16's fault test: an API replica killed under load. A real HAProxy runs the deploy template's
// own `backend atlas` section (and its `defaults` and `resolvers docker`), in front of two `atlas api`
// processes on one PostgreSQL and one Redis. As Docker's DNS does for a scaled service, a DNS server
// answers `atlas-api` with one address per replica (127.0.0.2 and 127.0.0.3, the same port). Under
// steady load one replica gets kill -9, then is started again. What a user would notice is asserted:
// no request gets a 5xx or a connection error; HAProxy says the killed replica is DOWN, then UP once it
// is back, and it serves again; and a client's rate limit, partly counted by the killed replica,
// still holds.

const REPLICAS = ['127.0.0.2', '127.0.0.3'];
/** Requests per minute per client address, counted in Redis for both replicas. */
const LIMIT = 20;
const PATHS = ['/api/v1/rooms?q=rust', '/api/v1/stats', '/api/v1/rooms?q=matrix%20chat'];

let dir: string;
let api: TestApi;
let dns: DnsServer;
let apiPort: number;
let proxy: RunningAtlas;
let proxyBase: string;
let socket: string;
const replicas = new Map<string, RunningAtlas>();

function startReplica(address: string): Promise<void> {
  const replica = startAtlasCommand(['api'], {
    DATABASE_URL: api.database.url,
    REDIS_URL: inject('redisUrl'),
    ATLAS_DATA_DIR: path.join(dir, 'data'),
    HOST: address,
    PORT: String(apiPort),
    LOG_LEVEL: 'info',
    ATLAS_MEDIA: 'off',
    ATLAS_RATE_LIMIT: String(LIMIT),
    // HAProxy's X-Forwarded-For names the client, as in the deployed stack.
    ATLAS_TRUSTED_PROXIES: '127.0.0.0/8',
  });
  replicas.set(address, replica);
  return untilHealthy(replica, `http://${address}:${apiPort}`);
}

/**
 * The template's `resolvers docker` (asking the test's DNS server instead of resolv.conf's), its
 * `defaults` and its `backend atlas` (with the test's port), behind a plain HTTP frontend that logs
 * each request's X-Forwarded-For, and the runtime API on a socket.
 */
async function haproxyConfig(proxyPort: number): Promise<string> {
  const template = await readHaproxyTemplate();
  return [
    'global',
    '  log stdout format raw local0 info',
    `  stats socket ${socket} mode 600 level admin`,
    '',
    resolversAsking(template, dns.address),
    templateSection(template, 'defaults'),
    'frontend test',
    `  bind 127.0.0.1:${proxyPort}`,
    '  http-request capture req.hdr(x-forwarded-for) len 40',
    '  default_backend atlas',
    '',
    atlasBackendOn(template, apiPort),
  ].join('\n');
}

/** A client address of its own: the load's clients never meet the rate limit, and no run meets another's. */
function freshAddress(): string {
  const bytes = randomBytes(2);
  return `198.51.${bytes[0]}.${bytes[1]}`;
}

/** One command on HAProxy's runtime API (the stats socket), and its whole answer. */
function askHaproxy(command: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const connection = createConnection(socket);
    let answer = '';
    connection.on('data', (chunk: Buffer) => {
      answer += chunk.toString('utf8');
    });
    connection.once('error', reject);
    connection.once('end', () => resolve(answer));
    connection.end(`${command}\n`);
  });
}

interface Slot {
  name: string;
  /** `127.0.0.2:port`, once the resolver has filled the slot. */
  addr: string;
  status: string;
  /** 2xx responses it gave. */
  served: number;
  /** Requests that went from it to another replica. */
  redispatched: number;
}

/** The `backend atlas` slots as HAProxy's stats show them. */
async function atlasSlots(): Promise<Slot[]> {
  const [header = '', ...rows] = (await askHaproxy('show stat')).trim().split('\n');
  const columns = header.replace(/^# /, '').split(',');
  return rows
    .map((row) => {
      const cells = row.split(',');
      return (column: string) => cells[columns.indexOf(column)] ?? '';
    })
    .filter((cell) => cell('pxname') === 'atlas' && cell('svname') !== 'BACKEND')
    .map((cell) => ({
      name: cell('svname'),
      addr: cell('addr'),
      status: cell('status'),
      served: Number(cell('hrsp_2xx')),
      redispatched: Number(cell('wredis')),
    }));
}

async function slotOf(address: string): Promise<Slot> {
  const slot = (await atlasSlots()).find((s) => s.addr === `${address}:${apiPort}`);
  if (!slot) throw new Error(`no HAProxy slot has ${address}:${apiPort}`);
  return slot;
}

function untilSlot(address: string, status: 'UP' | 'DOWN'): Promise<void> {
  return waitFor(
    `HAProxy to mark ${address} ${status}`,
    async () => (await slotOf(address)).status === status,
    120_000,
    200,
  );
}

/**
 * Clients that keep asking through HAProxy until stopped (a pause after each answer, and a cap, keep
 * the load small): every answer that is not a 200, and every failed request, is kept.
 */
function startLoad(clients = 2, pauseMs = 25, cap = 5_000) {
  let stopping = false;
  let sent = 0;
  const failures: string[] = [];
  const client = async () => {
    while (!stopping && sent < cap) {
      const target = PATHS[sent++ % PATHS.length] ?? '/api/v1/stats';
      try {
        const response = await fetch(`${proxyBase}${target}`, {
          headers: { 'x-forwarded-for': freshAddress() },
        });
        await response.arrayBuffer();
        if (response.status !== 200) failures.push(`${target}: ${response.status}`);
      } catch (error) {
        failures.push(`${target}: ${String(error)}`);
      }
      await new Promise((resolve) => setTimeout(resolve, pauseMs));
    }
  };
  const running = Promise.all(Array.from({ length: clients }, client));
  return {
    sent: () => sent,
    async stop(): Promise<string[]> {
      stopping = true;
      await running;
      return failures;
    },
  };
}

/** Statuses of `count` requests in a row from one client address. */
async function fromClient(ip: string, count: number): Promise<number[]> {
  const statuses: number[] = [];
  for (let i = 0; i < count; i++) {
    const response = await fetch(`${proxyBase}/api/v1/stats`, { headers: { 'x-forwarded-for': ip } });
    await response.arrayBuffer();
    statuses.push(response.status);
  }
  return statuses;
}

/** The slots HAProxy's log says served this client address (the test's frontend captures it). */
function slotsThatServed(ip: string): Set<string> {
  const served = proxy
    .output()
    .split('\n')
    .filter((line) => line.includes(`{${ip}}`))
    .map((line) => /\batlas\/(\S+)/.exec(line)?.[1] ?? '');
  return new Set(served);
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'atlas-replica-killed-'));
  api = await createTestApi('api_replica_killed');
  await seedRooms(
    api.database,
    Array.from({ length: 30 }, (_, i) => ({
      roomId: `!room${i}:example.org`,
      name: i % 2 === 0 ? `Rust lovers ${i}` : `Matrix chat ${i}`,
      members: 10 + i,
    })),
  );
  await api.reindex();
  // Both replicas sign with one key, as the compose roles share the data volume.
  await loadOrCreateSigningKey(path.join(dir, 'data', 'signing.key'));

  apiPort = await freePort(REPLICAS[0]);
  for (const address of REPLICAS) await startReplica(address);
  dns = await startDnsServer();
  dns.setRecords(REPLICAS.map((address) => ({ type: 'A' as const, name: 'atlas-api', address })));

  const proxyPort = await freePort();
  proxyBase = `http://127.0.0.1:${proxyPort}`;
  socket = path.join(dir, 'admin.sock');
  proxy = await startHaproxy(dir, await haproxyConfig(proxyPort));
  for (const address of REPLICAS) {
    await untilHaproxy(
      proxy,
      `HAProxy to balance ${address}`,
      async () => (await slotOf(address)).status === 'UP',
    );
  }
}, 300_000);

afterAll(async () => {
  for (const replica of replicas.values()) await killAtlas(replica);
  await killAtlas(proxy);
  await dns?.close();
  await api?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('an API replica killed under load, behind the deploy template’s HAProxy backend', () => {
  it('costs no client an error, is marked DOWN, and serves again once it is back', {
    timeout: 300_000,
  }, async () => {
    const [survivor = '', victim = ''] = REPLICAS;
    const before = await slotOf(victim);
    const load = startLoad();
    await waitFor('the load to be under way', () => load.sent() >= 60, 60_000, 50);
    // Both replicas take their share.
    for (const address of REPLICAS) expect((await slotOf(address)).served).toBeGreaterThan(0);

    // A client half way through its rate limit, its requests spread over both replicas.
    const heavy = freshAddress();
    expect(await fromClient(heavy, LIMIT / 2)).toEqual(Array(LIMIT / 2).fill(200));
    const both = new Set([before.name, (await slotOf(survivor)).name]);
    await waitFor('HAProxy to log that both replicas served the client', () =>
      [...both].every((name) => slotsThatServed(heavy).has(name)),
    );

    const killed = replicas.get(victim);
    killed?.child.kill('SIGKILL');
    await killed?.exited;
    const restOfLimit = await fromClient(heavy, LIMIT);
    await untilSlot(victim, 'DOWN');
    const sentWhileDown = load.sent();
    await waitFor('more load while one replica is down', () => load.sent() >= sentWhileDown + 40, 60_000, 50);

    await startReplica(victim);
    await untilSlot(victim, 'UP');
    const failures = await load.stop();
    expect(failures).toEqual([]);
    // What the killed replica counted is in Redis: the client got the rest of its limit, no more.
    expect(restOfLimit).toEqual([...Array(LIMIT / 2).fill(200), ...Array(LIMIT / 2).fill(429)]);
    // The load did meet the dead replica: requests sent to it went to the other one.
    const back = await slotOf(victim);
    expect(back.redispatched).toBeGreaterThan(0);
    const log = proxy.output();
    const down = log.indexOf(`Server atlas/${back.name} is DOWN`);
    expect(down, log.slice(-5_000)).toBeGreaterThanOrEqual(0);
    expect(log.indexOf(`Server atlas/${back.name} is UP`, down)).toBeGreaterThan(down);

    // Back in the rotation: it answers its share again.
    expect(await fromClient(freshAddress(), 10)).toEqual(Array(10).fill(200));
    expect((await slotOf(victim)).served).toBeGreaterThan(back.served);
  });
});
