/**
 * Array parameters for `unnest(...)`, as PostgreSQL array literals in one text parameter, cast in
 * SQL (`::text[]`, `::int[]`, `::bool[]`). postgres.js serialises JS arrays according to the
 * types it fetches from the server on connect, so the first query of a fresh pool would send them
 * wrong; a literal built here is exact whatever the connection knows.
 */
export function textArray(values: readonly (string | number | boolean | null)[]): string {
  let out = '{';
  for (let i = 0; i < values.length; i++) {
    const value = values[i];
    if (i > 0) out += ',';
    if (value === null || value === undefined) out += 'NULL';
    else if (typeof value === 'boolean') out += value ? 't' : 'f';
    else if (typeof value === 'number') out += String(value);
    else out += `"${value.replace(/[\\"]/g, '\\$&')}"`;
  }
  return `${out}}`;
}
