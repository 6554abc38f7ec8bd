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
 * `t0 as materialized (...), t1 ...`: one CTE per popularity tier, each a bitmap scan of that tier's
 * partial GIN index. A tier after the first runs only while the tiers before it hold fewer than
 * `need` matches: the gate is an uncorrelated condition, which PostgreSQL makes a one-time filter,
 * so a skipped tier costs nothing. The thresholds are literals, so that a generic plan can prove
 * that the partial indexes apply.
 */
export function tierScans(scan: TierScan): string {
  return all((i) => {
    let gate = '';
    if (i > 0 && scan.need !== null) {
      const before = MEMBER_TIERS.slice(0, i).map(
        (_, j) => `(select count(*) from ${tier(j)} where ${scan.counted})`,
      );
      gate = `and ${before.join(' + ')} < ${scan.need}`;
    }
    return `${tier(i)} as materialized (
      select r.ctid as id, r.room_id, r.num_joined_members as m, ${scan.sortKey} as k from room_search r
      where ${scan.match} and ${memberTierCondition(i, 'r')} and ${scan.filtered} ${gate})`;
  }, ',\n');
}

/**
 * Per tier, its matches (`tier_counts`) and those that count towards `need` (`tier_gates`), as
 * int[] columns.
 */
export function tierCounts(counted: string): string {
  const column = (where: string) =>
    `array[${all((i) => `(select count(*)::int from ${tier(i)} where ${where})`, ', ')}]`;
  return `${column('true')} as tier_counts, ${column(counted)} as tier_gates`;
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
