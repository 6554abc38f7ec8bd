import { randomUUID } from 'node:crypto';
import { isDatabaseUnavailable } from '@atlas/shared/db';
import { ATLAS_VERSION } from '@atlas/shared/version';
import { renderErrorPage, webRoutes } from '@atlas/web';
import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Context, MiddlewareHandler } from 'hono';
import { etag } from 'hono/etag';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { AppDeps } from './deps.ts';
import type { AppEnv } from './env.ts';
import { ApiError, type ErrorCode, errorEnvelope, isMatrixPath, matrixBody } from './errors.ts';
import { createMetrics } from './metrics.ts';
import { adminAuth } from './middleware/admin-auth.ts';
import { clientIp } from './middleware/client-ip.ts';
import { openCors } from './middleware/open-cors.ts';
import { ClientRateLimiter, type LimitStore, rateLimit } from './middleware/rate-limit.ts';
import { createRouter } from './openapi.ts';
import { adminRoutes } from './routes/admin/index.ts';
import { queueDashboard } from './routes/admin/queues.ts';
import { type OpenApiDocument, renderDocs } from './routes/docs.ts';
import { elementRoutes } from './routes/element.ts';
import { healthRoutes } from './routes/health.ts';
import { matrixDirectoryRoutes } from './routes/matrix-directory.ts';
import { matrixIdentityRoutes } from './routes/matrix-keys.ts';
import { mediaRoutes } from './routes/media.ts';
import { reportRoutes } from './routes/reports.ts';
import { roomRoutes } from './routes/rooms.ts';
import { serverRoutes } from './routes/servers.ts';
import { statsRoutes } from './routes/stats.ts';
import { wellKnownRoutes } from './routes/well-known.ts';
import { cachedDirectoryStats } from './services/stats.ts';
import { webServices, webSettings } from './web.ts';

const STATUS_CODES: Partial<Record<number, ErrorCode>> = {
  400: 'BAD_REQUEST',
  401: 'UNAUTHORIZED',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  409: 'CONFLICT',
  413: 'PAYLOAD_TOO_LARGE',
  429: 'RATE_LIMITED',
  503: 'UNAVAILABLE',
};

/** While the database is down: how long callers are asked to wait, and one log line per this long. */
const OUTAGE_RETRY_SECONDS = 5;
const OUTAGE_LOG_MS = 30_000;

/** A caller's request id is echoed only when it is a plain token (it goes back in a header). */
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,64}$/;

/** Avatars: images, whose errors are JSON like the API's. */
function isMediaPath(path: string): boolean {
  return path.startsWith('/media/');
}

/** Paths of the JSON API, Matrix's APIs and media, which answer in JSON; every other path is a page. */
function isApiPath(path: string): boolean {
  return path.startsWith('/api/') || path === '/metrics' || isMatrixPath(path) || isMediaPath(path);
}

const NOT_PAGES = new Set(['/healthz', '/readyz', '/robots.txt']);

/**
 * Paths of the web pages (rate-limited like the JSON API they mirror). Avatars are not: a page of
 * results loads twenty, served from the cache like assets; what reaches a remote server is bounded
 * by the avatar service (only shown rooms' avatars, one fetch each, failures remembered).
 */
function isPagePath(path: string): boolean {
  return !isApiPath(path) && !path.startsWith('/assets/') && !NOT_PAGES.has(path);
}

/** Runs a middleware except on paths under one of the prefixes. */
function except(prefixes: string[], middleware: MiddlewareHandler<AppEnv>): MiddlewareHandler<AppEnv> {
  return (c, next) => (prefixes.some((p) => c.req.path.startsWith(p)) ? next() : middleware(c, next));
}

/**
 * Builds the HTTP app. The process that serves it and the tests (through `app.request()`) call
 * the same factory.
 */
