import { Resolver } from 'node:dns/promises';
import { readFileSync } from 'node:fs';
import { Agent } from 'node:https';
import { decodeBase64, signingKeyFromSeed } from '@atlas/shared/matrix';
import type { Manifest } from './model.ts';
import { federationRequest, locateServer } from './spec-client.ts';

const m = JSON.parse(readFileSync('/tmp/sfserve/manifest.json', 'utf8')) as Manifest;
const [keyId, seed] = readFileSync('/tmp/sfserve/key', 'utf8').split(' ');
const key = signingKeyFromSeed(keyId ?? '', decodeBase64(seed ?? '') ?? Buffer.alloc(32));
const resolver = new Resolver();
resolver.setServers([m.env.ATLAS_DNS_SERVERS ?? '']);
const client = {
  resolver,
  ca: readFileSync(m.env.ATLAS_CA_FILE ?? '', 'utf8'),
  timeoutMs: 20000,
  agent: new Agent({ keepAlive: true, maxSockets: 1 }),
};
const servers = m.servers.filter((s) => s.reachable && s.publishes && s.behaviour === 'normal');
const t0 = Date.now();
let rooms = 0;
let pages = 0;
let next = 0;
async function worker() {
  while (next < servers.length) {
    const s = servers[next++];
    if (!s) return;
    const loc = await locateServer(client, s.name);
    let since: string | undefined;
    for (;;) {
      const uri = `/_matrix/federation/v1/publicRooms?limit=100${since ? `&since=${since}` : ''}`;
      const res = await federationRequest(
        client,
        {
          destination: s.name,
          method: 'GET',
          uri,
          signAs: { serverName: m.env.ATLAS_SERVER_NAME ?? '', key },
        },
        loc,
      );
      const body = res.json() as { chunk: unknown[]; next_batch?: string };
      rooms += body.chunk.length;
      pages++;
      if (!body.next_batch) break;
      since = body.next_batch;
    }
  }
}
await Promise.all(Array.from({ length: Number(process.argv[2] ?? 16) }, worker));
const ms = Date.now() - t0;
console.log({
  servers: servers.length,
  rooms,
  pages,
  ms,
  roomsPerSec: Math.round((rooms / ms) * 1000),
  pagesPerSec: Math.round((pages / ms) * 1000),
});
client.agent.destroy();
