import { randomInt } from 'node:crypto';
import { Resolver } from 'node:dns/promises';
import { chmod, mkdir, rename, writeFile } from 'node:fs/promises';
import { Agent } from 'node:https';
import path from 'node:path';
import type { SigningKey } from '@atlas/shared/matrix';
import { type DnsRecord, type DnsServer, startDnsServer } from '../support/dns-server.ts';
import { freePort } from '../support/ports.ts';
import { createTestCa } from '../support/test-ca.ts';
import { address, HOST, PORT } from './addresses.ts';
import { RequestAuthenticator } from './auth.ts';
import { DOMAIN, generateFederation } from './generate.ts';
import { type ListenerKey, listenerId, type Placement, placeServer } from './layout.ts';
import { Listeners } from './listeners.ts';
import { buildManifest } from './manifest.ts';
import { startMediaHost, startTrap } from './media.ts';
import type { Manifest, SimServer } from './model.ts';
import { applyMutation, type ChangeSummary, type Mutation, seededChanges } from './mutate.ts';
import { DirectoryHold, emptyStats, type ServerStats, SimState } from './state.ts';

export interface StartSimFedOptions {
  /** Number of simulated homeservers. */
  servers: number;
  /** Same seed and options, same federation (names, rooms, behaviours). */
  seed: number | string;
  /** Where manifest.json, the CA and Atlas's certificate go. */
  dir: string;
  /** Directory listings spread over the servers on a power law (default 100 per server). */
  rooms?: number;
  /** The first seed lists exactly this many rooms (the single-huge-directory benchmark). */
  bigServerRooms?: number;
  /**
   * Adds a seed whose federation directory never ends: every page 100 new, valid-looking rooms
   * (endless.ts). It answers every request after `delayMs` (default 0). The other servers are the
   * same as without it.
   */
  endlessDirectory?: { delayMs?: number };
  atlas?: {
    /** Address Atlas's federation TLS listener is reachable at (default 127.0.0.1). */
    host?: string;
    /** Its port (default: a free one); Atlas's server name is `atlas.simfed.test:<port>`. */
    federationPort?: number;
  };
  /** How long `slow` servers wait before answering (default 1000 ms). */
  slowDelayMs?: number;
  /** How long stalled and trickling servers hold a connection (default 10 minutes). */
  stallMs?: number;
  /**
   * How long a server keeps another server's directory page it fetched for its client API
   * (`publicRooms?server=`); default 30 s, Synapse's `remote_response_cache`. 0 keeps nothing.
   */
  remoteCacheMs?: number;
}

export interface AtlasIdentity {
  serverName: string;
  host: string;
  federationPort: number;
  certFile: string;
  keyFile: string;
}

export interface SimFed {
  /** The current manifest (rebuilt after each change). */
  readonly manifest: Manifest;
  readonly manifestPath: string;
  /** Environment for Atlas: ATLAS_DNS_SERVERS, ATLAS_CA_FILE, ATLAS_ALLOW_NETWORKS, ATLAS_SERVER_NAME, TLS files, seeds. */
  readonly env: Record<string, string>;
  /** The simfed's loopback /24, e.g. `127.41.7.0/24`. */
  readonly network: string;
  readonly dns: DnsServer;
  /** PEM of the CA that signed every simulated server's certificate and Atlas's. */
  readonly caCert: string;
  readonly atlas: AtlasIdentity;
  /** Counters of one simulated server (requests, verified and rejected signatures, concurrency). */
  stats(serverName: string): ServerStats;
  /** A simulated server's signing key, to send Atlas requests signed as that homeserver. */
  signingKey(serverName: string): SigningKey;
  /** Counters summed over all servers, plus requests that reached no server. */
  totals(): ServerStats & { misrouted: number; keyFetches: number; tlsConnections: number };
  resetStats(): void;
  /** Changes what the servers serve, then rewrites the manifest. */
  mutate(mutation: Mutation): Promise<ChangeSummary>;
  /** A seeded round of changes (unpublished, renamed, resized and new rooms, new servers). */
  applyChanges(label?: string): Promise<ChangeSummary>;
  /**
   * Answers `pages` federation directory pages of `serverName`, then holds the next request until
   * `release()` (to change the federation in the middle of a read). Filtered searches are not held.
   */
  holdDirectory(serverName: string, pages: number): { reached: Promise<void>; release(): void };
  /** The media side: hostile answers' witnesses and the media host's counters. */
  media: {
    /** Connections that reached the private address hostile media points at (must stay 0). */
    trapConnections(): number;
    /** Requests the media host (the `Location`s' target) answered. */
    hostRequests(): number;
    /** Makes the decompression bomb now (so a memory measurement does not count the simulator). */
    prepare(): Promise<void>;
  };
  close(): Promise<void>;
}

