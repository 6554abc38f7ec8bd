/**
 * Directory paging tokens as Synapse makes them (`RoomListNextBatch` in
 * synapse/handlers/room_list.py): unpadded standard base64 of the msgpack map
 * `{"m": last_joined_members, "r": last_room_id, "d": direction_is_forward}`, keys in that order.
 * A token holds a position in the (members desc, room id desc) order, not a server, so any
 * server's token means something on any other (Synapse does the same).
 */
export interface Bound {
  members: number;
  roomId: string;
  forwards: boolean;
}

function uint(value: number): Buffer {
  if (value < 0x80) return Buffer.from([value]);
  if (value < 0x100) return Buffer.from([0xcc, value]);
  if (value < 0x10000) return Buffer.from([0xcd, value >> 8, value & 0xff]);
  const out = Buffer.alloc(5);
  out[0] = 0xce;
  out.writeUInt32BE(value, 1);
  return out;
}

function str(text: string): Buffer {
  const bytes = Buffer.from(text, 'utf8');
  const n = bytes.length;
  let head: Buffer;
  if (n < 32) head = Buffer.from([0xa0 | n]);
  else if (n < 0x100) head = Buffer.from([0xd9, n]);
  else if (n < 0x10000) head = Buffer.from([0xda, n >> 8, n & 0xff]);
  else {
    head = Buffer.alloc(5);
    head[0] = 0xdb;
    head.writeUInt32BE(n, 1);
  }
  return Buffer.concat([head, bytes]);
}

/** The token Synapse 1.163 would send for this position (byte for byte, as Python's msgpack packs it). */
export function encodeSinceToken(bound: Bound): string {
  const packed = Buffer.concat([
    Buffer.from([0x83]),
    str('m'),
    uint(bound.members),
    str('r'),
    str(bound.roomId),
    str('d'),
    Buffer.from([bound.forwards ? 0xc3 : 0xc2]),
  ]);
  return packed.toString('base64').replace(/=+$/, '');
}

type Value = string | number | boolean | null;

/** Reads the msgpack values a token can hold (a map of scalars); anything else is malformed. */
class Reader {
  at = 0;
  constructor(private readonly buf: Buffer) {}

  private need(n: number): void {
    if (this.at + n > this.buf.length) throw new Error('truncated');
  }

  private byte(): number {
    this.need(1);
    return this.buf[this.at++] ?? 0;
  }

  private text(n: number): string {
    this.need(n);
    const out = this.buf.toString('utf8', this.at, this.at + n);
    this.at += n;
    return out;
  }

  private read(kind: 'u' | 'i', bytes: 1 | 2 | 4 | 8): number {
    this.need(bytes);
    const b = this.buf;
    const at = this.at;
    this.at += bytes;
    if (bytes === 8) return Number(kind === 'u' ? b.readBigUInt64BE(at) : b.readBigInt64BE(at));
    return kind === 'u' ? b.readUIntBE(at, bytes) : b.readIntBE(at, bytes);
  }

  value(): Value {
    const t = this.byte();
    if (t < 0x80) return t;
    if (t >= 0xe0) return t - 0x100;
    if ((t & 0xe0) === 0xa0) return this.text(t & 0x1f);
    switch (t) {
      case 0xc0:
        return null;
      case 0xc2:
        return false;
      case 0xc3:
        return true;
      case 0xca: {
        this.need(4);
        this.at += 4;
        return this.buf.readFloatBE(this.at - 4);
      }
      case 0xcb: {
        this.need(8);
        this.at += 8;
        return this.buf.readDoubleBE(this.at - 8);
      }
      case 0xcc:
        return this.read('u', 1);
      case 0xcd:
        return this.read('u', 2);
      case 0xce:
        return this.read('u', 4);
      case 0xcf:
        return this.read('u', 8);
      case 0xd0:
        return this.read('i', 1);
      case 0xd1:
        return this.read('i', 2);
      case 0xd2:
        return this.read('i', 4);
      case 0xd3:
        return this.read('i', 8);
      case 0xd9:
        return this.text(this.read('u', 1));
      case 0xda:
        return this.text(this.read('u', 2));
      case 0xdb:
        return this.text(this.read('u', 4));
      default:
        throw new Error(`unsupported msgpack type 0x${t.toString(16)}`);
    }
  }

  map(): Map<Value, Value> {
    const t = this.byte();
    let n: number;
    if ((t & 0xf0) === 0x80) n = t & 0x0f;
    else if (t === 0xde) n = this.read('u', 2);
    else throw new Error('not a map');
    const out = new Map<Value, Value>();
    for (let i = 0; i < n; i++) out.set(this.value(), this.value());
    return out;
  }

  get done(): boolean {
    return this.at === this.buf.length;
  }
}

/** `unpaddedbase64.decode_base64`: standard or URL-safe alphabet, padding inferred, stray characters ignored. */
function decodeBase64(token: string): Buffer | null {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: Python's str.encode("ascii") fails on anything above 0x7f.
  if (!/^[\u0000-\u007f]*$/.test(token)) return null;
  const cleaned = token
    .replace(/-/g, '+')
    .replace(/_/g, '/')
    .replace(/[^A-Za-z0-9+/]/g, '');
  if (cleaned.length % 4 === 1) return null;
  return Buffer.from(cleaned, 'base64');
}

/**
 * Reads a `since` token the way Synapse does; null where Synapse raises (bad base64 or msgpack,
 * unknown or missing keys, values its database query cannot take), which it answers with a 500.
 */
export function decodeSinceToken(token: string): Bound | null {
  const bytes = decodeBase64(token);
  if (!bytes) return null;
  let fields: Map<Value, Value>;
  try {
    const reader = new Reader(bytes);
    fields = reader.map();
    if (!reader.done) return null;
  } catch {
    return null;
  }
  const allowed = new Set<Value>(['m', 'r', 'd']);
  for (const key of fields.keys()) if (!allowed.has(key)) return null;
  const members = fields.get('m');
  const roomId = fields.get('r');
  const forwards = fields.get('d');
  if (typeof members !== 'number' || typeof roomId !== 'string' || !fields.has('d')) return null;
  // Python truthiness: the direction is only ever tested with `if`.
  return {
    members,
    roomId,
    forwards: forwards !== false && forwards !== null && forwards !== 0 && forwards !== '',
  };
}
