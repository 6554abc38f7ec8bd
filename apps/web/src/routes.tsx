import type { Context } from 'hono';
import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { JSX } from 'hono/jsx/jsx-runtime';
import { assetAt } from './assets.ts';
import { t } from './i18n/index.ts';
import { parseRoomReference, roomPath, serverPath } from './matrix-links.ts';
import { AboutPage } from './pages/about.tsx';
import { ErrorPage } from './pages/error.tsx';
import { ReportResultPage } from './pages/report.tsx';
import { parseLimit, RoomPage } from './pages/room.tsx';
import { ROOM_FILTER_KEYS, RoomResults, type RoomsModel, RoomsPage } from './pages/rooms.tsx';
import { ServerPage } from './pages/server.tsx';
import { SERVER_FILTER_KEYS, type ServersModel, ServersPage } from './pages/servers.tsx';
import { StatsPage } from './pages/stats.tsx';
import type { DirectoryStats, QueryRecord, WebServices, WebSettings } from './services.ts';
import { present } from './urls.ts';

/**
 * What every page may load: its own stylesheet, script and images, nothing inline, nothing from
 * elsewhere; no framing. Remote text is never markup, and this is the second line of defence.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "form-action 'self'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** Headers of every HTML page. No cookie is ever set: the pages need none. */
export function setPageHeaders(c: Context): void {
  c.header('content-security-policy', CONTENT_SECURITY_POLICY);
  c.header('x-content-type-options', 'nosniff');
  c.header('referrer-policy', 'same-origin');
  c.header('x-frame-options', 'DENY');
}

/** Only these parts of a page change when search-as-you-type asks for them. */
const FRAGMENT_HEADER = 'x-atlas-fragment';

type Status = 200 | 400 | 403 | 404 | 429 | 500 | 503;

export function renderPage(c: Context, node: JSX.Element, status: Status = 200): Response {
  setPageHeaders(c);
  if (status === 200 && c.req.method === 'GET') c.header('cache-control', 'public, max-age=30');
  else c.header('cache-control', 'no-store');
  return c.html(`<!doctype html>${node.toString()}`, status);
}

/**
 * An HTML error page for paths outside the JSON and Matrix APIs (the API's not-found and error
 * handlers call it); `message` says what was wrong with the request (400, 429).
 */
export function renderErrorPage(c: Context, status: 400 | 404 | 429 | 500 | 503, message?: string): Response {
  const titles = {
    400: [t.errors.badRequestTitle, message ?? t.errors.badRequest],
    404: [t.errors.notFoundTitle, t.errors.notFound],
    429: [t.errors.rateLimitedTitle, message ?? t.errors.rateLimited],
    500: [t.errors.serverErrorTitle, t.errors.serverError],
    503: [t.errors.unavailableTitle, t.errors.unavailable],
  } as const;
  const [title, text] = titles[status];
  return renderPage(c, <ErrorPage title={title} message={text} />, status);
}

/**
 * A problem as the API states it (`min_members: must be a whole number`), with the parameter named
 * as the form labels it (`Members at least: must be a whole number`).
 */
export function inWords(problems: string[], labels: Record<string, string>): string[] {
  return problems.map((problem) => {
    const colon = problem.indexOf(':');
    const label = colon > 0 ? labels[problem.slice(0, colon)] : undefined;
    return label ? `${label}${problem.slice(colon)}` : problem;
  });
}

function fragmentWanted(c: Context): boolean {
  return c.req.header(FRAGMENT_HEADER) === 'results';
}

/** The filters of the rooms form, in the JSON API's terms (a custom complexity limit becomes `joinable=<limit>`). */
function roomApiQuery(values: Record<string, string>): { query: QueryRecord; problems: string[] } {
  const query: QueryRecord = {};
  // A custom complexity limit is the API's `joinable=<limit>`, set below.
  for (const key of ['q', ...ROOM_FILTER_KEYS, 'sort', 'cursor']) {
    if (key !== 'joinable' && key !== 'joinable_limit') query[key] = values[key];
  }
  const problems: string[] = [];
  if (
    values.joinable === 'custom' ||
    (values.joinable === undefined && values.joinable_limit !== undefined)
  ) {
    if (values.joinable_limit === undefined) {
      problems.push(`${t.rooms.joinableLimit}: give a number, e.g. 1.5`);
    } else query.joinable = values.joinable_limit;
  } else {
    query.joinable = values.joinable;
  }
  return { query, problems };
}

async function optionalStats(services: WebServices): Promise<DirectoryStats | null> {
  try {
    return await services.stats();
  } catch {
    // The filters' choices are a nicety; the search works without them.
    return null;
  }
}

