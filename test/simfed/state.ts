import { type SigningKey, serverKeyDocument, signingKeyFromSeed } from '@atlas/shared/matrix';
import { EntryCache, ServerDirectory } from './directory.ts';
import { endlessRoom, endlessRoomByAlias } from './endless.ts';
import { type MediaKind, MediaLibrary } from './media.ts';
import type { Federation, SimRoom, SimServer } from './model.ts';
import { RemoteDirectories } from './remote-directory.ts';
import type { SpecClientOptions } from './spec-client.ts';

export interface ServerStats {
  /** Every HTTP request routed to the server. */
  requests: number;
  /** Signed requests whose X-Matrix signature checked out. */
  verified: number;
  /** Signed requests answered 400/401 because of their signature or header. */
  rejected: number;
  /** Most requests in flight at once (Atlas promises one at a time per server). */
  maxInFlight: number;
  inFlight: number;
  /** Requests per endpoint, e.g. `GET /_matrix/federation/v1/publicRooms`. */
  byEndpoint: Record<string, number>;
}

export function emptyStats(): ServerStats {
  return { requests: 0, verified: 0, rejected: 0, maxInFlight: 0, inFlight: 0, byEndpoint: {} };
}

/**
 * Holds a server's federation directory reads at a page (`SimFed.holdDirectory`): the first `pages`
 * unfiltered page requests are answered, the next one waits until `release()`, then reading goes on.
 * Tests change the federation while a read is half done.
 */
export class DirectoryHold {
  private answered = 0;
  private arrived!: () => void;
  private released!: () => void;
  /** Settles when a request is waiting at the hold. */
  readonly reached = new Promise<void>((resolve) => {
    this.arrived = resolve;
  });
  private readonly gate = new Promise<void>((resolve) => {
    this.released = resolve;
  });

  constructor(private readonly pages: number) {}

  /** Awaited by each unfiltered federation page request before its page is made. */
  async pass(): Promise<void> {
    if (this.answered < this.pages) {
      this.answered++;
      return;
    }
    this.arrived();
    await this.gate;
  }

  release(): void {
    this.released();
  }
}

/** What the running simulator knows per server, beyond the generated model: keys, caches, counters. */
export class ServerRuntime {
  private signingKey: SigningKey | undefined;
  readonly directory: ServerDirectory;
  /** Set while a test holds this server's federation directory reads. */
  hold: DirectoryHold | undefined;
  stats: ServerStats = emptyStats();
  private keyDocument: { text: string; renderedAt: number } | undefined;
  private remote: RemoteDirectories | undefined;

  constructor(
    readonly server: SimServer,
    federation: Federation,
    cache: EntryCache,
  ) {
    this.directory = new ServerDirectory(server, federation, cache);
  }

  /** Derived on first use: a thousand servers' keys cost a second, and most tests touch few of them. */
  get key(): SigningKey {
    this.signingKey ??= signingKeyFromSeed(this.server.keyId, this.server.keySeed);
    return this.signingKey;
  }

  /** Other servers' directories, fetched over federation as this server (client API `?server=`). */
  remoteDirectories(client: SpecClientOptions, cacheMs: number): RemoteDirectories {
    this.remote ??= new RemoteDirectories(client, { serverName: this.server.name, key: this.key }, cacheMs);
    return this.remote;
  }

  /** The self-signed key document, re-signed every hour so `valid_until_ts` stays in the future. */
  keyDocumentJson(): string {
    const now = Date.now();
    if (!this.keyDocument || now - this.keyDocument.renderedAt > 3_600_000) {
      this.keyDocument = {
        text: JSON.stringify(serverKeyDocument(this.server.name, this.key, now)),
        renderedAt: now,
      };
    }
    return this.keyDocument.text;
  }
}

/** The simulator's shared state: model, per-server runtime, and the alias index query/directory uses. */
export class SimState {
  readonly cache: EntryCache;
  readonly runtimes = new Map<string, ServerRuntime>();
  /** canonical alias (lowercased) -> room id */
  readonly aliases = new Map<string, string>();
  /** `mxc://` of every room's avatar -> what its origin serves for it */
  readonly media = new Map<string, MediaKind>();
  readonly mediaLibrary = new MediaLibrary();
  misrouted = 0;

  constructor(readonly federation: Federation) {
    this.cache = new EntryCache(federation);
    for (const server of federation.servers) this.addServer(server);
    this.index();
  }

  private index(): void {
    this.aliases.clear();
    this.media.clear();
    for (const room of this.federation.rooms.values()) {
      if (room.canonicalAlias) this.aliases.set(room.canonicalAlias.toLowerCase(), room.roomId);
      if (room.avatarUrl) this.media.set(room.avatarUrl, room.avatarMedia ?? 'png');
    }
  }

  /** What `serverName` serves as its media `mediaId`; undefined for media it does not have. */
  mediaKind(serverName: string, mediaId: string): MediaKind | undefined {
    return this.media.get(`mxc://${serverName}/${mediaId}`);
  }

  addServer(server: SimServer): ServerRuntime {
    const runtime = new ServerRuntime(server, this.federation, this.cache);
    this.runtimes.set(server.name, runtime);
    return runtime;
  }

  runtime(name: string): ServerRuntime | undefined {
    return this.runtimes.get(name.toLowerCase());
  }

  /** A room by id: a generated one, or one of a server's endless directory. */
  room(roomId: string): SimRoom | undefined {
    const room = this.federation.rooms.get(roomId);
    if (room) return room;
    const server = this.runtime(roomId.slice(roomId.indexOf(':') + 1))?.server;
    return server?.endless ? endlessRoom(server, this.federation.seed, roomId) : undefined;
  }

  /** The room an alias points at: a generated one, or one of a server's endless directory. */
  roomByAlias(alias: string): SimRoom | undefined {
    const roomId = this.aliases.get(alias.toLowerCase());
    if (roomId) return this.federation.rooms.get(roomId);
    const server = this.runtime(alias.slice(alias.indexOf(':') + 1))?.server;
    return server?.endless ? endlessRoomByAlias(server, this.federation.seed, alias) : undefined;
  }

  /** After a mutation: drop rendered JSON and directories, rebuild the alias index. */
  refresh(changedRooms: Iterable<string>, changedServers: Iterable<string>): void {
    for (const id of changedRooms) this.cache.invalidate(id);
    for (const name of changedServers) this.runtimes.get(name)?.directory.invalidate();
    this.index();
  }
}
