import { randomUUID } from 'node:crypto';
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { Socket } from 'node:net';
import type { TestCa } from '../support/test-ca.ts';
import { avatarImage, blackPng } from './images.ts';
import type { Software } from './model.ts';

/**
 * What a room's avatar is on its origin server. `png`, `jpeg` and `gif` are plain avatars; the
 * others are how a careless or hostile origin answers (the media tests' cases).
 */
export type MediaKind =
  | 'png'
  | 'jpeg'
  | 'gif'
  /** The federation answer's second part is a `Location` on the simfed's media host (a CDN). */
  | 'redirect'
  /** 50 MB of body, its Content-Length announced. */
  | 'huge'
  /** 50 MB of body, chunked (no Content-Length). */
  | 'huge_chunked'
  /** A valid 20,000×20,000 PNG of some 60 KB (1.6 GB decoded). */
  | 'bomb'
  /** `image/svg+xml` with a script in it. */
  | 'svg_script'
  /** Declared `image/png`, an HTML page with a script in fact. */
  | 'liar'
  /** A `Location` at a loopback address outside the simfed's network (the trap). */
  | 'private_location'
  /** A `Location` on the media host that answers 302 to the trap. */
  | 'redirect_to_private'
  /** Headers and the JSON part, then one byte a second. */
  | 'trickle';

export const HOSTILE_MEDIA: readonly MediaKind[] = [
  'huge',
  'huge_chunked',
  'bomb',
  'svg_script',
  'liar',
  'private_location',
  'redirect_to_private',
  'trickle',
];

/**
 * Which media endpoints a server has, from its software: Synapse before 1.111 predates federation
 * media (MSC3916) and serves only the legacy API; Synapse since 1.120 has authenticated media on by
 * default and freezes the legacy endpoints (404 for media uploaded since); the other homeservers
 * here answer both.
 */
export type MediaApi = 'authenticated' | 'legacy' | 'both';

export function mediaApiOf(software: Software): MediaApi {
  if (software.name !== 'Synapse') return 'both';
  const [major = 0, minor = 0] = software.version.split('.').map(Number);
  if (major === 1 && minor < 111) return 'legacy';
  return 'authenticated';
}

const FIFTY_MB = 50 * 1024 * 1024;
const ZEROS = Buffer.alloc(64 * 1024);
const CRLF = '\r\n';

/** The media of the simulated federation: what each `mxc://` is, and the bytes it serves. */
export class MediaLibrary {
  private readonly images = new Map<string, Promise<Buffer>>();
  private bomb: Promise<Buffer> | undefined;
  /** Requests that reached the trap (a loopback address Atlas must never dial). */
  trapConnections = 0;
  trapUrl = '';
  mediaHost = '';

  /** The bytes and declared type of a media item, for kinds whose body is a plain image or text. */
  async content(mediaId: string, kind: MediaKind): Promise<{ type: string; bytes: Buffer }> {
    switch (kind) {
      case 'jpeg':
      case 'gif':
        return { type: `image/${kind}`, bytes: await this.image(mediaId, kind) };
      case 'bomb':
        this.bomb ??= blackPng(20_000, 20_000);
        return { type: 'image/png', bytes: await this.bomb };
      case 'svg_script':
        return {
          type: 'image/svg+xml',
          bytes: Buffer.from(
            '<svg xmlns="http://www.w3.org/2000/svg" width="96" height="96"><script>alert(document.domain)</script><rect width="96" height="96"/></svg>',
          ),
        };
      case 'liar':
        return {
          type: 'image/png',
          bytes: Buffer.from(
            '<!doctype html><html><body><script>alert(document.cookie)</script></body></html>',
          ),
        };
      default:
        return { type: 'image/png', bytes: await this.image(mediaId, 'png') };
    }
  }

  private image(mediaId: string, format: 'png' | 'jpeg' | 'gif'): Promise<Buffer> {
    const key = `${format}:${mediaId}`;
    let image = this.images.get(key);
    if (!image) {
      image = avatarImage(mediaId, format);
      this.images.set(key, image);
    }
    return image;
  }

  /** Makes the bomb now, so that a test measuring memory does not count the simulator's work. */
  async prepare(): Promise<void> {
    this.bomb ??= blackPng(20_000, 20_000);
    await this.bomb;
  }