const ATLAS_HOSTNAME = `atlas.${DOMAIN}`;
const MEDIA_HOSTNAME = `media.${DOMAIN}`;
/** How long a simulated server waits for another's directory before answering 502. */
const REMOTE_DIRECTORY_TIMEOUT_MS = 10_000;

function randomBlockPrefix(): string {
  // Avoid 127.0.0.0/16, where 127.0.0.1 and friends live.
  return `127.${randomInt(16, 251)}.${randomInt(0, 256)}`;
}

function isAddressTaken(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException).code;
  return code === 'EADDRINUSE' || code === 'EADDRNOTAVAIL';
}

/** Every listener the layout needs: the fixed ones of the block, plus one per IP-literal server. */
function listenerKeys(prefix: string, placements: Iterable<Placement>): ListenerKey[] {
  const main = address(prefix, HOST.main);
  const keys = new Map<string, ListenerKey>();
  const add = (key: ListenerKey) => keys.set(listenerId(key), key);
  for (const port of [PORT.https, PORT.federation, ...PORT.explicit, PORT.delegated, PORT.srv])
    add({ address: main, port });
  add({ address: address(prefix, HOST.no443), port: PORT.federation });
  for (const placement of placements) {
    if (placement.endpoint) add(placement.endpoint);
    for (const route of placement.routes) add(route.listener);
  }
  return [...keys.values()];
}

async function writeFileAtomic(file: string, text: string): Promise<void> {
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, text);
  await rename(tmp, file);
}

/**
 * Starts a simulated Matrix federation on loopback: a DNS server, a CA, and N homeservers behind
 * a few TLS listeners in a dedicated 127.x.y.0/24, speaking the real federation API. Writes
 * `<dir>/manifest.json` and returns a handle to inspect, change and stop it.
 */
export async function startSimFed(options: StartSimFedOptions): Promise<SimFed> {
  const seed = String(options.seed);
  await mkdir(options.dir, { recursive: true });
  const dir = path.resolve(options.dir);
  const ca = await createTestCa('Atlas simulated federation CA');
  const caFile = path.join(dir, 'ca.pem');
  await writeFile(caFile, ca.cert);

  const atlasHost = options.atlas?.host ?? '127.0.0.1';
  const atlasPort = options.atlas?.federationPort ?? (await freePort('0.0.0.0'));
  const atlasCert = await ca.issue([ATLAS_HOSTNAME, 'localhost', '127.0.0.1']);
  const atlas: AtlasIdentity = {
    serverName: `${ATLAS_HOSTNAME}:${atlasPort}`,
    host: atlasHost,
    federationPort: atlasPort,
    certFile: path.join(dir, 'atlas.crt'),
    keyFile: path.join(dir, 'atlas.key'),
  };
  await writeFile(atlas.certFile, atlasCert.cert);
  await writeFile(atlas.keyFile, atlasCert.key, { mode: 0o600 });
  await chmod(atlas.keyFile, 0o600);

  for (let attempt = 0; ; attempt++) {
    const prefix = randomBlockPrefix();
    try {
      return await startOnBlock(options, seed, prefix, dir, caFile, ca, atlas);
    } catch (error) {
      if (attempt < 10 && isAddressTaken(error)) continue;
      throw error;
    }
  }
}

