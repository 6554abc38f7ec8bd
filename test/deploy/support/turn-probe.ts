// Runs inside the test network (nsenter): a STUN Binding and TURN Allocates against coturn, with
// REST API credentials derived from the shared secret and with wrong ones, each from a socket of
// its own (an allocation belongs to its 5-tuple). Prints JSON.
//   node --import tsx turn-probe.ts <host> <port> <secret-file>
import { readFile } from 'node:fs/promises';
import { restCredentials, StunClient } from './stun-turn.ts';

const [host = '127.0.0.1', portText = '3478', secretFile = ''] = process.argv.slice(2);
const port = Number(portText);
const secret = (await readFile(secretFile, 'utf8')).trim();

async function withClient<T>(use: (client: StunClient) => Promise<T>): Promise<T> {
  const client = await StunClient.open(host, port);
  try {
    return await use(client);
  } finally {
    client.close();
  }
}

const binding = await withClient(async (client) => ({
  localPort: client.localPort,
  mapped: await client.binding(),
}));
const allocation = await withClient(async (client) => {
  const { username, password } = restCredentials(secret, '@alice:example.test');
  const result = await client.allocate(username, password);
  if (!result.ok) return result;
  // Peers in private, loopback and multicast ranges must be refused (403 Forbidden).
  const deniedPeers: Record<string, unknown> = {};
  for (const peer of [
    '10.1.2.3',
    '172.16.0.9',
    '192.168.1.1',
    '127.0.0.1',
    '169.254.1.1',
    '100.64.0.1',
    '224.0.0.1',
  ]) {
    deniedPeers[peer] = await result.createPermission(peer);
  }
  await result.release();
  return { ok: true, relayed: result.relayed, lifetime: result.lifetime, deniedPeers };
});
const wrongSecret = await withClient(async (client) => {
  const { username, password } = restCredentials('not-the-secret', '@alice:example.test');
  const result = await client.allocate(username, password);
  return result.ok ? { ok: true } : result;
});
const expired = await withClient(async (client) => {
  const { username, password } = restCredentials(secret, '@alice:example.test', -60);
  const result = await client.allocate(username, password);
  return result.ok ? { ok: true } : result;
});
process.stdout.write(`${JSON.stringify({ ...binding, allocation, wrongSecret, expired })}\n`);