  locationOf(serverName: string, mediaId: string): string {
    return `https://${this.mediaHost}/${encodeURIComponent(serverName)}/${mediaId}`;
  }
}

/** Synapse's cache headers on media (`_add_cache_headers` in synapse/media/_base.py). */
const MEDIA_CACHE = { 'cache-control': 'public,max-age=86400,s-maxage=0,proxy-revalidate' };

/**
 * A federation media answer framed as Synapse frames it (`MultipartFileConsumer`): a line break,
 * the JSON part `{}`, then the media part with its type and disposition, the bytes, the close.
 */
export function multipartAnswer(
  res: ServerResponse,
  headers: Record<string, string>,
  second: { type: string; bytes: Buffer } | { location: string },
): void {
  const boundary = randomUUID().replaceAll('-', '');
  const head = `${CRLF}--${boundary}${CRLF}Content-Type: application/json${CRLF}${CRLF}{}${CRLF}--${boundary}${CRLF}`;
  const partHeaders =
    'location' in second
      ? `Location: ${second.location}${CRLF}${CRLF}`
      : `Content-Type: ${second.type}${CRLF}Content-Disposition: inline${CRLF}${CRLF}`;
  const body = Buffer.concat([
    Buffer.from(head + partHeaders),
    'location' in second ? Buffer.alloc(0) : second.bytes,
    Buffer.from(`${CRLF}--${boundary}--${CRLF}`),
  ]);
  res.writeHead(200, {
    ...headers,
    ...MEDIA_CACHE,
    'content-type': `multipart/mixed; boundary=${boundary}`,
    'content-length': String(body.length),
  });
  res.end(body);
}

/** Writes `total` bytes of zeros after `prefix`, as fast as the reader takes them, until it leaves. */
async function stream(res: ServerResponse, prefix: Buffer, total: number): Promise<void> {
  let wake: (() => void) | undefined;
  res.once('close', () => wake?.());
  const written = (part: Buffer) =>
    res.write(part)
      ? Promise.resolve()
      : new Promise<void>((resolve) => {
          wake = resolve;
          res.once('drain', resolve);
        });
  await written(prefix);
  let sent = prefix.length;
  while (sent < total && !res.destroyed) {
    const part = ZEROS.subarray(0, Math.min(ZEROS.length, total - sent));
    sent += part.length;
    await written(part);
  }
  res.end();
}

/**
 * Answers a federation media request (`/_matrix/federation/v1/media/{thumbnail,download}/{id}`)
 * once the signature and parameters are checked, for one item of `kind`.
 */
export async function answerFederationMedia(
  library: MediaLibrary,
  res: ServerResponse,
  headers: Record<string, string>,
  serverName: string,
  mediaId: string,
  kind: MediaKind,
  later: (ms: number, fn: () => void) => void,
): Promise<void> {
  switch (kind) {
    case 'redirect':
    case 'redirect_to_private':
      return multipartAnswer(res, headers, { location: library.locationOf(serverName, mediaId) });
    case 'private_location':
      return multipartAnswer(res, headers, { location: `${library.trapUrl}/${mediaId}` });
    case 'huge':
    case 'huge_chunked': {
      const boundary = randomUUID().replaceAll('-', '');
      const head = Buffer.from(
        `${CRLF}--${boundary}${CRLF}Content-Type: application/json${CRLF}${CRLF}{}${CRLF}--${boundary}${CRLF}Content-Type: image/png${CRLF}${CRLF}\u0089PNG\r\n\u001a\n`,
        'latin1',
      );
      res.writeHead(200, {
        ...headers,
        ...MEDIA_CACHE,
        'content-type': `multipart/mixed; boundary=${boundary}`,
        ...(kind === 'huge' ? { 'content-length': String(FIFTY_MB) } : {}),
      });
      return stream(res, head, FIFTY_MB);
    }
    case 'trickle': {
      const boundary = randomUUID().replaceAll('-', '');
      res.writeHead(200, {
        ...headers,
        ...MEDIA_CACHE,
        'content-type': `multipart/mixed; boundary=${boundary}`,
      });
      res.write(
        `${CRLF}--${boundary}${CRLF}Content-Type: application/json${CRLF}${CRLF}{}${CRLF}--${boundary}${CRLF}Content-Type: image/png${CRLF}${CRLF}`,
      );
      const image = (await library.content(mediaId, 'png')).bytes;
      let at = 0;
      const tick = () => {
        if (res.destroyed || at >= image.length) return;
        res.write(image.subarray(at, at + 1));
        at++;
        later(1_000, tick);
      };
      later(1_000, tick);
      return;
    }
    default: {
      const content = await library.content(mediaId, kind);
      return multipartAnswer(res, headers, content);
    }
  }
}

