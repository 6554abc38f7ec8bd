import { getServer, markServerBlocked, type ProbeRecord, recordProbe } from '@atlas/shared/db';
import { ResolutionError, type ResolvedServer } from '@atlas/shared/matrix';
import { HttpError } from '@atlas/shared/net';
import { enqueue } from '@atlas/shared/queue';
import type { CrawlerContext } from '../context.ts';
import { nextProbeDelay, type ProbeVerdict, withJitter } from '../policy/schedule.ts';
import { clientEndpoints } from '../remote/client-api.ts';
import { describeError, isBusy } from '../remote/errors.ts';
import {
  fetchClientBaseUrl,
  fetchKeys,
  fetchSupport,
  fetchVersion,
  probeRegistration,
  type RegistrationInfo,
  type SupportInfo,
} from '../remote/server-info.ts';

export type ProbeOutcome = ProbeVerdict | 'skipped';

/** Transport failures that mean the name leads nowhere usable, rather than a server that is down. */
const INVALID_CODES = new Set<HttpError['code']>(['dns_failed', 'blocked_address', 'invalid_url']);

function verdictFor(error: unknown): ProbeVerdict {
  if (error instanceof ResolutionError) return 'invalid';
  if (error instanceof HttpError && INVALID_CODES.has(error.code)) return 'invalid';
  return 'offline';
}

function formatTarget(resolved: ResolvedServer): string {
  const host = resolved.connectHost.includes(':') ? `[${resolved.connectHost}]` : resolved.connectHost;
  return `${host}:${resolved.connectPort}`;
}

/** A remote timestamp as a Date, or null when it is not a plausible one (years 2000 to 9999). */
function dateOrNull(ms: number): Date | null {
  return Number.isFinite(ms) && ms >= 946_684_800_000 && ms <= 253_402_300_799_000 ? new Date(ms) : null;
}

/**
 * A step of a probe that may fail without failing the probe. Busy is not a failure of the server
 * (ADR 0009): it ends the probe, which runs again soon, rather than record a step as missing.
 */
async function optional<T>(step: () => Promise<T>): Promise<T | null> {
  try {
    return await step();
  } catch (error) {
    if (isBusy(error)) throw error;
    return null;
  }
}

/**
 * Probes one server (docs/architecture.md, "Probing a server"): resolution, version, keys, client
 * and support well-knowns, registration, TLS expiry. Always records a `server_checks` row (unless
 * the server is blocked or Atlas is shutting down), updates the server, and queues a directory read
 * when one is due.
 */
export async function probeServer(ctx: CrawlerContext, serverName: string): Promise<ProbeOutcome> {
  const server = await getServer(ctx.database.db, serverName);
  if (!server) return 'skipped';
  if (server.status === 'blocked') return 'skipped';
  if (await ctx.blocks.isBlocked(serverName)) {
    await markServerBlocked(ctx.database.sql, serverName);
    return 'skipped';
  }
  const signal = ctx.signal;
  let resolved: ResolvedServer | undefined;
  let failure: unknown;
  let version: Awaited<ReturnType<typeof fetchVersion>> | undefined;
  try {
    resolved = await ctx.resolver.resolve(serverName);
    version = await fetchVersion(ctx.federation, serverName, signal);
    resolved = version.response.resolved;
  } catch (error) {
    // Another crawler process kept the server busy: no verdict, the probe runs again soon.
    if (isBusy(error)) throw error;
    failure = error;
  }
  if (signal.aborted) return 'skipped';

  const base: Omit<ProbeRecord, 'verdict' | 'consecutiveFailures' | 'nextProbeAt'> = {
    serverName,
    latencyMs: null,
    softwareName: null,
    softwareVersion: null,
    keyIds: null,
    keysValid: null,
    keysValidUntil: null,
    clientBaseUrl: null,
    contacts: null,
    supportPage: null,
    registration: 'unknown',
    registrationStages: null,
    certExpiresAt: null,
    resolution: resolved?.step ?? null,
    delegatedTo: resolved ? formatTarget(resolved) : null,
    error: null,
  };

  if (!version) {
    const verdict = verdictFor(failure);
    const failures = server.consecutiveFailures + 1;
    await recordProbe(ctx.database.sql, {
      ...base,
      verdict,
      error: describeError(failure),
      consecutiveFailures: failures,
      nextProbeAt: new Date(Date.now() + withJitter(nextProbeDelay(verdict, failures))),
    });
    ctx.stats.probed++;
    ctx.stats.probes[verdict]++;
    ctx.log.debug(
      { server: serverName, verdict, err: describeError(failure) },
      'probe: server did not answer',
    );
    return verdict;
  }

  const [keys, clientBaseUrl, support] = await Promise.all([
    optional(async () => ({ verified: await fetchKeys(ctx.federation, serverName, signal) })),
    optional(() => fetchClientBaseUrl(ctx.http, serverName, signal)),
    optional(() => fetchSupport(ctx.http, serverName, signal)),
  ]);
  const registration: RegistrationInfo = (await optional(() =>
    probeRegistration(ctx.http, clientEndpoints(serverName, clientBaseUrl, resolved), signal),
  )) ?? {
    registration: 'unknown',
    stages: null,
  };
  if (signal.aborted) return 'skipped';
  const contacts: SupportInfo['contacts'] | null = support?.contacts ?? null;
  const { crawlDue } = await recordProbe(ctx.database.sql, {
    ...base,
    verdict: 'online',
    latencyMs: Math.round(version.response.latencyMs),
    softwareName: version.softwareName,
    softwareVersion: version.softwareVersion,
    keyIds: keys?.verified ? [...keys.verified.keys.keys()].sort() : null,
    // null: the key request failed; false: it answered with no valid self-signed document.
    keysValid: keys ? keys.verified !== null : null,
    keysValidUntil: keys?.verified ? dateOrNull(keys.verified.validUntilTs) : null,
    clientBaseUrl,
    contacts,
    supportPage: support?.supportPage ?? null,
    registration: registration.registration,
    registrationStages: registration.stages,
    certExpiresAt: version.response.certValidTo ?? null,
    consecutiveFailures: 0,
    nextProbeAt: new Date(Date.now() + withJitter(nextProbeDelay('online', 0))),
  });
  ctx.stats.probed++;
  ctx.stats.probes.online++;
  if (crawlDue) await enqueue(ctx.queues, 'crawl', [{ serverName }]);
  return 'online';
}
