import { Resolver } from 'node:dns/promises';
import { createApp, startServer } from '@atlas/api';
import type { Database } from '@atlas/shared/db';
import { silentLogger } from '@atlas/shared/log';
import { generateSigningKey } from '@atlas/shared/matrix';
import type { SearchIndex } from '@atlas/shared/search';
import { referenceCrawl } from './reference-crawl.ts';
import { startSimFed } from './simfed.ts';

const t0 = Date.now();
const sim = await startSimFed({
  servers: 30,
  seed: 'federation-test',
  dir: '/tmp/sfprof',
  slowDelayMs: 200,
  stallMs: 60_000,
});
console.log('start', Date.now() - t0);
const key = generateSigningKey();
const app = createApp({
  database: {} as Database,
  log: silentLogger,
  identity: { serverName: sim.atlas.serverName, signingKey: key },
  search: {} as SearchIndex,
  settings: { adminTokens: [], rateLimitPerMinute: 0, reportsPerHour: 0, trustedProxies: [] },
});
const srv = await startServer(app, {
  http: { host: '127.0.0.1', port: 0 },
  federation: {
    host: '127.0.0.1',
    port: sim.atlas.federationPort,
    certFile: sim.atlas.certFile,
    keyFile: sim.atlas.keyFile,
  },
});
const resolver = new Resolver({ timeout: 2000, tries: 1 });
resolver.setServers([sim.dns.address]);
for (let i = 0; i < 2; i++) {
  const t1 = Date.now();
  const c = await referenceCrawl({
    client: { resolver, ca: sim.caCert, timeoutMs: 1500 },
    seeds: sim.manifest.seeds,
    identity: { serverName: sim.atlas.serverName, key },
  });
  console.log(
    'crawl',
    Date.now() - t1,
    c.found.size,
    JSON.stringify(sim.totals().byEndpoint),
    sim.dns.queryCount,
  );
}
await srv.close();
await sim.close();
