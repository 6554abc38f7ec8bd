import { Agent } from 'node:https';
import { hasNoindexTag, type SigningKey, serverOfAlias, serverOfRoomId } from '@atlas/shared/matrix';
import type { FoundVia } from './model.ts';
import { federationRequest, type Located, locateServer, type SpecClientOptions } from './spec-client.ts';

/**
 * A deliberately plain crawler that follows only the discovery paths Atlas is meant to follow
 * (seeds, alias and room-id domains, query/directory, space hierarchy), straight from the spec.
 * Tests use it to prove that every server of a simulated federation is findable and that every
 * directory pages correctly, independently of Atlas's own crawler.
 */
export interface ReferenceCrawl {
  /** Every server name learnt, with the first path that named it. */
  found: Map<string, FoundVia['kind']>;
  /** Servers that answered /version. */
  reachable: Set<string>;
  /** Room ids per server whose federation directory was walked to the end. */
  rooms: Map<string, string[]>;
  /** Broken directory entries per server. */
  malformed: Map<string, number>;
  /** Servers that answered publicRooms with 403 M_FORBIDDEN. */
  forbidden: Set<string>;
  /** Largest chunk seen on any page. */
  largestPage: number;
}

export interface ReferenceCrawlOptions {
  client: SpecClientOptions;
  seeds: string[];
  identity: { serverName: string; key: SigningKey };
  /** Page size to ask for (servers cap it at 100). */
  limit?: number;
  /** Servers crawled at once (default 16, like Atlas's default). */
  concurrency?: number;
}

interface Entry {
  room_id?: unknown;
  num_joined_members?: unknown;
  canonical_alias?: unknown;
  room_type?: unknown;
  topic?: unknown;
}

