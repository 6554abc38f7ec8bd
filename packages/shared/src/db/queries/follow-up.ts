import type { Sql } from 'postgres';

/**
 * The follow-up budget (ATLAS_FOLLOW_UP_SECONDS): after each read of a server's directory, the
 * leads and complexity steps of its rooms get so much work time; what is left waits for the next
 * read. `servers.follow_up_ms` holds what was spent since the read began. Several jobs (the leads
 * and the complexity step, on several crawler processes) charge the same counter.
 */

/**
 * The share of a budget the leads step may use. Leads come first (they find servers), but a
 * directory big enough to spend the whole budget on them would never have a room measured; so
 * they stop at half, and the complexity step has the rest, for the biggest rooms first.
 */
export const LEADS_SHARE = 0.5;

export function followUpLimits(budgetMs: number): { leadsMs: number; totalMs: number } {
  return { leadsMs: Math.floor(budgetMs * LEADS_SHARE), totalMs: budgetMs };
}

/** A directory read of the server begins: a new budget. */
export async function startFollowUpCycle(sql: Sql, serverName: string): Promise<void> {
  await sql`update servers set follow_up_ms = 0 where name = ${serverName} and follow_up_ms <> 0`;
}

/** Adds `ms` of work to the server's follow-up this cycle; returns the total spent now. */
export async function chargeFollowUp(sql: Sql, serverName: string, ms: number): Promise<number> {
  const [row] = await sql<{ spent: number }[]>`
    update servers set follow_up_ms = least(follow_up_ms + ${Math.max(0, Math.round(ms))}, 2147483647)
    where name = ${serverName} returning follow_up_ms as spent`;
  return row?.spent ?? 0;
}

/**
 * Servers with rooms waiting for a follow-up step whose share of the budget (`budgetMs`) is not
 * spent: the jobs to queue, or to resume after a lost job. The rest waits for the server's next read.
 */
export async function serversWithPendingFacts(sql: Sql, budgetMs: number, limit = 10_000): Promise<string[]> {
  const { leadsMs, totalMs } = followUpLimits(budgetMs);
  const rows = await sql<{ server: string }[]>`
    select s.name as server from servers s
    where (s.follow_up_ms < ${leadsMs} and exists (
        select 1 from pending_room_facts p where p.server_name = s.name and p.leads_at is null))
      or (s.follow_up_ms < ${totalMs} and exists (
        select 1 from pending_room_facts p where p.server_name = s.name and p.leads_at is not null))
    limit ${limit}`;
  return rows.map((row) => row.server);
}
