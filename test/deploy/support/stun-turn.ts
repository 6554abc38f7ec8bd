import { createHash, createHmac, randomBytes } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';

/**
 * A small STUN/TURN client over UDP: a Binding request (RFC 5389) and an Allocate with long-term
 * credentials (RFC 5766 §6, RFC 5389 §10.2), enough to check that coturn answers and that the
 * TURN REST API credentials derived from the shared secret are accepted.
 */

const MAGIC_COOKIE = 0x2112a442;
const HEADER = 20;

export const METHOD = { binding: 0x001, allocate: 0x003, refresh: 0x004, createPermission: 0x008 } as const;
const CLASS_SUCCESS = 0x100;
const CLASS_ERROR = 0x110;

export const ATTR = {
  username: 0x0006,
  messageIntegrity: 0x0008,
  errorCode: 0x0009,
  lifetime: 0x000d,
  xorPeerAddress: 0x0012,
  realm: 0x0014,
  nonce: 0x0015,
  xorRelayedAddress: 0x0016,
  requestedTransport: 0x0019,
  xorMappedAddress: 0x0020,
} as const;

export interface StunMessage {
  type: number;
  transactionId: Buffer;
  attributes: { type: number; value: Buffer }[];
}

export interface Address {
  family: 'IPv4' | 'IPv6';
  address: string;
  port: number;
}

function attribute(type: number, value: Buffer): Buffer {
  const padded = Buffer.alloc(4 + Math.ceil(value.length / 4) * 4);
  padded.writeUInt16BE(type, 0);
  padded.writeUInt16BE(value.length, 2);
  value.copy(padded, 4);
  return padded;
}

/** Encodes a request; with `key`, appends MESSAGE-INTEGRITY (RFC 5389 §15.4). */
export function encodeRequest(
  method: number,
  transactionId: Buffer,
  attributes: { type: number; value: Buffer }[],
  key?: Buffer,
): Buffer {
  const body = Buffer.concat(attributes.map((a) => attribute(a.type, a.value)));
  const header = Buffer.alloc(HEADER);
  header.writeUInt16BE(method, 0);
  header.writeUInt32BE(MAGIC_COOKIE, 4);
  transactionId.copy(header, 8);
  if (!key) {
    header.writeUInt16BE(body.length, 2);
    return Buffer.concat([header, body]);
  }
  // The HMAC covers the message up to MESSAGE-INTEGRITY, with the length already counting it.
  header.writeUInt16BE(body.length + 24, 2);
  const hmac = createHmac('sha1', key)
    .update(Buffer.concat([header, body]))
    .digest();
  return Buffer.concat([header, body, attribute(ATTR.messageIntegrity, hmac)]);
}

export function decode(packet: Buffer): StunMessage {
  if (packet.length < HEADER || packet.readUInt32BE(4) !== MAGIC_COOKIE)
    throw new Error('not a STUN message');
  const length = packet.readUInt16BE(2);
  if (packet.length < HEADER + length) throw new Error('truncated STUN message');
  const attributes: { type: number; value: Buffer }[] = [];
  let offset = HEADER;
  while (offset + 4 <= HEADER + length) {
    const type = packet.readUInt16BE(offset);
    const size = packet.readUInt16BE(offset + 2);
    attributes.push({ type, value: packet.subarray(offset + 4, offset + 4 + size) });
    offset += 4 + Math.ceil(size / 4) * 4;
  }
  return { type: packet.readUInt16BE(0), transactionId: packet.subarray(8, 20), attributes };
}

export function find(message: StunMessage, type: number): Buffer | undefined {
  return message.attributes.find((a) => a.type === type)?.value;
}

/** XOR-MAPPED-ADDRESS / XOR-RELAYED-ADDRESS (RFC 5389 §15.2). */
export function decodeXorAddress(value: Buffer, transactionId: Buffer): Address {
  const family = value.readUInt8(1);
  const port = value.readUInt16BE(2) ^ (MAGIC_COOKIE >>> 16);
  if (family === 0x01) {
    const raw = value.readUInt32BE(4) ^ MAGIC_COOKIE;
    const address = [24, 16, 8, 0].map((shift) => (raw >>> shift) & 0xff).join('.');
    return { family: 'IPv4', address, port };
  }
  const mask = Buffer.concat([Buffer.from([0x21, 0x12, 0xa4, 0x42]), transactionId]);
  const bytes = Buffer.from(value.subarray(4, 20).map((byte, i) => byte ^ (mask[i] ?? 0)));
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(bytes.readUInt16BE(i).toString(16));
  return { family: 'IPv6', address: groups.join(':'), port };
}

/** XOR-PEER-ADDRESS for an IPv4 address, port 0 (RFC 5766 §14.3, encoded as RFC 5389 §15.2). */
export function encodeXorIPv4(address: string): Buffer {
  const value = Buffer.alloc(8);
  value.writeUInt8(0x01, 1);
  value.writeUInt16BE(0 ^ (MAGIC_COOKIE >>> 16), 2);
  const raw = address.split('.').reduce((acc, part) => (acc << 8) + Number(part), 0) >>> 0;
  value.writeUInt32BE((raw ^ MAGIC_COOKIE) >>> 0, 4);
  return value;
}

export function errorCode(message: StunMessage): { code: number; reason: string } | undefined {
  const value = find(message, ATTR.errorCode);
  if (!value) return undefined;
  return {
    code: (value.readUInt8(2) & 0x7) * 100 + value.readUInt8(3),
    reason: value.subarray(4).toString('utf8'),
  };
}

