import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type AppDeps, createApp, createAppDeps, startServer } from '@atlas/api';
import { type Config, loadConfig } from '@atlas/shared/config';
import { isShownAvatar } from '@atlas/shared/db';
import {
  createServerResolver,
  FederationClient,
  generateSigningKey,
  mediaRef,
  mxcUri,
} from '@atlas/shared/matrix';
import { AvatarService, AvatarStore } from '@atlas/shared/media';
import { createHttpClient, type HttpClient, httpClientOptionsFromConfig } from '@atlas/shared/net';
import { indexChangedRooms } from '@atlas/shared/search';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HOSTILE_MEDIA, type MediaKind } from '../simfed/media.ts';
import type { ManifestServer } from '../simfed/model.ts';
import { type SimFed, startSimFed } from '../simfed/simfed.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { capturedLogger, type LogLine } from '../support/log-lines.ts';

// Room avatars through federation media, against a simulated federation that serves media the way
// Synapse does (multipart/mixed, a Location to follow, 404 for unknown media, the legacy endpoint
// on old servers only) and the way a hostile origin might. The API runs in this process, serving
// Atlas's key over TLS so the simulated servers verify its signed requests.

const FEDERATION_THUMBNAIL = 'GET /_matrix/federation/v1/media/thumbnail/{mediaId}';
const LEGACY_THUMBNAIL = 'GET /_matrix/media/v3/thumbnail/{serverName}/{mediaId}';

/**
 * The most this process's resident memory may grow while every hostile avatar is fetched at once
 * (four at a time): a 4 MiB body cap per fetch and a header check before decoding keep it small,
 * where buffering one 50 MB body or decoding the bomb (400 million pixels) would pass it many times.
 */
const HOSTILE_MEMORY_BOUND = 64 * 1024 * 1024;

interface Atlas {
  deps: AppDeps & { close(): Promise<void> };
  media: { federation: FederationClient; http: HttpClient };
  base: string;
  lines: LogLine[];
  dataDir: string;
  close(): Promise<void>;
}

let sim: SimFed;
let database: TestDatabase;
let atlas: Atlas;
let dir: string;
/** The `mxc://` each case's room got, by case. */
const avatars = new Map<string, string>();
/** Rooms the cases use. */
const usedRooms = new Set<string>();
/** Every app of the file signs with one key: the simulated servers cache the one they fetched. */
const signingKey = generateSigningKey();

function mediaPath(mxc: string, size?: 'large'): string {
  const [, serverName = '', mediaId = ''] = /^mxc:\/\/([^/]+)\/(.+)$/.exec(mxc) ?? [];
  return `/media/avatar/${encodeURIComponent(serverName)}/${mediaId}${size ? `?size=${size}` : ''}`;
}

function serverOf(mxc: string): string {
  return /^mxc:\/\/([^/]+)\//.exec(mxc)?.[1] ?? '';
}

/** The API over this test's database, fetching media with its own clients; `env` adds settings. */
async function startAtlas(label: string, env: Record<string, string> = {}): Promise<Atlas> {
  const dataDir = await mkdtemp(path.join(dir, `${label}-`));
  const config: Config = loadConfig({
    ...sim.env,
    DATABASE_URL: database.url,
    ATLAS_DATA_DIR: dataDir,
    LOG_LEVEL: 'debug',
    ...env,
  });
  if (!config.serverName || !config.federation) throw new Error('the simfed gives Atlas an identity');
  const { log, lines } = capturedLogger();
  const http = createHttpClient(await httpClientOptionsFromConfig(config, { maxInFlight: 16 }));
  const identity = { serverName: config.serverName, signingKey };
  const federation = new FederationClient({ http, resolver: createServerResolver({ http }), identity });
  const deps = await createAppDeps(config, {
    database,
    log,
    identity,
    federation,
    media: { federation, http },
  });
  const app = createApp({ ...deps, settings: { ...deps.settings, rateLimitPerMinute: 0 } });
  const server = await startServer(app, {
    http: { host: '127.0.0.1', port: 0 },
    // Only one app at a time holds Atlas's name, and with it the key the simulated servers fetch.
    federation: label === 'main' ? { host: sim.atlas.host, ...config.federation } : undefined,
  });
  return {
    deps,
    media: { federation, http },
    base: `http://127.0.0.1:${server.httpPort}`,
    lines,
    dataDir,
    async close() {
      await server.close();
      await deps.close();
      await http.close();
    },
  };
}

