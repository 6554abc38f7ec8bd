import { eq } from 'drizzle-orm';
import type { Sql, TransactionSql } from 'postgres';
import { parseServerName } from '../../matrix/server-name.ts';
import type { Db } from '../client.ts';
import { type ReviewSignal, type Server, servers } from '../schema/servers.ts';
import { type BlockMatcher, listBlockPatterns, matchesBlockPatterns } from './blocks.ts';
import { textArray } from './sql-arrays.ts';

/**
 * drizzle's postgres.js driver turns off postgres.js's date and JSON conversion on the shared
 * client, so timestamps go in as ISO strings and come back as strings, and JSON goes in as text.
 */
export function iso(date: Date | null): string | null {
  return date === null ? null : date.toISOString();
}

/**
 * Write-side queries on `servers` and `server_checks`. They use postgres.js directly: the
 * crawler's writes are batched upserts whose SQL (unnest, ON CONFLICT with conditions) drizzle
 * would only obscure.
 */

/** How a server name reached Atlas (`servers.found_via`). */
export const FOUND_VIA = [
  'seed',
  'alias',
  'room_id',
  'query_directory',
  'hierarchy',
  'inbound',
  'submission',
  'admin',
  'via_server',
] as const;
export type FoundVia = (typeof FOUND_VIA)[number];

export interface DiscoveredServer {
  name: string;
  via: FoundVia;
  from?: string | undefined;
  /** Known but never to be contacted (an operator block matches it). */
  blocked?: boolean;
}

/** A server name Atlas just heard of, how, and from what (a room id or alias). */
export interface ServerCandidate {
  name: string;
  via: FoundVia;
  from?: string | undefined;
}

/** Longest `found_from` kept (a room id or alias; longer ones are cut). */
const MAX_FOUND_FROM = 512;

/**
 * Records server names Atlas heard of, however it heard (seeds, directory pages, the leads of
 * rooms): what is not a server name is dropped, Atlas's own name and names `skip` says are known
 * are left out, and a name an operator block matches is recorded as blocked, never to be contacted.
 * Returns the names recorded (valid, whether new or not) and those that were new and may be
 * contacted (a new server is due for a probe at once).
 */
export async function recordServerNames(
  sql: Sql,
  candidates: readonly ServerCandidate[],
  options: { isBlocked: BlockMatcher; ownServerName?: string | undefined; skip?: (name: string) => boolean },
): Promise<{ recorded: string[]; added: string[] }> {
  const valid: DiscoveredServer[] = [];
  for (const candidate of candidates) {
    const name = parseServerName(candidate.name)?.name;
    if (!name || name === options.ownServerName || options.skip?.(name)) continue;
    const from = candidate.from?.slice(0, MAX_FOUND_FROM);
    valid.push({ name, via: candidate.via, from, blocked: options.isBlocked(name) });
  }
  const added = await insertDiscoveredServers(sql, valid);
  return { recorded: valid.map((server) => server.name), added };
}

/**
 * Inserts servers not known yet and returns the names that were new and are not blocked. A server
 * keeps how it was *first* found. Takes names already checked (`recordServerNames` checks them).
 */