/** TURN REST API credentials (draft-uberti-behave-turn-rest): `expiry:user` and its HMAC. */
export function restCredentials(
  secret: string,
  user: string,
  ttlSeconds = 3600,
): { username: string; password: string } {
  const username = `${Math.floor(Date.now() / 1000) + ttlSeconds}:${user}`;
  const password = createHmac('sha1', secret).update(username).digest('base64');
  return { username, password };
}

export interface Allocation {
  ok: true;
  relayed: Address;
  lifetime: number;
  createPermission(peer: string): Promise<{ ok: true } | { ok: false; code: number; reason: string }>;
  release(): Promise<void>;
}

export class StunClient {
  private constructor(
    private readonly socket: Socket,
    private readonly server: { host: string; port: number },
  ) {}

  static async open(host: string, port: number): Promise<StunClient> {
    const socket = createSocket(host.includes(':') ? 'udp6' : 'udp4');
    await new Promise<void>((resolve) => socket.bind(0, host.includes(':') ? '::1' : '127.0.0.1', resolve));
    return new StunClient(socket, { host, port });
  }

  get localPort(): number {
    return this.socket.address().port;
  }

  /** Sends a request and waits for the answer with the same transaction id (retransmits, RFC 5389 §7.2.1). */
  async request(packet: Buffer): Promise<StunMessage> {
    const transactionId = packet.subarray(8, 20);
    return new Promise((resolve, reject) => {
      let tries = 0;
      let timer: NodeJS.Timeout | undefined;
      const onMessage = (data: Buffer) => {
        try {
          const message = decode(data);
          if (!message.transactionId.equals(transactionId)) return;
          cleanup();
          resolve(message);
        } catch {
          // Not STUN: ignore.
        }
      };
      const cleanup = () => {
        if (timer) clearTimeout(timer);
        this.socket.off('message', onMessage);
      };
      const send = () => {
        if (tries++ >= 5) {
          cleanup();
          reject(new Error(`no STUN answer from ${this.server.host}:${this.server.port}`));
          return;
        }
        this.socket.send(packet, this.server.port, this.server.host);
        timer = setTimeout(send, 500 * tries);
      };
      this.socket.on('message', onMessage);
      send();
    });
  }

  async binding(): Promise<Address> {
    const message = await this.request(encodeRequest(METHOD.binding, randomBytes(12), []));
    if (message.type !== (METHOD.binding | CLASS_SUCCESS))
      throw new Error(`Binding failed: ${JSON.stringify(errorCode(message))}`);
    const mapped = find(message, ATTR.xorMappedAddress);
    if (!mapped) throw new Error('Binding answer without XOR-MAPPED-ADDRESS');
    return decodeXorAddress(mapped, message.transactionId);
  }

  /**
   * Allocate a UDP relay with long-term credentials: the first request gets 401 with the realm
   * and a nonce, the second carries USERNAME, REALM, NONCE and MESSAGE-INTEGRITY with the key
   * MD5(username ":" realm ":" password).
   */
  async allocate(
    username: string,
    password: string,
  ): Promise<Allocation | { ok: false; code: number; reason: string }> {
    const transport = { type: ATTR.requestedTransport, value: Buffer.from([17, 0, 0, 0]) };
    const challenge = await this.request(encodeRequest(METHOD.allocate, randomBytes(12), [transport]));
    const first = errorCode(challenge);
    const realm = find(challenge, ATTR.realm);
    const nonce = find(challenge, ATTR.nonce);
    if (first?.code !== 401 || !realm || !nonce) {
      throw new Error(`expected a 401 challenge, got ${JSON.stringify(first)}`);
    }
    const key = createHash('md5')
      .update(`${username}:${realm.toString('utf8')}:${password}`)
      .digest();
    const auth = [
      { type: ATTR.username, value: Buffer.from(username, 'utf8') },
      { type: ATTR.realm, value: realm },
      { type: ATTR.nonce, value: nonce },
    ];
    const answer = await this.request(
      encodeRequest(METHOD.allocate, randomBytes(12), [transport, ...auth], key),
    );
    if (answer.type !== (METHOD.allocate | CLASS_SUCCESS)) {
      const error = errorCode(answer) ?? { code: 0, reason: 'no ERROR-CODE' };
      if (answer.type !== (METHOD.allocate | CLASS_ERROR))
        throw new Error(`unexpected answer type ${answer.type}`);
      return { ok: false, ...error };
    }
    const relayed = find(answer, ATTR.xorRelayedAddress);
    const lifetime = find(answer, ATTR.lifetime);
    if (!relayed || !lifetime) throw new Error('Allocate success without XOR-RELAYED-ADDRESS or LIFETIME');
    return {
      ok: true,
      relayed: decodeXorAddress(relayed, answer.transactionId),
      lifetime: lifetime.readUInt32BE(0),
      // CreatePermission (RFC 5766 §9) installs a peer permission; nothing is sent to the peer.
      createPermission: async (peer: string) => {
        const permission = await this.request(
          encodeRequest(
            METHOD.createPermission,
            randomBytes(12),
            [{ type: ATTR.xorPeerAddress, value: encodeXorIPv4(peer) }, ...auth],
            key,
          ),
        );
        if (permission.type === (METHOD.createPermission | CLASS_SUCCESS)) return { ok: true as const };
        return { ok: false as const, ...(errorCode(permission) ?? { code: 0, reason: 'no ERROR-CODE' }) };
      },
      release: async () => {
        // Refresh with LIFETIME 0 deletes the allocation (RFC 5766 §7).
        const zero = { type: ATTR.lifetime, value: Buffer.from([0, 0, 0, 0]) };
        await this.request(encodeRequest(METHOD.refresh, randomBytes(12), [zero, ...auth], key));
      },
    };
  }

  close(): void {
    this.socket.close();
  }
}
