import { getServerStatuses } from '@atlas/shared/db';
import type { CrawlerContext } from '../context.ts';
import { type ClientEndpoint, clientEndpoints } from '../remote/client-api.ts';
import { isBusy } from '../remote/errors.ts';

interface KnownServer {
  status: string;
  clientBaseUrl: string | null;
}

/**
 * What one job knows about the servers it talks to: their stored status, and which failed during
 * this job. A server that is known to be down, or stopped answering a moment ago, is not asked
 * again, so one dead server costs a batch one timeout, not one per room.
 */
export class ServerGate {
  readonly failed = new Set<string>();
  /** Names whose status was read (known or not), so the next batch does not read them again. */
  readonly asked = new Set<string>();
  constructor(
    private readonly ctx: CrawlerContext,
    readonly known: Map<string, KnownServer>,
  ) {}

  /**
   * Reads the servers' stored status. A gate from the previous batch of the same job passes on what
   * failed and the statuses it read (a job lasts a few hundred rooms), so only new names are read.
   */
  static async load(
    ctx: CrawlerContext,
    names: Iterable<string>,
    previous?: ServerGate,
  ): Promise<ServerGate> {
    const known = new Map(previous?.known);
    const unread = [...new Set(names)].filter((name) => !previous?.asked.has(name));
    const rows = unread.length > 0 ? await getServerStatuses(ctx.database.sql, unread) : [];
    for (const row of rows) {
      known.set(row.name, row);
      ctx.knownServers.add(row.name);
    }
    const gate = new ServerGate(ctx, known);
    for (const name of previous?.asked ?? []) gate.asked.add(name);
    for (const name of unread) gate.asked.add(name);
    for (const name of previous?.failed ?? []) gate.failed.add(name);
    return gate;
  }

  async usable(name: string): Promise<boolean> {
    if (this.failed.has(name) || name === this.ctx.ownServerName) return false;
    const status = this.known.get(name)?.status;
    if (status === 'offline' || status === 'invalid' || status === 'blocked') return false;
    return !(await this.ctx.blocks.isBlocked(name));
  }

  async endpoints(name: string): Promise<ClientEndpoint[]> {
    const resolved = await this.ctx.resolver.resolve(name).catch(() => undefined);
    return clientEndpoints(name, this.known.get(name)?.clientBaseUrl ?? null, resolved);
  }

  /**
   * Runs a request to `name`; a transport failure marks the server as failed for this job. Busy
   * (another crawler process kept the server busy, ADR 0009) is no failure of the server: it ends
   * the job, which runs again soon with the rooms it has not done.
   */
  async ask<T>(name: string, request: () => Promise<T>): Promise<T | null> {
    if (!(await this.usable(name))) return null;
    try {
      return await request();
    } catch (error) {
      if (isBusy(error)) throw error;
      this.failed.add(name);
      return null;
    }
  }
}
