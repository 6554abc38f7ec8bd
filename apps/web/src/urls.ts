import type { QueryRecord } from './services.ts';

/** A query string's non-empty values; a GET form sends its empty fields too. */
export function present(query: QueryRecord): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(query)) {
    if (value !== undefined && value.trim() !== '') out[key] = value.trim();
  }
  return out;
}

/** `path` with `query`, keys in a stable order so equal searches share one URL. */
export function href(path: string, query: Record<string, string | undefined>): string {
  const params = new URLSearchParams();
  for (const key of Object.keys(query).sort()) {
    const value = query[key];
    if (value !== undefined && value !== '') params.set(key, value);
  }
  const search = params.toString();
  return search ? `${path}?${search}` : path;
}

/** Pages back that a link remembers; older ones fall back to the first page. */
export const MAX_BACK = 30;

/**
 * Paging links over cursors. Cursors only go forward, so a page's link remembers the cursors of
 * the pages before it (`back`, comma-separated) and "Previous" pops the last one: paging back works
 * without JavaScript and a shared URL shows the same page.
 */
export function pagerLinks(
  path: string,
  query: Record<string, string>,
  nextCursor: string | null,
): { previous: string | null; next: string | null; first: string | null; page: number | null } {
  const { cursor, back, ...rest } = query;
  const stack = back ? back.split(',').filter((c) => /^[A-Za-z0-9_-]+$/.test(c) || c === '0') : [];
  const onFirst = !cursor;
  const previousCursor = stack.length > 0 ? stack[stack.length - 1] : undefined;
  const previous = onFirst
    ? null
    : href(path, {
        ...rest,
        cursor: previousCursor === '0' ? undefined : previousCursor,
        back: stack.slice(0, -1).join(',') || undefined,
      });
  const nextStack = [...stack, cursor ?? '0'].slice(-MAX_BACK);
  const next = nextCursor ? href(path, { ...rest, cursor: nextCursor, back: nextStack.join(',') }) : null;
  // "First page" only where "Previous" does not already lead there.
  const previousIsFirst = stack.length === 0 || (stack.length === 1 && stack[0] === '0');
  return {
    previous,
    next,
    first: onFirst || previousIsFirst ? null : href(path, rest),
    // The page number is known while the stack reaches back to the first page.
    page: onFirst ? 1 : stack[0] === '0' ? stack.length + 1 : null,
  };
}