export function createApp(deps: AppDeps): OpenAPIHono<AppEnv> {
  const app = createRouter();
  const metrics = createMetrics(deps);
  const { settings } = deps;

  app.use('*', async (c, next) => {
    const given = c.req.header('x-request-id');
    const requestId = given && REQUEST_ID.test(given) ? given : randomUUID();
    c.set('requestId', requestId);
    c.set('deps', deps);
    c.header('x-request-id', requestId);
    const started = performance.now();
    await next();
    metrics.requestDuration.observe(
      { method: c.req.method, route: c.req.routePath, status: String(c.res.status) },
      (performance.now() - started) / 1000,
    );
  });
  app.use('*', clientIp(settings.trustedProxies));

  // Browsers anywhere may read the directory; writes stay same-origin except Matrix's client API,
  // whose CORS headers the spec requires.
  app.use('/api/v1/*', except(['/api/v1/admin'], openCors({ allowMethods: ['GET', 'HEAD', 'OPTIONS'] })));
  app.use('/.well-known/matrix/*', openCors({ allowMethods: ['GET', 'HEAD', 'OPTIONS'] }));
  app.use(
    '/_matrix/client/*',
    openCors({
      allowMethods: ['GET', 'POST', 'PUT', 'DELETE', 'OPTIONS'],
      allowHeaders: ['X-Requested-With', 'Content-Type', 'Authorization'],
    }),
  );

  // With Redis, every API replica counts against one limit (`/metrics` says which store counts).
  const store: LimitStore = deps.limitStore ? { kind: 'redis', client: deps.limitStore } : { kind: 'memory' };
  const requests = new ClientRateLimiter(
    { name: 'requests', limit: settings.rateLimitPerMinute, windowMs: 60_000, what: 'requests' },
    store,
  );
  const limited = rateLimit(requests);
  app.use('/api/v1/*', except(['/api/v1/admin'], limited));
  app.use('/_matrix/*', except(['/_matrix/key/'], limited));
  // The pages query what the JSON API does and count against the same limit; their assets and the
  // health checks do not.
  app.use('*', (c, next) => (isPagePath(c.req.path) ? limited(c, next) : next()));
  const conditional = etag();
  app.use(
    '/api/v1/*',
    except(['/api/v1/admin'], async (c, next) => (c.req.method === 'GET' ? conditional(c, next) : next())),
  );

  // Public first.
  app.route('/', healthRoutes());
  app.route('/', matrixIdentityRoutes(deps.identity));
  app.route('/', wellKnownRoutes());
  app.route('/', matrixDirectoryRoutes());
  app.get('/metrics', async (c) => {
    c.header('content-type', metrics.registry.contentType);
    return c.body(await metrics.registry.metrics());
  });
  app.route('/api/v1', roomRoutes());
  app.route('/api/v1', serverRoutes());
  // One stats cache and one report limit for the JSON routes and the pages.
  const stats = cachedDirectoryStats(deps.database.sql, deps.search);
  const reports = new ClientRateLimiter(
    { name: 'reports', limit: settings.reportsPerHour, windowMs: 3600_000, what: 'reports' },
    store,
  );
  app.route('/api/v1', statsRoutes(stats));
  app.route('/api/v1', elementRoutes());
  app.route('/api/v1', reportRoutes(reports));
  app.route('/', mediaRoutes());

  // Then the operator's.
  app.use('/api/v1/admin/*', adminAuth(settings.adminTokens));
  app.route('/api/v1/admin', adminRoutes());
  if (deps.queues) app.route('/api/v1/admin/queues', queueDashboard(deps.queues, '/api/v1/admin/queues'));

  app.openAPIRegistry.registerComponent('securitySchemes', 'adminToken', { type: 'http', scheme: 'bearer' });
  const documentConfig = {
    openapi: '3.0.3',
    info: {
      title: 'Atlas API',
      version: ATLAS_VERSION,
      description:
        'A federated room directory for Matrix: search rooms, browse homeservers, feed Element. Reads are cacheable (ETag, Cache-Control) and open to any origin; public endpoints are rate-limited per client address (429 with Retry-After).',
    },
  };
  app.doc('/api/v1/openapi.json', documentConfig);
  app.get('/api/v1/docs', (c) =>
    c.html(renderDocs(app.getOpenAPIDocument(documentConfig) as unknown as OpenApiDocument)),
  );

  // The web pages, last: every path the APIs above do not answer.
  app.route('/', webRoutes(webServices(deps, { stats, reports }), webSettings(deps)));

  app.notFound((c) => {
    if (isMatrixPath(c.req.path))
      return c.json({ errcode: 'M_UNRECOGNIZED', error: 'Unrecognized request' }, 404);
    if (!isApiPath(c.req.path)) return renderErrorPage(c, 404);
    return c.json(
      errorEnvelope(c, 'NOT_FOUND', `no endpoint ${c.req.method} ${c.req.path}; see /api/v1/docs`),
      404,
    );
  });
  let lastOutageLog = 0;
  app.onError((error, c) => {
    let apiError: ApiError;
    if (error instanceof ApiError) {
      apiError = error;
    } else if (error instanceof HTTPException && error.status < 500) {
      apiError = new ApiError(STATUS_CODES[error.status] ?? 'BAD_REQUEST', error.message || 'bad request');
    } else if (isDatabaseUnavailable(error)) {
      // Atlas's own database is down or restarting: say when to try again; it reconnects by itself.
      if (Date.now() - lastOutageLog > OUTAGE_LOG_MS) {
        lastOutageLog = Date.now();
        deps.log.warn({ err: error }, 'the database cannot be reached; answering 503 until it is back');
      }
      apiError = new ApiError(
        'UNAVAILABLE',
        "the directory's database cannot be reached just now; try again in a few seconds",
        { 'retry-after': String(OUTAGE_RETRY_SECONDS) },
      );
    } else {
      deps.log.error({ err: error, requestId: c.get('requestId'), path: c.req.path }, 'request failed');
      apiError = new ApiError('INTERNAL', 'internal error; the request id is in the log');
    }
    for (const [name, value] of Object.entries(apiError.headers)) c.header(name, value);
    const status = apiError.status as ContentfulStatusCode;
    if (!isApiPath(c.req.path)) return pageError(c, apiError);
    if (isMatrixPath(c.req.path)) return c.json(matrixBody(apiError), status);
    return c.json(errorEnvelope(c, apiError.code, apiError.message), status);
  });
  return app;
}

/** An error on a page: an HTML page that says what happened, with the right status. */
function pageError(c: Context<AppEnv>, error: ApiError): Response {
  if (error.status === 404 || error.status >= 500) {
    return renderErrorPage(c, error.status === 404 ? 404 : error.status === 503 ? 503 : 500);
  }
  return renderErrorPage(c, error.status === 429 ? 429 : 400, error.message);
}