export async function insertDiscoveredServers(
  sql: Sql,
  servers: readonly DiscoveredServer[],
): Promise<string[]> {
  if (servers.length === 0) return [];
  const unique = new Map<string, DiscoveredServer>();
  for (const server of servers) if (!unique.has(server.name)) unique.set(server.name, server);
  const list = [...unique.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const rows = await sql<{ name: string; status: string }[]>`
    insert into servers (name, found_via, found_from, status, next_probe_at)
    select t.name, t.via, t.found_from, case when t.blocked then 'blocked' else 'new' end, now()
    from unnest(
      ${textArray(list.map((s) => s.name))}::text[],
      ${textArray(list.map((s) => s.via))}::text[],
      ${textArray(list.map((s) => s.from ?? null))}::text[],
      ${textArray(list.map((s) => s.blocked === true))}::bool[]
    ) as t(name, via, found_from, blocked)
    on conflict (name) do nothing
    returning name, status`;
  return rows.filter((row) => row.status !== 'blocked').map((row) => row.name);
}

export async function getServer(db: Db, name: string): Promise<Server | undefined> {
  const rows = await db.select().from(servers).where(eq(servers.name, name));
  return rows[0];
}

export interface Contact {
  matrixId?: string;
  email?: string;
  role: string;
}

/** What one probe found. Fields a failed probe could not learn are null. */
export interface ProbeRecord {
  serverName: string;
  verdict: 'online' | 'offline' | 'invalid';
  latencyMs: number | null;
  softwareName: string | null;
  softwareVersion: string | null;
  keyIds: string[] | null;
  keysValid: boolean | null;
  keysValidUntil: Date | null;
  clientBaseUrl: string | null;
  contacts: Contact[] | null;
  supportPage: string | null;
  registration: 'open' | 'closed' | 'unknown';
  registrationStages: string[] | null;
  certExpiresAt: Date | null;
  resolution: string | null;
  delegatedTo: string | null;
  error: string | null;
  /** Failures in a row after this probe (0 when it answered). */
  consecutiveFailures: number;
  nextProbeAt: Date;
}

/**
 * Records one probe: a `server_checks` row, always, and the server's latest state. A server that
 * stops answering keeps what it last said about itself (software, registration, contacts), so
 * the directory still shows it while its backoff grows. Returns whether the server is due for a
 * directory read.
 */
export async function recordProbe(sql: Sql, probe: ProbeRecord): Promise<{ crawlDue: boolean }> {
  const online = probe.verdict === 'online';
  // JSON goes as text cast to jsonb in SQL, for the same reason as textArray (see sql-arrays.ts).
  const json = (value: unknown) => (value === null ? null : JSON.stringify(value));
  return sql.begin(async (tx) => {
    await tx`
      insert into server_checks (
        server_name, reachable, latency_ms, software_name, software_version, key_ids, keys_valid,
        keys_valid_until, client_base_url, contacts, support_page, registration, registration_stages,
        cert_expires_at, resolution, delegated_to, error
      ) values (
        ${probe.serverName}, ${online}, ${probe.latencyMs}, ${probe.softwareName}, ${probe.softwareVersion},
        ${json(probe.keyIds)}::jsonb, ${probe.keysValid}, ${iso(probe.keysValidUntil)}::timestamptz, ${probe.clientBaseUrl},
        ${json(probe.contacts)}::jsonb, ${probe.supportPage}, ${probe.registration}, ${json(probe.registrationStages)}::jsonb,
        ${iso(probe.certExpiresAt)}::timestamptz, ${probe.resolution}, ${probe.delegatedTo}, ${probe.error}
      )`;
    const rows = online
      ? await tx<{ crawlDue: boolean }[]>`
          update servers s set
            version = s.version + case when s.status is distinct from 'online'
              or s.software_name is distinct from ${probe.softwareName}
              or s.software_version is distinct from ${probe.softwareVersion}
              or s.registration is distinct from ${probe.registration}
              or s.client_base_url is distinct from ${probe.clientBaseUrl}
              or s.contacts is distinct from ${json(probe.contacts)}::jsonb
              or s.support_page is distinct from ${probe.supportPage} then 1 else 0 end,
            status = 'online',
            software_name = ${probe.softwareName},
            software_version = ${probe.softwareVersion},
            registration = ${probe.registration},
            registration_stages = ${json(probe.registrationStages)}::jsonb,
            client_base_url = ${probe.clientBaseUrl},
            contacts = ${json(probe.contacts)}::jsonb,
            support_page = ${probe.supportPage},
            delegated_to = ${probe.delegatedTo},
            resolution = ${probe.resolution},
            latency_ms = ${probe.latencyMs},
            cert_expires_at = ${iso(probe.certExpiresAt)}::timestamptz,
            last_probe_at = now(),
            last_seen_online_at = now(),
            last_error = null,
            consecutive_failures = 0,
            next_probe_at = ${iso(probe.nextProbeAt)}::timestamptz,
            next_crawl_at = coalesce(s.next_crawl_at, now()),
            uptime_30d = (${uptimeSql(tx, probe.serverName)}),
            updated_at = now()
          where s.name = ${probe.serverName} and s.status <> 'blocked'
          returning s.next_crawl_at <= now() as "crawlDue"`
      : await tx<{ crawlDue: boolean }[]>`
          update servers s set
            version = s.version + case when s.status is distinct from ${probe.verdict} then 1 else 0 end,
            status = ${probe.verdict},
            resolution = coalesce(${probe.resolution}, s.resolution),
            delegated_to = coalesce(${probe.delegatedTo}, s.delegated_to),
            last_probe_at = now(),
            last_error = ${probe.error},
            consecutive_failures = ${probe.consecutiveFailures},
            next_probe_at = ${iso(probe.nextProbeAt)}::timestamptz,
            uptime_30d = (${uptimeSql(tx, probe.serverName)}),
            updated_at = now()
          where s.name = ${probe.serverName} and s.status <> 'blocked'
          returning false as "crawlDue"`;
    return { crawlDue: rows[0]?.crawlDue === true };
  });
}

function uptimeSql(sql: TransactionSql, serverName: string) {
  return sql`select avg(case when c.reachable then 1.0 else 0.0 end)::real from server_checks c
    where c.server_name = ${serverName} and c.checked_at > now() - interval '30 days'`;
}

/** Marks a server blocked (an operator block matched it); it is never contacted again. */
export async function markServerBlocked(sql: Sql, name: string): Promise<void> {
  await sql`update servers set status = 'blocked', version = version + 1, updated_at = now()
    where name = ${name} and status <> 'blocked'`;
}

export interface CrawlResultRecord {
  serverName: string;
  outcome: 'complete' | 'partial' | 'forbidden' | 'no_access' | 'failed';
  mode: 'federation' | 'client' | 'via';
  /**
   * Whether it publishes its directory over federation: false after a 403 there, true after a read
   * over federation; null when this read did not tell (the last known value is kept).
   */
  publishes: boolean | null;
  /** Rooms the server lists now (active listings), after a complete or partial read. */
  roomCount: number | null;
  consecutiveCrawlFailures: number;
  nextCrawlAt: Date;
  error: string | null;
  /**
   * true: the read stopped at the server's room cap; false: it read the whole directory below it;
   * null: it did not tell (the flag stays as it was).
   */
  roomCapReached: boolean | null;
  /** Spam signals of this read (empty: none); undefined when the read did not tell. */
  reviewSignals?: ReviewSignal[] | undefined;
}

export async function recordCrawlResult(sql: Sql, result: CrawlResultRecord): Promise<void> {
  const signals =
    result.reviewSignals === undefined
      ? undefined
      : result.reviewSignals.length > 0
        ? JSON.stringify(result.reviewSignals)
        : null;
  await sql`
    update servers s set
      version = s.version + case when s.publishes is distinct from coalesce(${result.publishes}, s.publishes)
        or s.room_count is distinct from coalesce(${result.roomCount}, s.room_count)
        or s.crawl_mode is distinct from ${result.mode}
        or (s.room_cap_reached_at is not null) is distinct from coalesce(${result.roomCapReached}, s.room_cap_reached_at is not null)
        then 1 else 0 end,
      publishes = coalesce(${result.publishes}, s.publishes),
      room_cap_reached_at = case when ${result.roomCapReached}::boolean is null then s.room_cap_reached_at
        when ${result.roomCapReached}::boolean then now() else null end,
      ${
        signals === undefined
          ? sql``
          : sql`review_signals = ${signals}::jsonb,
      review_flagged_at = case when ${signals}::text is null then null else coalesce(s.review_flagged_at, now()) end,`
      }
      room_count = coalesce(${result.roomCount}, s.room_count),
      crawl_mode = ${result.mode},
      last_crawl_at = now(),
      last_crawl_outcome = ${result.outcome},
      last_error = case when ${result.error}::text is null then s.last_error else ${result.error} end,
      consecutive_crawl_failures = ${result.consecutiveCrawlFailures},
      next_crawl_at = ${iso(result.nextCrawlAt)}::timestamptz,
      updated_at = now()
    where s.name = ${result.serverName}`;
}

/**
 * Claims up to `limit` servers due for a probe (or a directory read) and pushes their due time
 * forward by `leaseMs`, so that the next sweep does not enqueue them again while their job waits.
 * The job sets the real next time when it runs; if the job is lost, the lease runs out and a later
 * sweep picks the server up again. SKIP LOCKED lets several crawler processes sweep at once.
 */
export async function claimDueServers(
  sql: Sql,
  kind: 'probe' | 'crawl',
  limit: number,
  leaseMs: number,
): Promise<string[]> {
  // Names inserted since a block was added, before the crawler's cached block list caught up.
  const blocked = matchesBlockPatterns(sql, sql`s.name`, await listBlockPatterns(sql));
  const rows =
    kind === 'probe'
      ? await sql<{ name: string }[]>`
          update servers s set next_probe_at = now() + ${leaseMs} * interval '1 millisecond'
          where s.name in (
            select name from servers
            where next_probe_at <= now() and status <> 'blocked'
            order by next_probe_at
            limit ${limit}
            for update skip locked
          ) and not ${blocked}
          returning s.name`
      : await sql<{ name: string }[]>`
          update servers s set next_crawl_at = now() + ${leaseMs} * interval '1 millisecond'
          where s.name in (
            select name from servers
            where next_crawl_at <= now() and status = 'online'
            order by next_crawl_at
            limit ${limit}
            for update skip locked
          ) and not ${blocked}
          returning s.name`;
  return rows.map((row) => row.name);
}

/**
 * Makes every server that is not blocked due for a probe now, and every online one for a directory
 * read: `atlas crawl --once` re-reads everything it knows, whatever the schedule says.
 */
export async function makeAllServersDue(sql: Sql): Promise<void> {
  await sql`update servers set next_probe_at = now(), next_crawl_at = case when status = 'online' then now() else next_crawl_at end
    where status <> 'blocked'`;
}

export interface ServerStatus {
  name: string;
  status: string;
  clientBaseUrl: string | null;
}

/** Status and client API base URL of the named servers that are known. */
export async function getServerStatuses(sql: Sql, names: readonly string[]): Promise<ServerStatus[]> {
  if (names.length === 0) return [];
  return sql<ServerStatus[]>`
    select name, status, client_base_url as "clientBaseUrl" from servers
    where name = any(${textArray([...new Set(names)])}::text[])`;
}
