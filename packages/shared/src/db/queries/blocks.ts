import type { Fragment, Sql } from 'postgres';
import type { Queryable } from '../client.ts';
import type { PgTimestamp } from '../timestamps.ts';
import { touchRoomsListedBy } from './room-detail.ts';
import { textArray } from './sql-arrays.ts';

/**
 * Operator blocks (`blocks.pattern`): a server name, or a glob where `*` stands for any run of
 * characters (`*.example.org`, `spam-*.net`). Matching is case-insensitive, as server names are.
 *
 * One rule, one conversion: `blockPatternSource` turns a pattern into a regular expression that
 * JavaScript and PostgreSQL read the same way (anchored, `.*` for `*`, every other character
 * literal), so the crawler's in-memory matcher and the SQL conditions cannot disagree.
 */

/** What a pattern may contain: the characters of server names, and `*`. */
const PATTERN = /^[a-z0-9.*:[\]-]{1,255}$/;

export class BlockPatternError extends Error {
  override name = 'BlockPatternError';
}

/**
 * A block pattern as stored: trimmed and lower-cased. Throws when it is not a server name or glob,
 * or would match everything (`*`, `*.*`).
 */
export function normalizeBlockPattern(raw: string): string {
  const pattern = raw.trim().toLowerCase();
  if (!PATTERN.test(pattern) || pattern.replace(/[*.]/g, '') === '') {
    throw new BlockPatternError(
      'a block pattern is a server name or a glob such as *.example.org (letters, digits, . - : [ ] and *)',
    );
  }
  return pattern;
}

/** The regular expression (its source) a pattern stands for, read alike by JavaScript and PostgreSQL. */
export function blockPatternSource(pattern: string): string {
  const escaped = pattern
    .toLowerCase()
    .split('*')
    .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*');
  return `^${escaped}$`;
}

export type BlockMatcher = (serverName: string) => boolean;

export function blockMatcher(patterns: readonly string[]): BlockMatcher {
  if (patterns.length === 0) return () => false;
  const expressions = patterns.map((pattern) => new RegExp(blockPatternSource(pattern)));
  return (serverName) => {
    const name = serverName.toLowerCase();
    return expressions.some((expression) => expression.test(name));
  };
}

/** The first of `patterns` that blocks `serverName`, if any. */
export function blockingPattern(patterns: readonly string[], serverName: string): string | undefined {
  return patterns.find((pattern) => blockMatcher([pattern])(serverName));
}

/** SQL condition: the server name `column` matches one of `patterns`. */
export function matchesBlockPatterns(
  sql: Queryable,
  column: Fragment,
  patterns: readonly string[],
): Fragment {
  if (patterns.length === 0) return sql`false`;
  return sql`lower(${column}) ~ any(${textArray(patterns.map(blockPatternSource))}::text[])`;
}

export async function listBlockPatterns(sql: Queryable): Promise<string[]> {
  const rows = await sql<{ pattern: string }[]>`select pattern from blocks order by id`;
  return rows.map((row) => row.pattern);
}

export interface BlockRow {
  id: string | number;
  pattern: string;
  reason: string | null;
  created_at: PgTimestamp;
}

export async function listBlocks(sql: Queryable): Promise<BlockRow[]> {
  return sql<BlockRow[]>`select id, pattern, reason, created_at from blocks order by id`;
}

/**
 * Adds a block (a pattern already normalised): the servers it matches turn `blocked` (never
 * contacted, never listed) and the rooms they list are marked changed, so the index queue drops
 * rooms no other server lists, in one transaction. Returns undefined when the pattern is blocked
 * already.
 */
export async function addBlock(
  sql: Sql,
  pattern: string,
  reason: string | null,
): Promise<{ block: BlockRow; serversBlocked: number } | undefined> {
  return sql.begin((tx) => addBlockIn(tx, pattern, reason));
}

async function addBlockIn(
  sql: Queryable,
  pattern: string,
  reason: string | null,
): Promise<{ block: BlockRow; serversBlocked: number } | undefined> {
  const [block] = await sql<BlockRow[]>`
    insert into blocks (pattern, reason) values (${pattern}, ${reason})
    on conflict (pattern) do nothing returning id, pattern, reason, created_at`;
  if (!block) return undefined;
  const blocked = await sql<{ name: string }[]>`
    update servers set status = 'blocked', version = version + 1, updated_at = now()
    where ${matchesBlockPatterns(sql, sql`name`, [pattern])} and status <> 'blocked' returning name`;
  await touchRoomsListedBy(
    sql,
    blocked.map((server) => server.name),
  );
  return { block, serversBlocked: blocked.length };
}

/**
 * Lifts a block: the servers it blocked that no other block matches are probed again from scratch,
 * and the rooms they list are marked changed, in one transaction. Returns undefined when there is no
 * such block.
 */
export async function removeBlock(sql: Sql, id: number): Promise<{ serversUnblocked: number } | undefined> {
  return sql.begin((tx) => removeBlockIn(tx, id));
}

async function removeBlockIn(sql: Queryable, id: number): Promise<{ serversUnblocked: number } | undefined> {
  const [removed] = await sql<{ pattern: string }[]>`delete from blocks where id = ${id} returning pattern`;
  if (!removed) return undefined;
  const remaining = await listBlockPatterns(sql);
  const freed = (
    await sql<{ name: string }[]>`
      update servers set status = 'new', next_probe_at = now(), version = version + 1, updated_at = now()
      where status = 'blocked'
        and ${matchesBlockPatterns(sql, sql`name`, [removed.pattern])}
        and not ${matchesBlockPatterns(sql, sql`name`, remaining)}
      returning name`
  ).map((row) => row.name);
  await touchRoomsListedBy(sql, freed);
  return { serversUnblocked: freed.length };
}