async function insertRooms(rows: { roomId: string; avatarUrl: string; hidden?: boolean }[]): Promise<void> {
  for (const row of rows) {
    await database.sql`
      insert into rooms (room_id, name, avatar_url, num_joined_members, hidden)
      values (${row.roomId}, ${`Room ${row.roomId.slice(1, 8)}`}, ${row.avatarUrl}, 10, ${row.hidden ?? false})
      on conflict (room_id) do update set avatar_url = excluded.avatar_url, hidden = excluded.hidden`;
  }
}

function thumbnailRequests(serverName: string): number {
  return sim.stats(serverName).byEndpoint[FEDERATION_THUMBNAIL] ?? 0;
}

/** Files in the avatar cache (the `tmp/` folder included: nothing may be left there). */
async function cachedFiles(dataDir: string): Promise<{ file: string; size: number }[]> {
  const root = path.join(dataDir, 'media');
  const out: { file: string; size: number }[] = [];
  for (const entry of await readdir(root, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const file = path.join(entry.parentPath, entry.name);
    out.push({ file: path.relative(root, file), size: (await stat(file)).size });
  }
  return out;
}

function linesFor(mxc: string): LogLine[] {
  const [, server, mediaId] = /^mxc:\/\/([^/]+)\/(.+)$/.exec(mxc) ?? [];
  return atlas.lines.filter((line) => line.server === server && line.mediaId === mediaId);
}

function procStatus(field: 'VmRSS' | 'VmHWM', text: string): number {
  const kib = Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text)?.[1]);
  if (!Number.isFinite(kib)) throw new Error(`no ${field} in /proc/self/status`);
  return kib * 1024;
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'atlas-media-'));
  sim = await startSimFed({ servers: 12, seed: 'media-avatars', dir: path.join(dir, 'sim'), rooms: 400 });
  const reachable = (api: (s: ManifestServer) => boolean) =>
    sim.manifest.servers.filter((s) => s.reachable && s.behaviour === 'normal' && api(s));
  const modern = reachable((s) => s.media_api === 'authenticated');
  const legacy = reachable((s) => s.media_api === 'legacy');
  const both = reachable((s) => s.media_api === 'both');
  const withFederationMedia = [...modern, ...both];
  if (!modern[0] || !legacy[0] || !both[0] || withFederationMedia.length < HOSTILE_MEDIA.length) {
    throw new Error('the seed gives no server of each media kind; pick another');
  }
  const rooms = sim.manifest.servers.flatMap((s) => s.rooms).filter((r) => !r.noindex);
  const cases: { name: string; media: MediaKind; server: string }[] = [
    { name: 'plain', media: 'png', server: modern[0].name },
    { name: 'jpeg', media: 'jpeg', server: modern[1]?.name ?? modern[0].name },
    { name: 'legacy', media: 'png', server: legacy[0].name },
    { name: 'both', media: 'gif', server: both[0].name },
    { name: 'location', media: 'redirect', server: modern[0].name },
    { name: 'concurrent', media: 'png', server: both[1]?.name ?? both[0].name },
    { name: 'large', media: 'png', server: modern[0].name },
    { name: 'hidden', media: 'png', server: modern[0].name },
    // Each hostile origin its own server, so that they are all fetched at once.
    ...HOSTILE_MEDIA.map((media, i) => ({ name: media, media, server: withFederationMedia[i]?.name ?? '' })),
  ];
  const picked = rooms.slice(0, cases.length);
  for (const room of picked) usedRooms.add(room.room_id);
  const summary = await sim.mutate({
    setAvatars: cases.map((c, i) => ({ roomId: picked[i]?.room_id ?? '', media: c.media, server: c.server })),
  });
  for (const [i, c] of cases.entries()) avatars.set(c.name, summary.avatarsSet[i]?.avatarUrl ?? '');
  avatars.set('unknown', `mxc://${modern[0].name}/NoSuchMedia0123`);
  avatars.set('not-shown', `mxc://${modern[0].name}/NotInAnyShownRoom`);

  database = await createTestDatabase('media_avatars');
  await insertRooms([
    ...cases.map((c, i) => ({
      roomId: picked[i]?.room_id ?? '',
      avatarUrl: avatars.get(c.name) ?? '',
      hidden: c.name === 'hidden',
    })),
    { roomId: '!unknown:media.test', avatarUrl: avatars.get('unknown') ?? '' },
  ]);
  atlas = await startAtlas('main');
}, 180_000);

