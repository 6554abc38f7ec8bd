import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { createServer, type Socket, type Server as TcpServer } from 'node:net';
import * as dnsPacket from 'dns-packet';

/** One resource record the test DNS server answers with. Names are matched case-insensitively. */
export type DnsRecord =
  | { type: 'A'; name: string; address: string; ttl?: number }
  | { type: 'AAAA'; name: string; address: string; ttl?: number }
  | { type: 'CNAME'; name: string; target: string; ttl?: number }
  | {
      type: 'SRV';
      /** The full owner name, e.g. `_matrix-fed._tcp.example.test`. */
      name: string;
      target: string;
      port: number;
      priority?: number;
      weight?: number;
      ttl?: number;
    };

export interface DnsServer {
  host: string;
  port: number;
  /** `host:port`, the form ATLAS_DNS_SERVERS and `Resolver#setServers` take. */
  address: string;
  /** Replaces every record. */
  setRecords(records: DnsRecord[]): void;
  addRecords(...records: DnsRecord[]): void;
  /** Removes every record owned by these names (they answer NXDOMAIN afterwards). */
  removeNames(...names: string[]): void;
  /** Queries answered so far, over UDP and TCP. */
  readonly queryCount: number;
  /** Of those, the ones that came over TCP. */
  readonly tcpQueryCount: number;
  close(): Promise<void>;
}

export interface DnsServerOptions {
  /** Loopback address to bind; default 127.0.0.1. */
  host?: string;
  /** Port for both UDP and TCP; default a free one. */
  port?: number;
}

const RCODE_NOERROR = 0;
const RCODE_FORMERR = 1;
const RCODE_NXDOMAIN = 3;
const RCODE_NOTIMP = 4;
const DEFAULT_TTL = 60;
/** RFC 1035 §4.2.1: UDP answers larger than 512 bytes (or the EDNS size offered) are truncated. */
const CLASSIC_UDP_SIZE = 512;
/** CNAME chains longer than this are answered as far as they go, like a real server would stop. */
const MAX_CNAME_CHAIN = 8;

function normalize(name: string): string {
  return name.toLowerCase().replace(/\.$/, '');
}

/** The zone data: records by owner name, plus every ancestor of an owner (empty non-terminals). */
class Zone {
  private readonly byName = new Map<string, DnsRecord[]>();
  private readonly ancestors = new Map<string, number>();

  add(record: DnsRecord): void {
    const name = normalize(record.name);
    const list = this.byName.get(name);
    if (list) {
      list.push(record);
      return;
    }
    this.byName.set(name, [record]);
    for (const ancestor of ancestorsOf(name))
      this.ancestors.set(ancestor, (this.ancestors.get(ancestor) ?? 0) + 1);
  }

  remove(rawName: string): void {
    const name = normalize(rawName);
    if (!this.byName.delete(name)) return;
    for (const ancestor of ancestorsOf(name)) {
      const count = (this.ancestors.get(ancestor) ?? 1) - 1;
      if (count <= 0) this.ancestors.delete(ancestor);
      else this.ancestors.set(ancestor, count);
    }
  }

  clear(): void {
    this.byName.clear();
    this.ancestors.clear();
  }

  records(name: string): DnsRecord[] | undefined {
    return this.byName.get(name);
  }

  /** RFC 8020: a name "exists" when it owns records or has descendants that do. */
  exists(name: string): boolean {
    return this.byName.has(name) || this.ancestors.has(name);
  }
}

function ancestorsOf(name: string): string[] {
  const out: string[] = [];
  let rest = name;
  for (let dot = rest.indexOf('.'); dot >= 0; dot = rest.indexOf('.')) {
    rest = rest.slice(dot + 1);
    if (rest) out.push(rest);
  }
  return out;
}

function toAnswer(owner: string, record: DnsRecord): dnsPacket.Answer {
  const ttl = record.ttl ?? DEFAULT_TTL;
  switch (record.type) {
    case 'A':
    case 'AAAA':
      return { type: record.type, name: owner, ttl, class: 'IN', data: record.address };
    case 'CNAME':
      return { type: 'CNAME', name: owner, ttl, class: 'IN', data: normalize(record.target) };
    case 'SRV':
      return {
        type: 'SRV',
        name: owner,
        ttl,
        class: 'IN',
        data: {
          target: normalize(record.target),
          port: record.port,
          priority: record.priority ?? 10,
          weight: record.weight ?? 0,
        },
      };
  }
}

/** Answers one question from the zone, following CNAMEs inside the zone as an authoritative server does. */
function lookup(zone: Zone, question: dnsPacket.Question): { rcode: number; answers: dnsPacket.Answer[] } {
  const answers: dnsPacket.Answer[] = [];
  let name = normalize(question.name);
  for (let hop = 0; hop <= MAX_CNAME_CHAIN; hop++) {
    const records = zone.records(name);
    if (!records) {
      // NXDOMAIN applies to the name at the end of the chain (RFC 6604).
      return { rcode: zone.exists(name) ? RCODE_NOERROR : RCODE_NXDOMAIN, answers };
    }
    const cname = records.find((r) => r.type === 'CNAME');
    if (cname && question.type !== 'CNAME') {
      answers.push(toAnswer(name, cname));
      name = normalize(cname.type === 'CNAME' ? cname.target : name);
      continue;
    }
    for (const record of records) if (record.type === question.type) answers.push(toAnswer(name, record));
    return { rcode: RCODE_NOERROR, answers };
  }
  return { rcode: RCODE_NOERROR, answers };
}

