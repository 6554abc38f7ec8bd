import type { Sql } from 'postgres';
import { MEMBER_TIERS, memberTierCondition } from '../db/schema/room-search.ts';

/** Rooms in the index per popularity tier (same order as MEMBER_TIERS). */
export type TierSizes = number[];

export async function loadTierSizes(sql: Sql): Promise<TierSizes> {
  const columns = MEMBER_TIERS.map((_, i) => `count(*) filter (where ${memberTierCondition(i)})::int`);
  const [row] = await sql.unsafe<{ sizes: number[] }[]>(
    `select array[${columns.join(', ')}] as sizes from room_search`,
  );
  return row?.sizes ?? MEMBER_TIERS.map(() => 0);
}

const tier = (i: number) => `t${i}`;
const tally = (i: number) => `s${i}`;
const all = (each: (i: number) => string, separator: string) =>
  MEMBER_TIERS.map((_, i) => each(i)).join(separator);

export interface TierScan {
  /** Text match on `r` (through the tier's partial GIN index). */
  match: string;
  /** Filters on `r`. */
  filtered: string;
  /** Sort key expression on `r`, selected as `k`. */
  sortKey: string;
  /**
   * A placeholder for how many matches to read before stopping (null: read every tier). The tiers
   * are read biggest rooms first, so the matches in hand are then the most popular ones.
   */
  need: string | null;
  /** Which matches count towards `need` (a condition on `k` and `room_id`). */
  counted: string;
}

/**
 * `t0 as materialized (...), s0 as materialized (...), t1 ...`: per popularity tier, a bitmap scan
 * of that tier's partial GIN index (`t<i>`) and its tally (`s<i>`: matches `n`, those that count
 * towards `need` `g`, and `cum`, the running total of `g`). A tier after the first runs only while
 * the tiers before it hold fewer than `need` matches: the gate is an uncorrelated condition on the
 * previous tally, which PostgreSQL makes a one-time filter, so a skipped tier costs nothing. One
 * tally per tier keeps the statement small: every node of it is set up on each execution, read or
 * not. The thresholds are literals, so that a generic plan can prove that the partial indexes apply.
 */
export function tierScans(scan: TierScan): string {
  return all((i) => {
    const gate = i > 0 && scan.need !== null ? `and (select cum from ${tally(i - 1)}) < ${scan.need}` : '';
    const before = i > 0 ? ` + (select cum from ${tally(i - 1)})` : '';
    return `${tier(i)} as materialized (
      select r.ctid as id, r.room_id, r.num_joined_members as m, ${scan.sortKey} as k from room_search r
      where ${scan.match} and ${memberTierCondition(i, 'r')} and ${scan.filtered} ${gate}),
    ${tally(i)} as materialized (
      select n, g, g${before} as cum
      from (select count(*)::int as n, (count(*) filter (where ${scan.counted}))::int as g from ${tier(i)}) x)`;
  }, ',\n');
}

/**
 * Per tier, its matches (`tier_counts`) and those that count towards `need` (`tier_gates`), as
 * int[] columns, from the tallies.
 */
export function tierCounts(): string {
  const column = (field: string) => `array[${all((i) => `${tally(i)}.${field}`, ', ')}]`;
  return `${column('n')} as tier_counts, ${column('g')} as tier_gates`;
}

/** The tallies, for a `from` list (one row each). */
export function tierTallies(): string {
  return all(tally, ', ');
}

/** Every tier's rows, tagged not exact. */
export function tierUnion(): string {
  return all((i) => `select id, room_id, m, k, false as e from ${tier(i)}`, ' union all ');
}

export interface TierOutcome {
  /** Every tier was read: the matches in hand are all the matches. */
  complete: boolean;
  /** Matches in the tiers read (rooms with at least the last read tier's members). */
  read: number;
  /** Rooms in the index in the tiers read. */
  roomsRead: number;
}

/** Which tiers a statement read, replaying its gates from the per-tier counts. */
export function tierOutcome(
  counts: number[],
  gates: number[],
  need: number | null,
  sizes: TierSizes,
): TierOutcome {
  let gated = 0;
  let read = 0;
  let roomsRead = 0;
  for (let i = 0; i < MEMBER_TIERS.length; i++) {
    if (i > 0 && need !== null && gated >= need) return { complete: false, read, roomsRead };
    gated += gates[i] ?? 0;
    read += counts[i] ?? 0;
    roomsRead += sizes[i] ?? 0;
  }
  return { complete: true, read, roomsRead };
}
