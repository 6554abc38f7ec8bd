/**
 * Cleaning of text that remote servers send (room names, topics, contacts). Remote text is
 * shown to people, so it must not be able to reorder what surrounds it (bidi overrides), hide
 * itself (control characters), or carry invalid UTF-16 (lone surrogates break JSON encoders and
 * PostgreSQL).
 */

/** Longest values Atlas keeps, in code points. Synapse itself accepts longer, so these are ours. */
export const LIMITS = {
  name: 256,
  topic: 2048,
  alias: 255,
  avatarUrl: 512,
  url: 512,
  short: 128,
} as const;

// C0 and C1 controls and DEL, except tab and newline (kept only where `multiline` allows them).
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point.
const CONTROLS = /[\u0000-\u0008\u000B-\u001F\u007F-\u009F]/g;
// Embeddings, overrides and isolates (LRE, RLE, PDF, LRO, RLO, LRI, RLI, FSI, PDI): they reorder
// the text around them. Marks (LRM, RLM, ALM) only affect neutrals and stay, since RTL names use them.
const BIDI_CONTROLS = /[\u202A-\u202E\u2066-\u2069]/g;
// Invisible characters that serve no purpose in a name: byte order mark, interlinear annotation,
// object replacement, line and paragraph separators. Zero-width joiners stay (emoji sequences).
const INVISIBLES = /[\uFEFF\uFFF9-\uFFFC\u2028\u2029]/g;
const LONE_SURROGATES = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

export interface CleanOptions {
  /** Longest result in code points. */
  max: number;
  /** Keep newlines (topics); otherwise every run of whitespace becomes one space. */
  multiline?: boolean;
}

/**
 * Returns the cleaned string, or null when nothing meaningful is left. Never throws, whatever the
 * input's type.
 */
export function cleanText(input: unknown, options: CleanOptions): string | null {
  if (typeof input !== 'string' || input.length === 0) return null;
  let text = input
    .replace(LONE_SURROGATES, '\uFFFD')
    .replace(BIDI_CONTROLS, '')
    .replace(INVISIBLES, '')
    .replace(/\r\n?/g, '\n')
    .replace(CONTROLS, '');
  text = text.normalize('NFC');
  if (options.multiline) {
    text = text
      .replace(/[\t ]+/g, ' ')
      .replace(/ ?\n ?/g, '\n')
      .replace(/\n{3,}/g, '\n\n');
  } else {
    text = text.replace(/\s+/g, ' ');
  }
  text = truncateCodePoints(text.trim(), options.max).trim();
  return text.length > 0 ? text : null;
}

/** Cuts to at most `max` code points without splitting a surrogate pair. */
export function truncateCodePoints(text: string, max: number): string {
  // Fast path: UTF-16 length bounds the code point count from above.
  if (text.length <= max) return text;
  let count = 0;
  let end = 0;
  for (const char of text) {
    if (count === max) break;
    count++;
    end += char.length;
  }
  return text.slice(0, end);
}

export const cleanName = (input: unknown): string | null => cleanText(input, { max: LIMITS.name });
export const cleanTopic = (input: unknown): string | null =>
  cleanText(input, { max: LIMITS.topic, multiline: true });

/** An `mxc://server/media` URI, or null. */
export function cleanMxcUri(input: unknown): string | null {
  if (typeof input !== 'string' || input.length > LIMITS.avatarUrl) return null;
  return /^mxc:\/\/[A-Za-z0-9.:[\]-]{1,255}\/[A-Za-z0-9_-]{1,255}$/.test(input) ? input : null;
}

/** An http(s) URL without credentials, normalised, or null. */
export function cleanHttpUrl(input: unknown): string | null {
  if (typeof input !== 'string' || input.length > LIMITS.url) return null;
  let url: URL;
  try {
    url = new URL(input.trim());
  } catch {
    return null;
  }
  if ((url.protocol !== 'https:' && url.protocol !== 'http:') || url.username || url.password) return null;
  return url.toString();
}