function respond(zone: Zone, query: Buffer, maxSize: number | 'tcp'): Buffer | null {
  let packet: dnsPacket.DecodedPacket;
  try {
    packet = dnsPacket.decode(query);
  } catch {
    // Too broken to even echo an id back: a real server drops it.
    return null;
  }
  if (packet.type !== 'query') return null;
  const question = packet.questions?.[0];
  const base = {
    type: 'response' as const,
    id: packet.id ?? 0,
    questions: packet.questions ?? [],
  };
  const flagsWith = (rcode: number, extra = 0) =>
    dnsPacket.AUTHORITATIVE_ANSWER | ((packet.flags ?? 0) & dnsPacket.RECURSION_DESIRED) | extra | rcode;
  if (!question || (packet.questions?.length ?? 0) !== 1) {
    return dnsPacket.encode({ ...base, flags: flagsWith(RCODE_FORMERR) });
  }
  if (question.class && question.class !== 'IN') {
    return dnsPacket.encode({ ...base, flags: flagsWith(RCODE_NOTIMP) });
  }
  const { rcode, answers } = lookup(zone, question);
  const full = dnsPacket.encode({ ...base, flags: flagsWith(rcode), answers });
  if (maxSize === 'tcp') return full;
  const opt = packet.additionals?.find((a) => a.type === 'OPT');
  const limit = Math.max(CLASSIC_UDP_SIZE, opt && 'udpPayloadSize' in opt ? opt.udpPayloadSize : 0, maxSize);
  if (full.length <= limit) return full;
  // Too big for this UDP exchange: say so, and the client retries over TCP.
  return dnsPacket.encode({ ...base, flags: flagsWith(rcode, dnsPacket.TRUNCATED_RESPONSE) });
}

function listenUdp(socket: UdpSocket, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(port, host, () => {
      socket.off('error', reject);
      resolve(socket.address().port);
    });
  });
}

function listenTcp(server: TcpServer, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

/** Serves RFC 1035 §4.2.2 framing: each message is preceded by its 16-bit length. */
function serveTcpConnection(socket: Socket, answer: (query: Buffer) => Buffer | null): void {
  let pending: Buffer = Buffer.alloc(0);
  socket.setTimeout(10_000, () => socket.destroy());
  socket.on('error', () => socket.destroy());
  socket.on('data', (chunk: Buffer) => {
    pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
    while (pending.length >= 2) {
      const length = pending.readUInt16BE(0);
      if (pending.length < 2 + length) break;
      const query = pending.subarray(2, 2 + length);
      pending = pending.subarray(2 + length);
      const response = answer(query);
      if (!response) {
        socket.destroy();
        return;
      }
      const frame = Buffer.alloc(2 + response.length);
      frame.writeUInt16BE(response.length, 0);
      response.copy(frame, 2);
      socket.write(frame);
    }
  });
}

/**
 * A real DNS server on loopback, over UDP and TCP, authoritative for whatever records a test
 * gives it: NXDOMAIN for unknown names, NOERROR with no answers for a known name without the
 * asked type. Atlas reaches it through ATLAS_DNS_SERVERS, node's `Resolver#setServers` likewise.
 */
export async function startDnsServer(options: DnsServerOptions = {}): Promise<DnsServer> {
  const host = options.host ?? '127.0.0.1';
  const type = host.includes(':') ? 'udp6' : 'udp4';
  const zone = new Zone();
  let queryCount = 0;
  let tcpQueryCount = 0;
  const answer = (query: Buffer, maxSize: number | 'tcp') => {
    queryCount++;
    if (maxSize === 'tcp') tcpQueryCount++;
    return respond(zone, query, maxSize);
  };

  // UDP and TCP share the port number; with no port given, take UDP's free port and retry if TCP
  // finds it taken.
  let udp: UdpSocket | undefined;
  let tcp: TcpServer | undefined;
  let port = 0;
  for (let attempt = 0; attempt < 20 && !tcp; attempt++) {
    // A crawl opens hundreds of names at once; a roomy receive buffer keeps bursts from being dropped.
    const udpSocket = createSocket({ type, recvBufferSize: 4 * 1024 * 1024 });
    const boundPort = await listenUdp(udpSocket, host, options.port ?? 0);
    const tcpServer = createServer((socket) => serveTcpConnection(socket, (q) => answer(q, 'tcp')));
    try {
      await listenTcp(tcpServer, host, boundPort);
      udp = udpSocket;
      tcp = tcpServer;
      port = boundPort;
    } catch (error) {
      udpSocket.close();
      if (options.port !== undefined) throw error;
    }
  }
  if (!udp || !tcp) throw new Error(`could not bind UDP and TCP on the same port on ${host}`);
  const udpSocket = udp;
  const tcpServer = tcp;
  udpSocket.on('message', (message, remote) => {
    const response = answer(message, CLASSIC_UDP_SIZE);
    if (response) udpSocket.send(response, remote.port, remote.address);
  });
  udpSocket.on('error', () => {
    // A send to a client that went away; nothing to do.
  });

  const connections = new Set<Socket>();
  tcpServer.on('connection', (socket) => {
    connections.add(socket);
    socket.once('close', () => connections.delete(socket));
  });

  return {
    host,
    port,
    address: host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`,
    setRecords(records) {
      zone.clear();
      for (const record of records) zone.add(record);
    },
    addRecords(...records) {
      for (const record of records) zone.add(record);
    },
    removeNames(...names) {
      for (const name of names) zone.remove(name);
    },
    get queryCount() {
      return queryCount;
    },
    get tcpQueryCount() {
      return tcpQueryCount;
    },
    async close() {
      for (const socket of connections) socket.destroy();
      await Promise.all([
        new Promise<void>((resolve) => udpSocket.close(() => resolve())),
        new Promise<void>((resolve) => tcpServer.close(() => resolve())),
      ]);
    },
  };
}
