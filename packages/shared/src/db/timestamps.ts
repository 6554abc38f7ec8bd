/**
 * A timestamptz as postgres.js returns it: a Date, or the server's text when drizzle's driver has
 * replaced the date parsers on that client ("2026-01-02 03:04:05.678+00").
 */
export type PgTimestamp = Date | string;

export function timestampToDate(value: PgTimestamp): Date {
  if (value instanceof Date) return value;
  const date = new Date(value.replace(' ', 'T').replace(/([+-]\d\d)$/, '$1:00'));
  if (Number.isNaN(date.getTime())) throw new Error(`not a timestamp: ${value}`);
  return date;
}

export function timestampToIso(value: PgTimestamp): string;
export function timestampToIso(value: PgTimestamp | null): string | null;
export function timestampToIso(value: PgTimestamp | null): string | null {
  return value === null ? null : timestampToDate(value).toISOString();
}
