import { type PgTimestamp, timestampToDate } from '../db/timestamps.ts';
import type { CursorKeys } from './cursor.ts';
import type { Statement } from './postgres-statement.ts';
import { InvalidCursorError, type RoomFilters, type RoomSort } from './types.ts';

/** The filters as one condition on `r` (room_search). */
export function filterCondition(st: Statement, filters: RoomFilters | undefined): string {
  const parts: string[] = [];
  if (!filters) return 'true';
  if (filters.servers && filters.servers.length > 0) {
    parts.push(`r.servers && ${st.param(filters.servers, 'text[]')}`);
  }
  if (filters.languages && filters.languages.length > 0) {
    parts.push(`r.language = any(${st.param(filters.languages, 'text[]')})`);
  }
  if (filters.roomTypes && filters.roomTypes.length > 0) {
    const named = filters.roomTypes.filter((t): t is string => t !== null);
    const plain = filters.roomTypes.includes(null);
    const any = `r.room_type = any(${st.param(named, 'text[]')})`;
    parts.push(plain ? `(r.room_type is null or ${any})` : any);
  }
  if (filters.joinRules && filters.joinRules.length > 0) {
    parts.push(`r.join_rule = any(${st.param(filters.joinRules, 'text[]')})`);
  }
  if (filters.minMembers !== undefined) {
    parts.push(`r.num_joined_members >= ${st.param(filters.minMembers, 'int')}`);
  }
  if (filters.maxMembers !== undefined) {
    parts.push(`r.num_joined_members <= ${st.param(filters.maxMembers, 'int')}`);
  }
  if (filters.maxComplexity !== undefined) {
    parts.push(`r.complexity <= ${st.param(filters.maxComplexity, 'float8')}`);
  }
  if (filters.joinableWithLimit !== undefined) {
    parts.push(`(r.complexity is null or r.complexity <= ${st.param(filters.joinableWithLimit, 'float8')})`);
  }
  if (filters.worldReadable !== undefined) {
    parts.push(filters.worldReadable ? 'r.world_readable' : 'not r.world_readable');
  }
  if (filters.stale !== undefined) parts.push(filters.stale ? 'r.stale' : 'not r.stale');
  if (filters.hasAlias !== undefined) {
    parts.push(filters.hasAlias ? 'r.canonical_alias is not null' : 'r.canonical_alias is null');
  }
  return parts.length > 0 ? parts.join(' and ') : 'true';
}

export interface SortSpec {
  /** Column of room_search. */
  column: 'num_joined_members' | 'growth_7d' | 'growth_30d' | 'first_seen_at' | 'complexity';
  type: 'integer' | 'real' | 'timestamptz';
  /** Larger values first. */
  descending: boolean;
  nullable: boolean;
}

export const SORTS: Record<Exclude<RoomSort, 'relevance'>, SortSpec> = {
  members: { column: 'num_joined_members', type: 'integer', descending: true, nullable: false },
  growth7d: { column: 'growth_7d', type: 'integer', descending: true, nullable: false },
  growth30d: { column: 'growth_30d', type: 'integer', descending: true, nullable: false },
  newest: { column: 'first_seen_at', type: 'timestamptz', descending: true, nullable: false },
  complexity: { column: 'complexity', type: 'real', descending: false, nullable: true },
};

/** `order by` direction for a sort key. */
export function direction(spec: SortSpec): string {
  return spec.descending ? 'desc' : spec.nullable ? 'asc nulls last' : 'asc';
}

/** The sort key of a row, as its cursor stores it. */
export function sortKey(value: number | PgTimestamp | null): number | null {
  return value === null ? null : typeof value === 'number' ? value : timestampToDate(value).getTime();
}

export function cursorNumber(keys: CursorKeys, index: number, nullable = false): number | null {
  const value = keys[index];
  if (value === null && nullable) return null;
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new InvalidCursorError('the cursor is not one this directory issued');
  }
  return value;
}

export function cursorString(keys: CursorKeys, index: number): string {
  const value = keys[index];
  if (typeof value !== 'string') throw new InvalidCursorError('the cursor is not one this directory issued');
  return value;
}

/** Rows after the cursor's (sort key, room id) in the sort's order; `true` without a cursor. */
export function keysetAfter(
  st: Statement,
  spec: SortSpec,
  keys: CursorKeys | undefined,
  column: string,
  idColumn: string,
): string {
  if (!keys) return 'true';
  const value = cursorNumber(keys, 0, spec.nullable);
  const id = st.param(cursorString(keys, 1), 'text');
  if (value === null) return `(${column} is null and ${idColumn} > ${id})`;
  // Typed as the column: a real compared with a float8 parameter is never equal.
  const param = st.param(spec.type === 'timestamptz' ? new Date(value) : value, spec.type);
  return spec.descending
    ? `(${column}, ${idColumn}) < (${param}, ${id})`
    : `((${column}, ${idColumn}) > (${param}, ${id}) or ${column} is null)`;
}
