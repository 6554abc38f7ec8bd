// Python's rules where Synapse applies them to what a request carries, so that the simulator
// accepts and refuses exactly the same values.

/** Python's truth test (`if value:`). */
export function pythonTruthy(value: unknown): boolean {
  if (value === undefined || value === null || value === false || value === 0 || value === '') return false;
  if (Array.isArray(value)) return value.length > 0;
  if (typeof value === 'object') return Object.keys(value).length > 0;
  return true;
}

/** Python's `int(text)`: surrounding blanks, a sign and digit-group underscores allowed; null where it raises. */
export function pythonInt(text: string): number | null {
  const trimmed = text.trim();
  return /^[+-]?\d+(_\d+)*$/.test(trimmed) ? Number(trimmed.replace(/_/g, '')) : null;
}
