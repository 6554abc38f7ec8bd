import { createHash } from 'node:crypto';
import { z } from 'zod';
import { InvalidCursorError, type SearchQuery } from './types.ts';

/**
 * A fingerprint of what a cursor was made for, so that a cursor replayed with another query or
 * sort is refused instead of silently skipping or repeating rooms.
 */
export function queryFingerprint(query: Omit<SearchQuery, 'cursor' | 'limit'>): string {
  const canonical = JSON.stringify([query.q?.trim() ?? '', query.sort ?? '', sortedFilters(query.filters)]);
  return createHash('sha256').update(canonical).digest('base64url').slice(0, 12);
}

function sortedFilters(filters: SearchQuery['filters']): unknown {
  if (!filters) return {};
  return Object.fromEntries(
    Object.entries(filters)
      .filter(([, value]) => value !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : 1)),
  );
}

const cursorSchema = z.object({
  f: z.string().max(32),
  /** Sort key values of the last row of the previous page, then its room id. */
  k: z.array(z.union([z.number(), z.string(), z.boolean(), z.null()])).max(8),
});
export type CursorKeys = z.infer<typeof cursorSchema>['k'];

export function encodeCursor(fingerprint: string, keys: CursorKeys): string {
  return Buffer.from(JSON.stringify({ f: fingerprint, k: keys }), 'utf8').toString('base64url');
}

/** Throws InvalidCursorError unless the cursor is well formed and made for this fingerprint. */
export function decodeCursor(cursor: string, fingerprint: string): CursorKeys {
  if (cursor.length > 2048 || !/^[A-Za-z0-9_-]+$/.test(cursor)) {
    throw new InvalidCursorError('the cursor is not one this directory issued');
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw new InvalidCursorError('the cursor is not one this directory issued');
  }
  const result = cursorSchema.safeParse(parsed);
  if (!result.success) throw new InvalidCursorError('the cursor is not one this directory issued');
  if (result.data.f !== fingerprint) {
    throw new InvalidCursorError('the cursor belongs to another query; start again without it');
  }
  return result.data.k;
}