/** Runs `work` over `items`, at most `limit` at a time. */
async function pool<T>(items: T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++] as T;
      await work(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

export async function referenceCrawl(options: ReferenceCrawlOptions): Promise<ReferenceCrawl> {
  const agent = options.client.agent ?? new Agent({ keepAlive: true, maxSockets: 4 });
  const client: SpecClientOptions = { ...options.client, agent };
  try {
    return await crawl({ ...options, client });
  } finally {
    if (!options.client.agent) agent.destroy();
  }
}

async function crawl(options: ReferenceCrawlOptions): Promise<ReferenceCrawl> {
  const result: ReferenceCrawl = {
    found: new Map(options.seeds.map((s) => [s, 'seed'])),
    reachable: new Set(),
    rooms: new Map(),
    malformed: new Map(),
    forbidden: new Set(),
    largestPage: 0,
  };
  const located = new Map<string, Located | null>();
  const done = new Set<string>();
  let onLearn: (name: string) => void = () => {};
  const learn = (name: string | null, kind: FoundVia['kind']) => {
    if (name && !result.found.has(name)) {
      result.found.set(name, kind);
      onLearn(name);
    }
  };
  const call = async (
    destination: string,
    method: 'GET' | 'POST',
    uri: string,
    content?: Record<string, string>,
  ) => {
    const target = located.get(destination);
    if (!target) return null;
    try {
      return await federationRequest(
        options.client,
        {
          destination,
          method,
          uri,
          signAs: { serverName: options.identity.serverName, key: options.identity.key },
          ...(content ? { content } : {}),
        },
        target,
      );
    } catch {
      return null;
    }
  };
  const probes = new Map<string, Promise<void>>();
  const probe = (name: string): Promise<void> => {
    let pending = probes.get(name);
    if (!pending) {
      pending = (async () => {
        try {
          const target = await locateServer(options.client, name);
          located.set(name, target);
          const version = await federationRequest(
            options.client,
            { destination: name, method: 'GET', uri: '/_matrix/federation/v1/version' },
            target,
          );
          if (version.status === 200) result.reachable.add(name);
          else located.set(name, null);
        } catch {
          located.set(name, null);
        }
      })();
      probes.set(name, pending);
    }
    return pending;
  };

  // A bounded number of servers at a time: a thousand at once would measure the machine, not the simfed.
  let slots = options.concurrency ?? 16;
  const waiting: (() => void)[] = [];
  const acquire = async () => {
    if (slots > 0) slots--;
    else await new Promise<void>((resolve) => waiting.push(resolve));
  };
  const release = () => {
    const next = waiting.shift();
    if (next) next();
    else slots++;
  };
  const crawlServer = async (name: string) => {
    await acquire();
    try {
      await crawlOne(name);
    } finally {
      release();
    }
  };
  const crawlOne = async (name: string) => {
    await probe(name);
    if (!result.reachable.has(name)) return;
    const rooms: string[] = [];
    const aliases: string[] = [];
    const spaces: string[] = [];
    let malformed = 0;
    let since: string | undefined;
    for (let page = 0; page < 5_000; page++) {
      const query = new URLSearchParams({ limit: String(options.limit ?? 100) });
      if (since) query.set('since', since);
      const res = await call(name, 'GET', `/_matrix/federation/v1/publicRooms?${query}`);
      if (!res) return;
      if (res.status === 403) {
        result.forbidden.add(name);
        return;
      }
      if (res.status !== 200) return;
      const body = res.json() as { chunk: unknown[]; next_batch?: string };
      result.largestPage = Math.max(result.largestPage, body.chunk.length);
      for (const raw of body.chunk) {
        const entry = (typeof raw === 'object' && raw !== null && !Array.isArray(raw) ? raw : {}) as Entry;
        if (
          typeof entry.room_id !== 'string' ||
          !entry.room_id.startsWith('!') ||
          typeof entry.num_joined_members !== 'number' ||
          entry.num_joined_members < 0
        ) {
          malformed++;
          continue;
        }
        rooms.push(entry.room_id);
        // A room opted out of directories is not followed anywhere.
        if (typeof entry.topic === 'string' && hasNoindexTag(entry.topic)) continue;
        learn(serverOfRoomId(entry.room_id), 'room_id');
        if (typeof entry.canonical_alias === 'string') {
          learn(serverOfAlias(entry.canonical_alias), 'alias');
          aliases.push(entry.canonical_alias);
        }
        if (entry.room_type === 'm.space') spaces.push(entry.room_id);
      }
      if (!body.next_batch) break;
      since = body.next_batch;
    }
    result.rooms.set(name, rooms);
    result.malformed.set(name, malformed);
    await pool(aliases, 8, async (alias) => {
      const owner = serverOfAlias(alias);
      if (!owner) return;
      await probe(owner);
      if (!result.reachable.has(owner)) return;
      const uri = `/_matrix/federation/v1/query/directory?room_alias=${encodeURIComponent(alias)}`;
      const res = await call(owner, 'GET', uri);
      if (res?.status !== 200) return;
      const body = res.json() as { servers?: unknown };
      if (!Array.isArray(body.servers)) return;
      for (const s of body.servers) if (typeof s === 'string') learn(s, 'query_directory');
    });
    for (const space of spaces) {
      const res = await call(name, 'GET', `/_matrix/federation/v1/hierarchy/${encodeURIComponent(space)}`);
      if (res?.status !== 200) continue;
      const body = res.json() as { room?: { children_state?: { content?: { via?: unknown } }[] } };
      for (const event of body.room?.children_state ?? []) {
        const via = event.content?.via;
        if (Array.isArray(via)) for (const s of via) if (typeof s === 'string') learn(s, 'hierarchy');
      }
    }
  };

  // Each server is crawled as soon as it is learnt, so one slow server delays only its own branch.
  const running = new Set<Promise<void>>();
  const schedule = (name: string) => {
    if (done.has(name)) return;
    done.add(name);
    const task = crawlServer(name).finally(() => running.delete(task));
    running.add(task);
  };
  onLearn = schedule;
  for (const name of result.found.keys()) schedule(name);
  while (running.size > 0) await Promise.race(running);
  return result;
}