afterAll(async () => {
  await atlas?.close();
  await sim?.close();
  await database?.drop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('room avatars over federation media', () => {
  it('fetches a thumbnail over signed federation media once, and serves it re-encoded from the cache', async () => {
    const mxc = avatars.get('plain') ?? '';
    const first = await fetch(`${atlas.base}${mediaPath(mxc)}`);
    expect(first.status).toBe(200);
    expect(first.headers.get('content-type')).toBe('image/webp');
    expect(first.headers.get('cache-control')).toMatch(/max-age=\d{6,}/);
    const etag = first.headers.get('etag');
    expect(etag).toMatch(/^"[A-Za-z0-9_-]+"$/);
    const bytes = Buffer.from(await first.arrayBuffer());
    const meta = await sharp(bytes).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['webp', 96, 96]);
    expect(sim.stats(serverOf(mxc)).verified).toBeGreaterThan(0);

    const again = await fetch(`${atlas.base}${mediaPath(mxc)}`);
    expect(Buffer.from(await again.arrayBuffer())).toEqual(bytes);
    const revalidated = await fetch(`${atlas.base}${mediaPath(mxc)}`, {
      headers: { 'if-none-match': etag ?? '' },
    });
    expect(revalidated.status).toBe(304);
    expect(thumbnailRequests(serverOf(mxc))).toBe(1);
    expect(linesFor(mxc)).toContainEqual(
      expect.objectContaining({ route: 'federation', msg: 'avatar fetched over federation media' }),
    );
  });

  it('reads JPEG and GIF origins alike, and scales within 400 pixels for the room page', async () => {
    for (const name of ['jpeg', 'both']) {
      const response = await fetch(`${atlas.base}${mediaPath(avatars.get(name) ?? '')}`);
      expect(response.status, name).toBe(200);
    }
    const large = await fetch(`${atlas.base}${mediaPath(avatars.get('large') ?? '', 'large')}`);
    expect(large.status).toBe(200);
    const meta = await sharp(Buffer.from(await large.arrayBuffer())).metadata();
    // The origin's image is 120×90: scaled within 400×400, never up.
    expect([meta.format, meta.width, meta.height]).toEqual(['webp', 120, 90]);
  });

  it("follows the answer's Location to the media host", async () => {
    const mxc = avatars.get('location') ?? '';
    const before = sim.media.hostRequests();
    const response = await fetch(`${atlas.base}${mediaPath(mxc)}`);
    expect(response.status).toBe(200);
    expect(sim.media.hostRequests()).toBe(before + 1);
    expect(linesFor(mxc)).toContainEqual(expect.objectContaining({ route: 'federation_location' }));
  });

  it('falls back to the legacy endpoint only where the origin has no federation media, and says so', async () => {
    const mxc = avatars.get('legacy') ?? '';
    const response = await fetch(`${atlas.base}${mediaPath(mxc)}`);
    expect(response.status).toBe(200);
    expect(linesFor(mxc)).toContainEqual(
      expect.objectContaining({ route: 'legacy', msg: 'avatar fetched over the legacy media API' }),
    );
    expect(sim.stats(serverOf(mxc)).byEndpoint[LEGACY_THUMBNAIL]).toBe(1);
    // Servers with federation media were never asked over the legacy API.
    for (const name of ['plain', 'both', 'location']) {
      expect(sim.stats(serverOf(avatars.get(name) ?? '')).byEndpoint[LEGACY_THUMBNAIL], name).toBeUndefined();
    }
  });

  it('makes one upstream fetch for many requests at once', async () => {
    const mxc = avatars.get('concurrent') ?? '';
    const before = thumbnailRequests(serverOf(mxc));
    const answers = await Promise.all(
      Array.from({ length: 20 }, () => fetch(`${atlas.base}${mediaPath(mxc)}`)),
    );
    expect(answers.map((a) => a.status)).toEqual(Array(20).fill(200));
    expect(new Set(answers.map((a) => a.headers.get('etag'))).size).toBe(1);
    expect(thumbnailRequests(serverOf(mxc))).toBe(before + 1);
  });

  it('answers 404 for media the origin does not have, and remembers it', async () => {
    const mxc = avatars.get('unknown') ?? '';
    const before = thumbnailRequests(serverOf(mxc));
    const first = await fetch(`${atlas.base}${mediaPath(mxc)}`);
    expect(first.status).toBe(404);
    expect(((await first.json()) as { error: { message: string } }).error.message).toMatch(/answered 404/);
    expect(first.headers.get('cache-control')).toMatch(/max-age=600/);
    expect((await fetch(`${atlas.base}${mediaPath(mxc)}`)).status).toBe(404);
    expect(thumbnailRequests(serverOf(mxc))).toBe(before + 1);
  });

  it('fetches nothing for an avatar no shown room has: Atlas proxies no other media', async () => {
    const before = sim.totals().requests;
    for (const name of ['not-shown', 'hidden']) {
      const response = await fetch(`${atlas.base}${mediaPath(avatars.get(name) ?? '')}`);
      expect(response.status, name).toBe(404);
    }
    expect(sim.totals().requests).toBe(before);
  });

  it('answers a bad parameter with a 400 that names it, and asks no origin', async () => {
    const before = sim.totals().requests;
    const plain = mediaPath(avatars.get('plain') ?? '');
    const cases: [string, RegExp][] = [
      ['/media/avatar/bad%20name/x', /^invalid param: serverName: /],
      ['/media/avatar/example.org/bad.id', /^invalid param: mediaId: /],
      [`/media/avatar/example.org/${'a'.repeat(256)}`, /^invalid param: mediaId: /],
      [`${plain}?size=huge`, /^invalid query: size: /],
    ];
    for (const [url, message] of cases) {
      const response = await fetch(`${atlas.base}${url}`);
      expect(response.status, url).toBe(400);
      const body = (await response.json()) as { error: { code: string; message: string } };
      expect(body.error.code, url).toBe('BAD_REQUEST');
      expect(body.error.message, url).toMatch(message);
    }
    expect(sim.totals().requests).toBe(before);
  });

  it('is listed in the OpenAPI document with its parameters', async () => {
    type Parameter = { name: string; in: string };
    const doc = (await (await fetch(`${atlas.base}/api/v1/openapi.json`)).json()) as {
      paths: Record<string, { get?: { parameters?: Parameter[]; responses?: Record<string, unknown> } }>;
    };
    const operation = doc.paths['/media/avatar/{serverName}/{mediaId}']?.get;
    expect(operation?.parameters?.map((p) => `${p.in}:${p.name}`).sort()).toEqual([
      'path:mediaId',
      'path:serverName',
      'query:size',
    ]);
    expect(Object.keys(operation?.responses ?? {})).toEqual(
      expect.arrayContaining(['200', '304', '400', '404']),
    );
  });

  it('stops serving a cached avatar once its room is hidden', async () => {
    const mxc = avatars.get('jpeg') ?? '';
    const ref = mediaRef(serverOf(mxc), mxc.slice(mxc.lastIndexOf('/') + 1));
    if (!ref) throw new Error(`${mxc} is no media`);
    const { log } = capturedLogger();
    // The app's own service checks again every ten minutes; this one, over the same cache, at once.
    const service = new AvatarService({
      store: await AvatarStore.open({ dir: path.join(atlas.dataDir, 'media'), capBytes: 1 << 30, log }),
      ...atlas.media,
      log,
      isShownAvatar: (r) => isShownAvatar(database.sql, mxcUri(r), r.serverName),
      shownRecheckMs: 0,
    });
    const before = sim.totals().requests;
    expect((await service.get(ref, 'thumb')).ok).toBe(true);
    await database.sql`update rooms set hidden = true where avatar_url = ${mxc}`;
    try {
      expect(await service.get(ref, 'thumb')).toMatchObject({ ok: false, reason: 'not_found' });
    } finally {
      await database.sql`update rooms set hidden = false where avatar_url = ${mxc}`;
    }
    // Served from the cache the app filled: the origin was not asked.
    expect(sim.totals().requests).toBe(before);
  });

  it('links the thumbnail from room answers', async () => {
    await indexChangedRooms(database.sql, atlas.deps.search);
    const roomId = (
      await database.sql<{ room_id: string }[]>`
      select room_id from rooms where avatar_url = ${avatars.get('plain') ?? ''}`
    )[0]?.room_id;
    const room = (await (
      await fetch(`${atlas.base}/api/v1/rooms/${encodeURIComponent(roomId ?? '')}`)
    ).json()) as {
      avatar_url: string;
      avatar_thumbnail: string | null;
    };
    expect(room.avatar_thumbnail).toBe(mediaPath(room.avatar_url));
  });
});

describe('hostile media', () => {
  it('refuses or caps each one with a clear log line, stores nothing, keeps memory bounded and the API serving', async () => {
    await sim.media.prepare();
    const before = await cachedFiles(atlas.dataDir);
    // Settle what the cases above left, then measure from here: the kernel resets the peak.
    global.gc?.();
    await writeFile('/proc/self/clear_refs', '5');
    const baseline = procStatus('VmRSS', await readFile('/proc/self/status', 'utf8'));

    let hostileDone = false;
    let served = 0;
    const alongside = (async () => {
      while (!hostileDone) {
        const response = await fetch(`${atlas.base}/api/v1/rooms?limit=5`);
        expect(response.status).toBe(200);
        await response.arrayBuffer();
        served++;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    })();
    const answers = await Promise.all(
      HOSTILE_MEDIA.map(async (kind) => {
        const response = await fetch(`${atlas.base}${mediaPath(avatars.get(kind) ?? '')}`);
        return { kind, status: response.status, body: await response.text() };
      }),
    );
    hostileDone = true;
    await alongside;
    const peak = procStatus('VmHWM', await readFile('/proc/self/status', 'utf8'));

    const expected: Record<string, string> = {
      huge: 'too_large',
      huge_chunked: 'too_large',
      bomb: 'too_many_pixels',
      svg_script: 'refused_type',
      liar: 'refused_type',
      private_location: 'blocked_address',
      redirect_to_private: 'blocked_address',
      trickle: 'unreachable',
    };
    for (const answer of answers) {
      expect(answer.status, answer.kind).toBe(404);
      const line = linesFor(avatars.get(answer.kind) ?? '').find((l) => typeof l.reason === 'string');
      expect(line, `a log line for ${answer.kind}`).toMatchObject({ reason: expected[answer.kind] });
      expect(line?.msg, answer.kind).toMatch(/^avatar (refused|not fetched): /);
    }
    const byKind = (kind: string) => linesFor(avatars.get(kind) ?? '').find((l) => l.reason)?.msg ?? '';
    expect(byKind('huge')).toMatch(/announces 52428800 bytes/);
    expect(byKind('bomb')).toMatch(/declares 20000×20000 pixels/);
    expect(byKind('svg_script')).toMatch(/the body is SVG/);
    expect(byKind('liar')).toMatch(/the body is HTML \(declared image\/png\)/);
    expect(byKind('private_location')).toMatch(/refusing to connect to 127\.0\.0\.1/);
    expect(byKind('redirect_to_private')).toMatch(/refusing to connect to 127\.0\.0\.1/);
    for (const kind of HOSTILE_MEDIA) console.log(`${kind}: ${byKind(kind)}`);
    expect(byKind('trickle')).toMatch(/deadline|took longer/);
    expect(sim.media.trapConnections()).toBe(0);
    expect(await cachedFiles(atlas.dataDir)).toEqual(before);
    expect(served).toBeGreaterThan(0);
    // Reported for BENCHMARKS.md and the issue; the bound is what the test holds.
    console.log(
      `hostile media: resident memory grew ${((peak - baseline) / 1048576).toFixed(1)} MiB at most`,
    );
    expect(peak - baseline).toBeLessThan(HOSTILE_MEMORY_BOUND);

    // Remembered: asking again sends the origins nothing.
    const requests = sim.totals().requests;
    for (const kind of HOSTILE_MEDIA) await fetch(`${atlas.base}${mediaPath(avatars.get(kind) ?? '')}`);
    expect(sim.totals().requests).toBe(requests);
  }, 60_000);
});

describe('settings', () => {
  it('with ATLAS_MEDIA=off fetches nothing and links no thumbnail', async () => {
    const off = await startAtlas('off', { ATLAS_MEDIA: 'off' });
    try {
      const before = sim.totals().requests;
      const response = await fetch(`${off.base}${mediaPath(avatars.get('jpeg') ?? '')}`);
      expect(response.status).toBe(404);
      expect(((await response.json()) as { error: { message: string } }).error.message).toMatch(
        /ATLAS_MEDIA=off/,
      );
      // A bad parameter is still named, media on or off.
      expect((await fetch(`${off.base}/media/avatar/example.org/bad.id`)).status).toBe(400);
      const list = (await (await fetch(`${off.base}/api/v1/rooms?limit=50`)).json()) as {
        rooms: { avatar_url: string | null; avatar_thumbnail: string | null }[];
      };
      expect(list.rooms.some((r) => r.avatar_url !== null)).toBe(true);
      expect(list.rooms.every((r) => r.avatar_thumbnail === null)).toBe(true);
      expect(sim.totals().requests).toBe(before);
    } finally {
      await off.close();
    }
  });

  it('keeps the cache folder under ATLAS_MEDIA_CACHE_MB, evicting the least recently used', async () => {
    // 1 MiB holds 256 files of a 4 KiB block each: 320 avatars overflow it.
    const rooms = sim.manifest.servers
      .filter((s) => s.reachable && s.media_api !== 'legacy')
      .flatMap((s) => s.rooms.map((r) => ({ roomId: r.room_id, server: s.name })))
      .filter((r, i, all) => !usedRooms.has(r.roomId) && all.findIndex((o) => o.roomId === r.roomId) === i)
      .slice(-320);
    expect(rooms.length).toBe(320);
    const summary = await sim.mutate({
      setAvatars: rooms.map((r) => ({ roomId: r.roomId, media: 'png' as const, server: r.server })),
    });
    await insertRooms(summary.avatarsSet);
    const small = await startAtlas('evict', { ATLAS_MEDIA_CACHE_MB: '1' });
    try {
      const capBytes = 1024 * 1024;
      const queue = [...summary.avatarsSet];
      const worker = async () => {
        for (let next = queue.shift(); next; next = queue.shift()) {
          const response = await fetch(`${small.base}${mediaPath(next.avatarUrl)}`);
          expect(response.status).toBe(200);
          await response.arrayBuffer();
        }
      };
      await Promise.all([worker(), worker(), worker(), worker()]);
      const files = await cachedFiles(small.dataDir);
      const onDisk = files.reduce((sum, f) => sum + Math.ceil(f.size / 4096) * 4096, 0);
      expect(files.length).toBeGreaterThan(200);
      expect(files.length).toBeLessThan(320);
      expect(onDisk).toBeLessThanOrEqual(capBytes);
      // The first avatars fetched went first; the last are still there.
      const first = summary.avatarsSet[0]?.avatarUrl ?? '';
      const last = summary.avatarsSet.at(-1)?.avatarUrl ?? '';
      const requestsOf = (mxc: string) => thumbnailRequests(serverOf(mxc));
      const lastBefore = requestsOf(last);
      expect((await fetch(`${small.base}${mediaPath(last)}`)).status).toBe(200);
      expect(requestsOf(last)).toBe(lastBefore);
      const firstBefore = requestsOf(first);
      expect((await fetch(`${small.base}${mediaPath(first)}`)).status).toBe(200);
      expect(requestsOf(first)).toBe(firstBefore + 1);
    } finally {
      await small.close();
    }
  }, 120_000);
});