const ROOM_ID = /^![^\s/]{1,254}$/;
const SERVER_NAME = /^[A-Za-z0-9.:[\]-]{1,255}$/;

/**
 * The web UI: server-rendered pages over the same services as the JSON API. Every page works
 * without JavaScript (forms, links with cursors, SVG charts); the one script only adds
 * search-as-you-type, keeps the URL in step and copies aliases.
 */
export function webRoutes<RoomQuery, ServerQuery>(
  services: WebServices<RoomQuery, ServerQuery>,
  settings: WebSettings,
): Hono<{ Variables: { clientIp: string } }> {
  const app = new Hono<{ Variables: { clientIp: string } }>();

  app.get('/', async (c) => {
    const now = Date.now();
    const values = present(c.req.query());
    const { query, problems } = roomApiQuery(values);
    const parsed = services.parseRoomQuery(query);
    const model: RoomsModel = { query: values, problems, results: null, reference: null, stats: null, now };
    const [stats] = await Promise.all([
      fragmentWanted(c) ? Promise.resolve(null) : optionalStats(services as WebServices),
    ]);
    model.stats = stats;
    if (!parsed.ok) model.problems.push(...inWords(parsed.problems, t.fieldNames));
    if (model.problems.length === 0 && parsed.ok) {
      const reference = values.q && !values.cursor ? parseRoomReference(values.q) : null;
      const [results, room] = await Promise.all([
        services.searchRooms(parsed.value),
        reference ? services.findRoom(reference) : Promise.resolve(null),
      ]);
      if (results.ok) model.results = results.value;
      else model.problems.push(...inWords(results.problems, t.fieldNames));
      if (reference && values.q) model.reference = { text: values.q, room };
    }
    const status = model.problems.length > 0 ? 400 : 200;
    if (fragmentWanted(c)) {
      setPageHeaders(c);
      c.header('vary', 'X-Atlas-Fragment');
      c.header('cache-control', status === 200 ? 'public, max-age=30' : 'no-store');
      return c.html((<RoomResults model={model} />).toString(), status);
    }
    c.header('vary', 'X-Atlas-Fragment');
    return renderPage(c, <RoomsPage model={model} />, status);
  });

  // The rooms live at `/`; `/rooms` is where people guess they are.
  app.get('/rooms', (c) => {
    const search = new URL(c.req.url).search;
    return c.redirect(`/${search}`, 301);
  });

  app.get('/rooms/:roomId', async (c) => {
    const roomId = c.req.param('roomId');
    const path = roomPath(roomId);
    if (!ROOM_ID.test(roomId)) return notFoundRoom(c, roomId);
    const room = await services.roomDetail(roomId);
    if (!room) return notFoundRoom(c, roomId);
    const model = { room, limit: parseLimit(c.req.query('limit')), settings, now: Date.now() };
    return renderPage(c, <RoomPage model={model} path={path} />);
  });

  const reportBody = bodyLimit({
    maxSize: 16 * 1024,
    onError: (c) =>
      renderPage(
        c,
        <ErrorPage
          title={t.report.failedTitle}
          message={t.report.reasonHint}
          back={{ href: '/', label: t.errors.goHome }}
        />,
        400,
      ),
  });

  app.post('/rooms/:roomId/report', reportBody, async (c) => {
    const roomId = c.req.param('roomId');
    const back = { href: roomPath(roomId), label: t.report.backToRoom };
    if (!ROOM_ID.test(roomId)) return notFoundRoom(c, roomId);
    return report(c, { roomId }, back);
  });

  app.post('/servers/:name/report', reportBody, async (c) => {
    const name = c.req.param('name').toLowerCase();
    const back = { href: serverPath(name), label: t.report.backToServer };
    if (!SERVER_NAME.test(name)) return notFoundServer(c, name);
    return report(c, { serverName: name }, back);
  });

  async function report(
    c: Context<{ Variables: { clientIp: string } }>,
    target: { roomId?: string; serverName?: string },
    back: { href: string; label: string },
  ): Promise<Response> {
    // No cookies means no session to ride on, but a report must still come from these pages.
    const origin = c.req.header('origin');
    if (origin && origin !== 'null' && new URL(c.req.url).host !== safeHost(origin)) {
      return renderPage(c, <ReportResultPage sent={false} message={t.report.crossSite} back={back} />, 403);
    }
    const form = await c.req.parseBody();
    const reason = typeof form.reason === 'string' ? form.reason.trim() : '';
    const outcome = await services.report({ ...target, reason, clientIp: c.get('clientIp') ?? 'unknown' });
    if (outcome.ok)
      return renderPage(c, <ReportResultPage sent={true} message={t.report.thanks} back={back} />);
    if (outcome.retryAfterSeconds !== undefined) c.header('retry-after', String(outcome.retryAfterSeconds));
    const message =
      outcome.status === 429
        ? t.report.rateLimited(Math.max(1, Math.ceil((outcome.retryAfterSeconds ?? 60) / 60)))
        : outcome.message;
    return renderPage(c, <ReportResultPage sent={false} message={message} back={back} />, outcome.status);
  }

  app.get('/servers', async (c) => {
    const now = Date.now();
    const values = present(c.req.query());
    const query: QueryRecord = {};
    for (const key of [...SERVER_FILTER_KEYS, 'sort', 'cursor']) query[key] = values[key];
    // People choosing a server see the recommended order first (the JSON API's default is by rooms).
    query.sort ??= 'recommended';
    const model: ServersModel = { query: values, problems: [], results: null, stats: null, now };
    const parsed = services.parseServerQuery(query);
    const [stats, results] = await Promise.all([
      optionalStats(services as WebServices),
      parsed.ok ? services.listServers(parsed.value) : Promise.resolve(null),
    ]);
    model.stats = stats;
    if (!parsed.ok) model.problems.push(...inWords(parsed.problems, t.fieldNames));
    else if (results?.ok) model.results = results.value;
    else if (results) model.problems.push(...inWords(results.problems, t.fieldNames));
    return renderPage(c, <ServersPage model={model} />, model.problems.length > 0 ? 400 : 200);
  });

  app.get('/servers/:name', async (c) => {
    const name = c.req.param('name').toLowerCase();
    if (!SERVER_NAME.test(name)) return notFoundServer(c, name);
    const values = present(c.req.query());
    const [server, rooms] = await Promise.all([
      services.serverDetail(name),
      services.serverRooms(name, values.cursor),
    ]);
    if (!server) return notFoundServer(c, name);
    if (!rooms.ok) {
      return renderPage(
        c,
        <ErrorPage
          title={t.errors.badRequestTitle}
          message={inWords(rooms.problems, t.fieldNames).join('; ')}
          back={{ href: serverPath(name), label: t.report.backToServer }}
        />,
        400,
      );
    }
    const model = { server, rooms: rooms.value, query: values, now: Date.now() };
    return renderPage(c, <ServerPage model={model} path={serverPath(name)} />);
  });

  app.get('/stats', async (c) => {
    const [stats, biggest, rising] = await Promise.all([
      services.stats(),
      services.topRooms('members', 10),
      services.topRooms('growth7d', 10),
    ]);
    return renderPage(
      c,
      <StatsPage
        model={{ stats, biggest, rising: rising.filter((r) => r.growth_7d > 0), now: Date.now() }}
      />,
    );
  });

  app.get('/about', async (c) => {
    const servers = await services.elementServers();
    return renderPage(c, <AboutPage settings={settings} servers={servers} />);
  });

  app.get('/assets/:file', (c) => {
    const found = assetAt(c.req.path);
    if (!found) return renderErrorPage(c, 404);
    const { asset, immutable } = found;
    c.header('content-type', asset.type);
    c.header('etag', asset.etag);
    c.header('x-content-type-options', 'nosniff');
    c.header('cache-control', immutable ? 'public, max-age=31536000, immutable' : 'public, max-age=300');
    c.header('vary', 'Accept-Encoding');
    if (c.req.header('if-none-match') === asset.etag) return c.body(null, 304);
    if (/\bgzip\b/.test(c.req.header('accept-encoding') ?? '')) {
      c.header('content-encoding', 'gzip');
      return c.body(new Uint8Array(asset.gzip));
    }
    return c.body(new Uint8Array(asset.body));
  });

  app.get('/robots.txt', (c) =>
    c.text(
      [
        'User-agent: *',
        // The pages may be indexed; the endless combinations of filters and cursors, the APIs and
        // report forms may not.
        'Allow: /$',
        'Allow: /rooms/',
        'Allow: /servers',
        'Allow: /stats',
        'Allow: /about',
        'Disallow: /*?',
        'Disallow: /api/',
        'Disallow: /_matrix/',
        '',
      ].join('\n'),
    ),
  );

  const notFound = (c: Context, title: string, message: string, back: { href: string; label: string }) =>
    renderPage(c, <ErrorPage title={title} message={message} back={back} />, 404);
  const notFoundRoom = (c: Context, roomId: string) =>
    notFound(c, t.room.notFoundTitle, t.room.notFound(roomId), { href: '/', label: t.errors.goHome });
  const notFoundServer = (c: Context, name: string) =>
    notFound(c, t.server.notFoundTitle, t.server.notFound(name), { href: '/servers', label: t.server.back });

  return app;
}

function safeHost(origin: string): string | null {
  try {
    return new URL(origin).host;
  } catch {
    return null;
  }
}
