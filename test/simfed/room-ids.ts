import type { Rng } from './prng.ts';

// Small pieces of room generation: ids, member counts, and what counts as hostile text.

export function roomId12(rng: Rng): string {
  // Room version 12: `!` plus the unpadded URL-safe base64 of the create event's 32-byte hash.
  return `!${rng.bytes(32).toString('base64url')}`;
}

export function classicRoomId(rng: Rng, server: string): string {
  return `!${rng.token(18)}:${server}`;
}

/** Joined members on a Pareto tail: most rooms are small, a few are huge. */
export function memberCount(rng: Rng): number {
  const u = rng.next();
  return Math.min(150_000, Math.max(1, Math.floor(2 / (1 - u) ** (1 / 1.15)) - 1));
}

export function unique(items: string[]): string[] {
  return [...new Set(items)];
}

const HOSTILE_TEXT =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: detecting control characters is the point.
  /[\u0000-\u0008\u000B-\u001F\u007F-\u009F\u202A-\u202E\u2066-\u2069\uFEFF\u2028\u2029\uD800-\uDFFF]/;

/** Text that Atlas's cleaning changes: control, bidi-override and invisible characters, or oversize. */
export function isHostile(text: string | undefined): boolean {
  if (text === undefined) return false;
  if (text.length > 256) return true;
  // Lone surrogates are hostile; proper pairs (emoji) are not.
  const withoutPairs = text.replace(/[\uD800-\uDBFF][\uDC00-\uDFFF]/g, '');
  return HOSTILE_TEXT.test(withoutPairs);
}
