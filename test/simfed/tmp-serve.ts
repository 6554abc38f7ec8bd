import { writeFileSync } from 'node:fs';
import { createApp, startServer } from '@atlas/api';
import type { Database } from '@atlas/shared/db';
import { silentLogger } from '@atlas/shared/log';
import { encodeUnpaddedBase64, generateSigningKey } from '@atlas/shared/matrix';
import type { SearchIndex } from '@atlas/shared/search';
import { startSimFed } from './simfed.ts';

const t0 = Date.now();
const sim = await startSimFed({
  servers: Number(process.argv[2] ?? 1000),
  seed: 'bench',
  dir: '/tmp/sfserve',
  ...(process.argv[3] ? { bigServerRooms: Number(process.argv[3]) } : {}),
});
console.error(
  'start ms',
  Date.now() - t0,
  'rss MB',
  Math.round(process.memoryUsage().rss / 1e6),
  sim.manifest.totals,
);
const key = generateSigningKey();
writeFileSync('/tmp/sfserve/key', `${key.keyId} ${encodeUnpaddedBase64(key.seed)}`);
const app = createApp({
  database: {} as Database,
  log: silentLogger,
  identity: { serverName: sim.atlas.serverName, signingKey: key },
  search: {} as SearchIndex,
  settings: { adminTokens: [], rateLimitPerMinute: 0, reportsPerHour: 0, trustedProxies: [] },
});
await startServer(app, {
  http: { host: '127.0.0.1', port: 0 },
  federation: {
    host: '127.0.0.1',
    port: sim.atlas.federationPort,
    certFile: sim.atlas.certFile,
    keyFile: sim.atlas.keyFile,
  },
});
console.log('ready');
setInterval(
  () =>
    console.error(
      'rss MB',
      Math.round(process.memoryUsage().rss / 1e6),
      JSON.stringify(sim.totals().byEndpoint['GET /_matrix/federation/v1/publicRooms']),
      'tls',
      sim.totals().tlsConnections,
    ),
  5000,
).unref();
process.on('SIGTERM', () => process.exit(0));
await new Promise(() => {});
