/**
 * Where simulated servers live inside the simfed's dedicated loopback /24. Fixed offsets and fixed
 * ports: the block is this instance's alone, so protocol ports (443, 8448) can be bound as they are
 * in the wild, and nothing else on the machine competes for them.
 */
export const HOST = {
  /** Most servers: 443 (well-known, client API), 8448 and the explicit ports below. */
  main: 1,
  /** Servers with nothing on 443: the well-known fetch is refused, 8448 answers. */
  no443: 2,
  /** The DNS server (port 53). */
  dns: 53,
  /** IP-literal servers get one address each from here on. */
  ipLiteralBase: 10,
  ipLiteralMax: 40,
  /** Names that resolve here find nothing listening. */
  dead: 254,
} as const;

export const PORT = {
  https: 443,
  federation: 8448,
  /** Explicit ports in server names (`name:port`). */
  explicit: [8449, 9448] as const,
  /** Delegation targets with a port (`m.server: "matrix.example:8450"`). */
  delegated: 8450,
  /** SRV targets. */
  srv: 8451,
  /** The media host, where federation media answers' `Location`s point. */
  media: 8452,
} as const;

export function address(prefix: string, host: number): string {
  return `${prefix}.${host}`;
}
