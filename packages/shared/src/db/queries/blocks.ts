import type { Fragment } from 'postgres';
import type { Queryable } from '../client.ts';
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
