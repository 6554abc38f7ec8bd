import { createHmac } from 'node:crypto';
import { z } from 'zod';

/** A Matrix error answer (`{errcode, error}`) or any non-2xx status. */
export class MatrixApiError extends Error {
  override name = 'MatrixApiError';
  constructor(
    readonly method: string,
    readonly path: string,
    readonly status: number,
    readonly errcode: string | undefined,
    readonly body: unknown,
  ) {
    super(`${method} ${path} -> ${status} ${errcode ?? ''} ${JSON.stringify(body)}`.trim());
  }
}

const errorBody = z.object({ errcode: z.string().optional() }).loose();
const registerAnswer = z.object({ user_id: z.string(), access_token: z.string() });
const roomIdAnswer = z.object({ room_id: z.string() });
const stateEvent = z.object({
  type: z.string(),
  state_key: z.string(),
  content: z.record(z.string(), z.unknown()),
});
const joinedMembers = z.object({ joined: z.record(z.string(), z.unknown()) });
const directoryRoom = z.object({ room_id: z.string(), servers: z.array(z.string()) });

export const publicRoomsChunk = z
  .object({
    room_id: z.string(),
    num_joined_members: z.number(),
    world_readable: z.boolean(),
    guest_can_join: z.boolean(),
    name: z.string().optional(),
    topic: z.string().optional(),
    canonical_alias: z.string().optional(),
    avatar_url: z.string().optional(),
    join_rule: z.string().optional(),
    room_type: z.string().optional(),
  })
  .loose();
export type PublicRoom = z.infer<typeof publicRoomsChunk>;
export const publicRoomsPage = z.object({
  chunk: z.array(publicRoomsChunk),
  next_batch: z.string().optional(),
  prev_batch: z.string().optional(),
  total_room_count_estimate: z.number().optional(),
});

/** Anything with a client API and a registration shared secret: a SynapseInstance. */
export interface ClientApiHost {
  clientUrl: string;
  registrationSharedSecret: string;
  serverName: string;
}

export interface CreateRoomOptions {
  name?: string;
  topic?: string;
  /** Local part of an alias to create and make canonical (`#<alias>:<server>`). */
  alias?: string;
  /** Publish in this server's directory (`visibility: public`). Default true. */
  publish?: boolean;
  /** Synapse 1.163 defaults to room version 12, whose room ids carry no server name. */
  roomVersion?: string;
  /** `m.space` for a space. */
  roomType?: string;
  /** public_chat by default. */
  preset?: 'public_chat' | 'private_chat';
  initialState?: { type: string; state_key: string; content: Record<string, unknown> }[];
}

/**
 * A logged-in user of one homeserver, talking to its client API. Only what the Synapse suite
 * needs: rooms, aliases, joins across servers, directory publication, state.
 */
export class SynapseClient {
  constructor(
    readonly host: ClientApiHost,
    readonly userId: string,
    readonly accessToken: string,
  ) {}

  /**
   * Registers a user with Synapse's shared-secret admin API: a nonce, then
   * HMAC-SHA1(secret, nonce \0 user \0 password \0 admin|notadmin).
   */
  static async register(
    host: ClientApiHost,
    options: { username: string; password?: string; admin?: boolean },
  ): Promise<SynapseClient> {
    const password = options.password ?? `pw-${options.username}`;
    const nonce = z
      .object({ nonce: z.string() })
      .parse(await call(host.clientUrl, 'GET', '/_synapse/admin/v1/register')).nonce;
    const mac = createHmac('sha1', host.registrationSharedSecret)
      .update(`${nonce}\0${options.username}\0${password}\0${options.admin ? 'admin' : 'notadmin'}`)
      .digest('hex');
    const answer = registerAnswer.parse(
      await call(host.clientUrl, 'POST', '/_synapse/admin/v1/register', {
        body: { nonce, username: options.username, password, admin: options.admin ?? false, mac },
      }),
    );
    return new SynapseClient(host, answer.user_id, answer.access_token);
  }

  /** `m.login.password`, as a bot logs in. */
  static async login(host: ClientApiHost, username: string, password: string): Promise<SynapseClient> {
    const answer = registerAnswer.parse(
      await call(host.clientUrl, 'POST', '/_matrix/client/v3/login', {
        body: { type: 'm.login.password', identifier: { type: 'm.id.user', user: username }, password },
      }),
    );
    return new SynapseClient(host, answer.user_id, answer.access_token);
  }

  request(method: string, path: string, body?: unknown): Promise<unknown> {
    return call(this.host.clientUrl, method, path, { body, token: this.accessToken });
  }

