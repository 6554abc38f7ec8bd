import { OpenAPIHono, z } from '@hono/zod-openapi';
import type { AppEnv } from './env.ts';
import { ApiError } from './errors.ts';

/** Validation errors, one line per bad parameter, naming the parameter. */
export function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 10)
    .map((issue) => `${issue.path.length > 0 ? issue.path.join('.') : 'request'}: ${issue.message}`)
    .join('; ');
}

/**
 * A router whose validation failures become the API's one 400 envelope. Every resource router is
 * made here, so the hook cannot be forgotten.
 */
export function createRouter(): OpenAPIHono<AppEnv> {
  return new OpenAPIHono<AppEnv>({
    defaultHook: (result) => {
      if (!result.success) {
        throw new ApiError('BAD_REQUEST', `invalid ${result.target}: ${describeIssues(result.error)}`);
      }
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
