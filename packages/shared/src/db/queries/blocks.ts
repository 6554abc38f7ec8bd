import type { Sql } from 'postgres';

/**
 * Operator blocks (`blocks.pattern`): a server name, or a glob where `*` stands for any run of
 * characters. Matching is case-insensitive, as server names are.
 */
export type BlockMatcher = (serverName: string) => boolean;

export function globToRegExp(pattern: string): RegExp {
  const escaped = pattern
    .toLowerCase()
    .split('*')
    .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*');
  return new RegExp(`^${escaped}$`);
}

export function blockMatcher(patterns: readonly string[]): BlockMatcher {
  if (patterns.length === 0) return () => false;
  const exact = new Set<string>();
  const globs: RegExp[] = [];
  for (const pattern of patterns) {
    if (pattern.includes('*')) globs.push(globToRegExp(pattern));
    else exact.add(pattern.toLowerCase());
  }
  return (serverName) => {
    const name = serverName.toLowerCase();
    return exact.has(name) || globs.some((glob) => glob.test(name));
  };
}

export async function listBlockPatterns(sql: Sql): Promise<string[]> {
  const rows = await sql<{ pattern: string }[]>`select pattern from blocks`;
  return rows.map((row) => row.pattern);
}

/**
 * SQL condition: true when `column` matches a block. The glob becomes a LIKE pattern with LIKE's
 * own wildcards escaped first.
 */
export function blockedCondition(sql: Sql, column: string) {
  return sql`exists (
    select 1 from blocks b
    where lower(${sql(column)}) like replace(replace(replace(replace(lower(b.pattern), '\\', '\\\\'), '%', '\\%'), '_', '\\_'), '*', '%')
  )`;
}
