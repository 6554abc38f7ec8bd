// The element-config service: keeps Element's config.json filled with Atlas's server list.
// Every REFRESH_INTERVAL_SECONDS it reads Atlas's feed and rewrites ELEMENT_CONFIG_OUT from
// ELEMENT_CONFIG_BASE (rendered by setup.sh) when the list changed. The file is rewritten in
// place, because Element's container mounts that one file and would not see a renamed one. When
// Atlas does not answer, the last list stays.
//   node --import tsx deploy/element/refresh-config.ts [--once]
import { open, readFile } from 'node:fs/promises';
import { z } from 'zod';
import { FeedError, parseFeed, withDirectoryServers } from './merge-config.ts';

const env = z
  .object({
    ATLAS_FEED_URL: z.url({ protocol: /^https?$/ }),
    ELEMENT_CONFIG_BASE: z.string().min(1),
    ELEMENT_CONFIG_OUT: z.string().min(1),
    ELEMENT_OWN_SERVER: z.string().min(1),
    ELEMENT_DIRECTORY_LIMIT: z.coerce.number().int().min(1).max(200).default(20),
    REFRESH_INTERVAL_SECONDS: z.coerce.number().int().min(10).default(3600),
  })
  .safeParse(process.env);
if (!env.success) {
  process.stderr.write(`element-config: bad settings: ${env.error.message}\n`);
  process.exit(78);
}
const settings = env.data;
const once = process.argv.includes('--once');
const MAX_BODY = 1024 * 1024;

function log(level: 'info' | 'warn', msg: string, extra: Record<string, unknown> = {}): void {
  process.stdout.write(`${JSON.stringify({ level, time: new Date().toISOString(), msg, ...extra })}\n`);
}

async function fetchFeed(): Promise<string[]> {
  const response = await fetch(settings.ATLAS_FEED_URL, { signal: AbortSignal.timeout(10_000) });
  if (!response.ok) throw new FeedError(`Atlas answered ${response.status}`);
  const text = await response.text();
  if (text.length > MAX_BODY) throw new FeedError('the feed is larger than 1 MiB');
  return parseFeed(JSON.parse(text) as unknown);
}

/** Rewrites the file in place (same inode) when its content differs. */
async function writeInPlace(file: string, content: string): Promise<boolean> {
  let current: string | undefined;
  try {
    current = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  if (current === content) return false;
  const handle = await open(file, current === undefined ? 'w' : 'r+');
  try {
    await handle.truncate(0);
    await handle.write(content, 0, 'utf8');
  } finally {
    await handle.close();
  }
  return true;
}

async function refresh(): Promise<boolean> {
  const base = JSON.parse(await readFile(settings.ELEMENT_CONFIG_BASE, 'utf8')) as unknown;
  let feed: string[];
  try {
    feed = await fetchFeed();
  } catch (error) {
    log('warn', 'Atlas feed unavailable; keeping the current list', { err: String(error) });
    return false;
  }
  const config = withDirectoryServers(
    base,
    settings.ELEMENT_OWN_SERVER,
    feed,
    settings.ELEMENT_DIRECTORY_LIMIT,
  );
  const changed = await writeInPlace(settings.ELEMENT_CONFIG_OUT, `${JSON.stringify(config, null, 2)}\n`);
  const servers = (config.room_directory as { servers: string[] }).servers;
  log('info', changed ? 'Element config updated' : 'Element config unchanged', { servers: servers.length });
  return true;
}

if (once) {
  process.exit((await refresh()) ? 0 : 1);
}
let stopping = false;
for (const signal of ['SIGTERM', 'SIGINT'] as const) process.once(signal, () => (stopping = true));
while (!stopping) {
  await refresh().catch((error: unknown) => log('warn', 'refresh failed', { err: String(error) }));
  for (let waited = 0; waited < settings.REFRESH_INTERVAL_SECONDS && !stopping; waited++) {
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}
