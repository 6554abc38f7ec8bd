import { OpenAPIHono, type RouteConfig, z } from '@hono/zod-openapi';
import type { Context, MiddlewareHandler } from 'hono';
import type { AppEnv } from './env.ts';
import { ApiError } from './errors.ts';

/** Validation errors, one line per bad parameter, naming the parameter. */
export function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 10)
    .map((issue) => `${issue.path.length > 0 ? issue.path.join('.') : 'request'}: ${issue.message}`)
    .join('; ');
}

function invalidInput(target: string, error: z.ZodError): ApiError {
  return new ApiError('BAD_REQUEST', `invalid ${target}: ${describeIssues(error)}`);
}

/**
 * A router whose validation failures become the API's one 400 envelope. Every resource router is
 * made here, so the hook cannot be forgotten.
 */
export function createRouter(): OpenAPIHono<AppEnv> {
  return new OpenAPIHono<AppEnv>({
    defaultHook: (result) => {
      if (!result.success) throw invalidInput(result.target, result.error);
    },
  });
}

export const ErrorSchema = z
  .object({
    error: z.object({
      code: z.string().openapi({ example: 'BAD_REQUEST' }),
      message: z.string(),
      requestId: z.string(),
    }),
  })
  .openapi('Error');

export function errorResponses(...statuses: (400 | 401 | 403 | 404 | 409 | 413 | 429 | 503)[]) {
  const descriptions: Record<number, string> = {
    400: 'A parameter is invalid; the message names it',
    401: 'Missing or wrong admin token',
    403: 'Forbidden',
    404: 'Not found',
    409: 'Conflicts with the current state',
    413: 'Body too large',
    429: 'Rate limited; see Retry-After',
    503: 'Not available in this process',
  };
  return Object.fromEntries(
    statuses.map((status) => [
      status,
      {
        description: descriptions[status] ?? 'Error',
        content: { 'application/json': { schema: ErrorSchema } },
      },
    ]),
  ) as Record<
    number,
    { description: string; content: { 'application/json': { schema: typeof ErrorSchema } } }
  >;
}

/** A list given as `a,b` or as repeated parameters. */
export function listParam(item: z.ZodType<string>, max = 20) {
  return z
    .union([z.string(), z.array(z.string())])
    .optional()
    .transform((value, ctx) => {
      if (value === undefined) return undefined;
      const items = (Array.isArray(value) ? value : [value])
        .flatMap((part) => part.split(','))
        .map((part) => part.trim())
        .filter((part) => part.length > 0);
      if (items.length > max) {
        ctx.addIssue({ code: 'custom', message: `at most ${max} values` });
        return z.NEVER;
      }
      const out: string[] = [];
      for (const entry of items) {
        const parsed = item.safeParse(entry);
        if (!parsed.success) {
          ctx.addIssue({ code: 'custom', message: `"${entry.slice(0, 40)}" is not valid` });
          return z.NEVER;
        }
        out.push(parsed.data);
      }
      return out.length > 0 ? out : undefined;
    })
    .openapi({ type: 'string', description: 'Comma-separated, or the parameter repeated' });
}

export const boolParam = z
  .enum(['true', 'false', '1', '0'])
  .optional()
  .transform((value) => (value === undefined ? undefined : value === 'true' || value === '1'));

/** A whole number given as text; rejects "", "1e3", "0x10" and the like. */
export function intParam(min: number, max: number) {
  return z
    .string()
    .regex(/^\d{1,10}$/, 'must be a whole number')
    .transform(Number)
    .pipe(z.number().int().min(min).max(max))
    .optional();
}

export function numberParam(min: number, max: number) {
  return z
    .string()
    .regex(/^\d{1,6}(\.\d{1,6})?$/, 'must be a number such as 1.5')
    .transform(Number)
    .pipe(z.number().min(min).max(max))
    .optional();
}

export const cursorParam = z
  .string()
  .max(2048)
  .optional()
  .openapi({ description: 'next_cursor of the previous page' });

/** Query strings longer than this are validated each time, so that remembering them stays small. */
const REMEMBERED_QUERY_CHARS = 512;
const REMEMBERED_QUERIES = 2_000;

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}

/**
 * Validates a query the way the router's validators do, but once per distinct query string: the
 * directory's hot reads (searches, Element's feed) repeat the same few queries, and validating
 * them each time kept every request's intermediate objects alive past the young generation's
 * collections, whose pauses then set the latency tail. Remembered results are frozen, shared by
 * every request that sends the same string.
 */
export function rememberedQuery<S extends z.ZodType>(schema: S): (c: Context) => z.output<S> {
  const remembered = new Map<string, z.output<S>>();
  return (c) => {
    const url = c.req.url;
    const mark = url.indexOf('?');
    const raw = mark < 0 ? '' : url.slice(mark + 1);
    const known = remembered.get(raw);
    if (known !== undefined) return known;
    const input = Object.fromEntries(
      Object.entries(c.req.queries()).map(([key, values]) => [key, values.length === 1 ? values[0] : values]),
    );
    const result = schema.safeParse(input);
    if (!result.success) throw invalidInput('query', result.error);
    if (raw.length <= REMEMBERED_QUERY_CHARS) {
      if (remembered.size >= REMEMBERED_QUERIES) remembered.clear();
      remembered.set(raw, deepFreeze(result.data));
    }
    return result.data;
  };
}

type QueryRoute = RouteConfig & { method: 'get'; request: { query: z.ZodType } };

/**
 * Adds a GET route documented like `router.openapi(route, ...)` whose handler gets the query from
 * `rememberedQuery`. Only for routes whose request is a query alone.
 */
export function openapiGetWithQuery<R extends QueryRoute>(
  router: OpenAPIHono<AppEnv>,
  route: R,
  handler: (c: Context<AppEnv>, query: z.output<R['request']['query']>) => Promise<Response> | Response,
): OpenAPIHono<AppEnv> {
  const { middleware, ...documented } = route;
  router.openAPIRegistry.registerPath(documented);
  const query = rememberedQuery<R['request']['query']>(route.request.query);
  const before: MiddlewareHandler<AppEnv>[] =
    middleware === undefined ? [] : Array.isArray(middleware) ? [...middleware] : [middleware];
  router.on(['GET'], [route.path], ...before, (c) => handler(c, query(c)));
  return router;
}
