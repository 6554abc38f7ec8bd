import type { Sql } from 'postgres';

/**
 * SQL text with numbered parameters, built as plain strings. A search statement has dozens of
 * parts; built as postgres.js fragments (one Promise-derived object each, the whole tree turned
 * into text on every call) they cost more client CPU than the database spends running it. The
 * text depends only on the query's shape, so each shape is prepared once per connection.
 */
export class Statement {
  readonly params: unknown[] = [];

  /** A placeholder for a value, with an explicit type so that the statement's shape fixes it. */
  param(value: unknown, type: string): string {
    this.params.push(value);
    return `$${this.params.length}::${type}`;
  }

  run<T extends object>(sql: Sql, text: string): Promise<T[]> {
    return sql.unsafe<T[]>(text, this.params as never[], { prepare: true });
  }
}