/**
 * The simfed's media host (`media.simfed.test`): where `Location`s point, like a CDN in front of a
 * homeserver's media store. `/{serverName}/{mediaId}` serves the item's bytes; for
 * `redirect_to_private` it answers 302 to the trap.
 */
export async function startMediaHost(options: {
  ca: TestCa;
  hostname: string;
  address: string;
  port: number;
  library: MediaLibrary;
  kindOf(serverName: string, mediaId: string): MediaKind | undefined;
}): Promise<{ requests: () => number; close(): Promise<void> }> {
  const issued = await options.ca.issue([options.hostname]);
  let requests = 0;
  const sockets = new Set<Socket>();
  const server = createHttpsServer({ cert: issued.cert, key: issued.key }, (req, res) => {
    requests++;
    void serve(req, res).catch(() => res.destroy());
  });
  const serve = async (req: IncomingMessage, res: ServerResponse) => {
    const [, serverPart = '', mediaId = ''] = (req.url ?? '/').split('?')[0]?.split('/') ?? [];
    const serverName = decodeURIComponent(serverPart);
    const kind = options.kindOf(serverName, mediaId);
    if (!kind) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    if (kind === 'redirect_to_private') {
      // https, so that it is the address that is refused, not the step down to plain http.
      res
        .writeHead(302, { location: `${options.library.trapUrl.replace(/^http:/, 'https:')}/${mediaId}` })
        .end();
      return;
    }
    const content = await options.library.content(mediaId, kind === 'redirect' ? 'png' : kind);
    res.writeHead(200, { 'content-type': content.type, 'content-length': String(content.bytes.length) });
    res.end(content.bytes);
  };
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.address, () => resolve());
  });
  options.library.mediaHost = `${options.hostname}:${options.port}`;
  return {
    requests: () => requests,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/**
 * A plain HTTP listener on 127.0.0.1, outside the simfed's network: the private address a hostile
 * origin points Atlas at. It counts every connection; Atlas's guard must keep that count at zero.
 */
export async function startTrap(library: MediaLibrary): Promise<{ close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createHttpServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'image/png' }).end('internal secrets');
  });
  server.on('connection', (socket: Socket) => {
    library.trapConnections++;
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  const port = address && typeof address === 'object' ? address.port : 0;
  library.trapUrl = `http://127.0.0.1:${port}`;
  return {
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/**
 * Answers the legacy `GET /_matrix/media/v3/{thumbnail,download}/{serverName}/{mediaId}`: the
 * bytes themselves, no multipart (the kinds that point elsewhere serve their image here).
 */
export async function answerLegacyMedia(
  library: MediaLibrary,
  res: ServerResponse,
  headers: Record<string, string>,
  mediaId: string,
  kind: MediaKind,
  later: (ms: number, fn: () => void) => void,
): Promise<void> {
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  if (kind === 'huge' || kind === 'huge_chunked') {
    res.writeHead(200, {
      ...headers,
      ...MEDIA_CACHE,
      'content-type': 'image/png',
      ...(kind === 'huge' ? { 'content-length': String(FIFTY_MB) } : {}),
    });
    return stream(res, signature, FIFTY_MB);
  }
  if (kind === 'trickle') {
    const image = (await library.content(mediaId, 'png')).bytes;
    res.writeHead(200, { ...headers, ...MEDIA_CACHE, 'content-type': 'image/png' });
    let at = 0;
    const tick = () => {
      if (res.destroyed || at >= image.length) return;
      res.write(image.subarray(at, at + 1));
      at++;
      later(1_000, tick);
    };
    tick();
    return;
  }
  const plain =
    kind === 'redirect' || kind === 'redirect_to_private' || kind === 'private_location' ? 'png' : kind;
  const content = await library.content(mediaId, plain);
  res.writeHead(200, {
    ...headers,
    ...MEDIA_CACHE,
    'content-type': content.type,
    'content-length': String(content.bytes.length),
  });
  res.end(content.bytes);
}