async function startOnBlock(
  options: StartSimFedOptions,
  seed: string,
  prefix: string,
  dir: string,
  caFile: string,
  ca: Awaited<ReturnType<typeof createTestCa>>,
  atlas: AtlasIdentity,
): Promise<SimFed> {
  const { federation, builder } = generateFederation({
    servers: options.servers,
    seed,
    blockPrefix: prefix,
    ...(options.rooms !== undefined ? { rooms: options.rooms } : {}),
    ...(options.bigServerRooms !== undefined ? { bigServerRooms: options.bigServerRooms } : {}),
    ...(options.endlessDirectory ? { endlessDirectory: options.endlessDirectory } : {}),
  });
  const placements = new Map<string, Placement>();
  for (const server of federation.servers) placements.set(server.name, placeServer(server, prefix));

  // The DNS server takes the block's .53 on port 53, like a real resolver; another port if 53 is refused.
  let dns: DnsServer;
  try {
    dns = await startDnsServer({ host: address(prefix, HOST.dns), port: 53 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EACCES') throw error;
    dns = await startDnsServer({ host: address(prefix, HOST.dns) });
  }
  const resolver = new Resolver({ timeout: 2_000, tries: 2 });
  resolver.setServers([dns.address]);

  const state = new SimState(federation);
  const auth = new RequestAuthenticator({ resolver, ca: ca.cert, timeoutMs: 5_000 });
  // Requests simulated servers send each other (client API `publicRooms?server=`).
  const outboundAgent = new Agent({ keepAlive: true, maxSockets: 8 });
  const listeners = new Listeners({
    ca,
    state,
    auth,
    slowDelayMs: options.slowDelayMs ?? 1_000,
    stallMs: options.stallMs ?? 600_000,
    outbound: { resolver, ca: ca.cert, timeoutMs: REMOTE_DIRECTORY_TIMEOUT_MS, agent: outboundAgent },
    remoteCacheMs: options.remoteCacheMs ?? 30_000,
  });
  const owners = new Map<string, NonNullable<ReturnType<SimState['runtime']>>>();
  for (const server of federation.servers) {
    const owned = placements.get(server.name)?.ownsListener;
    const runtime = state.runtime(server.name);
    if (owned && runtime) owners.set(listenerId(owned), runtime);
  }
  try {
    await listeners.bind(listenerKeys(prefix, placements.values()), owners);
  } catch (error) {
    outboundAgent.destroy();
    await dns.close();
    throw error;
  }

  const applyPlacement = (server: SimServer, placement: Placement) => {
    const runtime = state.runtime(server.name) ?? state.addServer(server);
    for (const route of placement.routes) listeners.route(route.listener, route.hostname, runtime);
  };
  const library = state.mediaLibrary;
  let mediaHost: Awaited<ReturnType<typeof startMediaHost>>;
  let trap: Awaited<ReturnType<typeof startTrap>>;
  try {
    mediaHost = await startMediaHost({
      ca,
      hostname: MEDIA_HOSTNAME,
      address: address(prefix, HOST.main),
      port: PORT.media,
      library,
      kindOf: (serverName, mediaId) => state.mediaKind(serverName, mediaId),
    });
    trap = await startTrap(library);
  } catch (error) {
    await listeners.close();
    outboundAgent.destroy();
    await dns.close();
    throw error;
  }
  const records: DnsRecord[] = [
    { type: 'A', name: ATLAS_HOSTNAME, address: atlas.host },
    { type: 'A', name: MEDIA_HOSTNAME, address: address(prefix, HOST.main) },
  ];
  for (const server of federation.servers) {
    const placement = placements.get(server.name);
    if (!placement) continue;
    records.push(...placement.records);
    applyPlacement(server, placement);
  }
  dns.setRecords(records);
  await listeners.certify();
  for (const runtime of state.runtimes.values()) runtime.directory.warm();

  const network = `${prefix}.0/24`;
  const env: Record<string, string> = {
    ATLAS_DNS_SERVERS: dns.address,
    ATLAS_CA_FILE: caFile,
    ATLAS_ALLOW_NETWORKS: network,
    ATLAS_SERVER_NAME: atlas.serverName,
    ATLAS_TLS_CERT_FILE: atlas.certFile,
    ATLAS_TLS_KEY_FILE: atlas.keyFile,
    ATLAS_FEDERATION_PORT: String(atlas.federationPort),
    ATLAS_SEEDS: federation.seeds.join(','),
  };
  const manifestPath = path.join(dir, 'manifest.json');
  let manifest = buildManifest({ federation, placements, env, network });
  await writeFileAtomic(manifestPath, JSON.stringify(manifest));
  let rounds = 0;

  const mutate = async (mutation: Mutation): Promise<ChangeSummary> => {
    const result = applyMutation(federation, builder, mutation);
    for (const server of result.newServers) {
      const placement = placeServer(server, prefix);
      if (placement.ownsListener || placement.routes.some((r) => !listeners.has(r.listener))) {
        throw new Error(`new server ${server.name} needs a listener the simfed does not have`);
      }
      placements.set(server.name, placement);
      dns.addRecords(...placement.records);
      applyPlacement(server, placement);
    }
    await listeners.certify();
    state.refresh(
      result.changedRooms,
      federation.servers.map((s) => s.name),
    );
    for (const runtime of state.runtimes.values()) runtime.directory.warm();
    manifest = buildManifest({ federation, placements, env, network });
    await writeFileAtomic(manifestPath, JSON.stringify(manifest));
    return result.summary;
  };

  const runtimeOf = (serverName: string) => {
    const runtime = state.runtime(serverName);
    if (!runtime) throw new Error(`no simulated server named ${serverName}`);
    return runtime;
  };

  return {
    get manifest() {
      return manifest;
    },
    manifestPath,
    env,
    network,
    dns,
    caCert: ca.cert,
    atlas,
    stats(serverName) {
      return runtimeOf(serverName).stats;
    },
    signingKey(serverName) {
      return runtimeOf(serverName).key;
    },
    totals() {
      const sum = {
        ...emptyStats(),
        misrouted: state.misrouted,
        keyFetches: auth.keyFetches,
        tlsConnections: listeners.tlsConnections,
      };
      for (const runtime of state.runtimes.values()) {
        const s = runtime.stats;
        sum.requests += s.requests;
        sum.verified += s.verified;
        sum.rejected += s.rejected;
        sum.inFlight += s.inFlight;
        sum.maxInFlight = Math.max(sum.maxInFlight, s.maxInFlight);
        for (const [k, v] of Object.entries(s.byEndpoint)) sum.byEndpoint[k] = (sum.byEndpoint[k] ?? 0) + v;
      }
      return sum;
    },
    resetStats() {
      for (const runtime of state.runtimes.values()) {
        // In place: requests in flight still hold this object and decrement it when they end.
        Object.assign(runtime.stats, { ...emptyStats(), inFlight: runtime.stats.inFlight, maxInFlight: 0 });
      }
      state.misrouted = 0;
    },
    mutate,
    applyChanges(label) {
      rounds++;
      return mutate(seededChanges(federation, label ?? `round-${rounds}`));
    },
    holdDirectory(serverName, pages) {
      const runtime = runtimeOf(serverName);
      const hold = new DirectoryHold(pages);
      runtime.hold = hold;
      return {
        reached: hold.reached,
        release() {
          if (runtime.hold === hold) runtime.hold = undefined;
          hold.release();
        },
      };
    },
    media: {
      trapConnections: () => library.trapConnections,
      hostRequests: () => mediaHost.requests(),
      prepare: () => library.prepare(),
    },
    async close() {
      await listeners.close();
      await mediaHost.close();
      await trap.close();
      outboundAgent.destroy();
      await dns.close();
    },
  };
}
