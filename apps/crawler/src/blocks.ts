import { type BlockMatcher, blockMatcher, listBlockPatterns } from '@atlas/shared/db';
import type { Sql } from 'postgres';

/** How long the block list is reused before it is read again. */
const REFRESH_MS = 30_000;

/** The operator's block list, read from the database at most every 30 s. */
export interface BlockCache {
  isBlocked(serverName: string): Promise<boolean>;
  matcher(): Promise<BlockMatcher>;
}

export function createBlockCache(sql: Sql, now: () => number = Date.now): BlockCache {
  let cached: { matcher: BlockMatcher; at: number } | undefined;
  let loading: Promise<BlockMatcher> | undefined;
  async function matcher(): Promise<BlockMatcher> {
    if (cached && now() - cached.at < REFRESH_MS) return cached.matcher;
    loading ??= listBlockPatterns(sql)
      .then((patterns) => {
        const m = blockMatcher(patterns);
        cached = { matcher: m, at: now() };
        return m;
      })
      .finally(() => {
        loading = undefined;
      });
    return loading;
  }
  return {
    matcher,
    async isBlocked(serverName) {
      return (await matcher())(serverName);
    },
  };
}