  async createRoom(options: CreateRoomOptions = {}): Promise<string> {
    const creationContent = options.roomType ? { type: options.roomType } : undefined;
    const answer = roomIdAnswer.parse(
      await this.request('POST', '/_matrix/client/v3/createRoom', {
        preset: options.preset ?? 'public_chat',
        visibility: options.publish === false ? 'private' : 'public',
        ...(options.name === undefined ? {} : { name: options.name }),
        ...(options.topic === undefined ? {} : { topic: options.topic }),
        ...(options.alias === undefined ? {} : { room_alias_name: options.alias }),
        ...(options.roomVersion === undefined ? {} : { room_version: options.roomVersion }),
        ...(creationContent ? { creation_content: creationContent } : {}),
        ...(options.initialState ? { initial_state: options.initialState } : {}),
      }),
    );
    return answer.room_id;
  }

  /** Joins a room by id or alias; `via` names the servers to join through (over federation when remote). */
  async join(roomIdOrAlias: string, via: string[] = []): Promise<string> {
    const query = via.map((server) => `server_name=${encodeURIComponent(server)}`).join('&');
    const path = `/_matrix/client/v3/join/${encodeURIComponent(roomIdOrAlias)}${query ? `?${query}` : ''}`;
    return roomIdAnswer.parse(await this.request('POST', path, {})).room_id;
  }

  /** Adds or removes the room in this server's public directory. */
  async setPublished(roomId: string, published: boolean): Promise<void> {
    await this.request('PUT', `/_matrix/client/v3/directory/list/room/${encodeURIComponent(roomId)}`, {
      visibility: published ? 'public' : 'private',
    });
  }

  async createAlias(alias: string, roomId: string): Promise<void> {
    await this.request('PUT', `/_matrix/client/v3/directory/room/${encodeURIComponent(alias)}`, {
      room_id: roomId,
    });
  }

  async sendState(
    roomId: string,
    type: string,
    stateKey: string,
    content: Record<string, unknown>,
  ): Promise<void> {
    await this.request(
      'PUT',
      `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/state/${encodeURIComponent(type)}/${encodeURIComponent(stateKey)}`,
      content,
    );
  }

  async setName(roomId: string, name: string): Promise<void> {
    await this.sendState(roomId, 'm.room.name', '', { name });
  }

  /** The room's current state, as this user's server sees it. */
  async state(roomId: string): Promise<z.infer<typeof stateEvent>[]> {
    return z
      .array(stateEvent)
      .parse(await this.request('GET', `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/state`));
  }

  async joinedMembers(roomId: string): Promise<string[]> {
    const answer = joinedMembers.parse(
      await this.request('GET', `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/joined_members`),
    );
    return Object.keys(answer.joined);
  }

  /** Ids of the devices this account is logged in with (each login makes one). */
  async deviceIds(): Promise<string[]> {
    const answer = z
      .object({ devices: z.array(z.object({ device_id: z.string() })) })
      .parse(await this.request('GET', '/_matrix/client/v3/devices'));
    return answer.devices.map((device) => device.device_id);
  }

  /** `GET /_matrix/client/v3/directory/room/{alias}`: the room id and the servers in the room. */
  async resolveAlias(alias: string): Promise<z.infer<typeof directoryRoom>> {
    return directoryRoom.parse(
      await this.request('GET', `/_matrix/client/v3/directory/room/${encodeURIComponent(alias)}`),
    );
  }

  /** One page of a directory through this server's client API (`server` makes it ask over federation). */
  async publicRoomsPage(options: { server?: string; limit?: number; since?: string } = {}) {
    const query = new URLSearchParams();
    if (options.server) query.set('server', options.server);
    if (options.limit !== undefined) query.set('limit', String(options.limit));
    if (options.since) query.set('since', options.since);
    const suffix = query.size > 0 ? `?${query.toString()}` : '';
    return publicRoomsPage.parse(await this.request('GET', `/_matrix/client/v3/publicRooms${suffix}`));
  }

  /** Every room of a directory, following `next_batch` to the end. */
  async allPublicRooms(server?: string): Promise<PublicRoom[]> {
    const rooms: PublicRoom[] = [];
    let since: string | undefined;
    for (let page = 0; page < 1000; page += 1) {
      const answer = await this.publicRoomsPage({
        ...(server ? { server } : {}),
        limit: 100,
        ...(since ? { since } : {}),
      });
      rooms.push(...answer.chunk);
      if (!answer.next_batch) return rooms;
      since = answer.next_batch;
    }
    throw new Error('directory paging did not end after 1000 pages');
  }
}

/** One JSON call to a client API; throws MatrixApiError on any non-2xx answer. */
export async function call(
  baseUrl: string,
  method: string,
  path: string,
  options: { body?: unknown; token?: string } = {},
): Promise<unknown> {
  const response = await fetch(`${baseUrl}${path}`, {
    method,
    headers: {
      accept: 'application/json',
      ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
      ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
    },
    ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
    signal: AbortSignal.timeout(60_000),
  });
  const text = await response.text();
  let body: unknown;
  try {
    body = text ? JSON.parse(text) : {};
  } catch {
    body = text;
  }
  if (!response.ok) {
    const parsed = errorBody.safeParse(body);
    throw new MatrixApiError(
      method,
      path,
      response.status,
      parsed.success ? parsed.data.errcode : undefined,
      body,
    );
  }
  return body;
}
