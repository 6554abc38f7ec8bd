import type { Queryable } from '../client.ts';
import { blockMatcher, listBlockPatterns } from './blocks.ts';

/**
 * Whether `mxcUri` is the avatar of a room the directory shows (not hidden) and its server is not
 * blocked: the media Atlas may fetch. Asked once per avatar before its first fetch, so the avatar
 * route proxies nothing else.
 */
export async function isShownAvatar(sql: Queryable, mxcUri: string, serverName: string): Promise<boolean> {
  const [row] = await sql<{ shown: boolean }[]>`
    select exists(select 1 from rooms where avatar_url = ${mxcUri} and not hidden) as shown`;
  if (!row?.shown) return false;
  return !blockMatcher(await listBlockPatterns(sql))(serverName);
}
