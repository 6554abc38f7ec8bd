/**
 * Remote text made safe to show. Room names and topics come from servers Atlas does not trust: the
 * pages render them as text (JSX escapes every string), isolated from the page's direction, and
 * clipped. These helpers do the rest: drop the characters that would reorder or hide the text
 * around them, clip by characters (not UTF-16 halves), and find the http(s) links a topic holds.
 */

/**
 * Bidi embeddings, overrides and isolates (U+202A–U+202E, U+2066–U+2069), other C0/C1 controls but
 * the line break, and zero-width formatting that can hide text (U+200B–U+200D, U+2060, U+FEFF).
 * `<bdi>` / `dir="auto"` isolate what remains.
 */
function unsafe(code: number): boolean {
  return (
    (code <= 0x1f && code !== 0x0a) ||
    (code >= 0x7f && code <= 0x9f) ||
    (code >= 0x200b && code <= 0x200d) ||
    (code >= 0x202a && code <= 0x202e) ||
    code === 0x2060 ||
    (code >= 0x2066 && code <= 0x2069) ||
    code === 0xfeff
  );
}

export function cleanText(text: string): string {
  let out = '';
  let from = 0;
  for (let i = 0; i < text.length; i++) {
    if (!unsafe(text.charCodeAt(i))) continue;
    out += text.slice(from, i);
    from = i + 1;
  }
  return from === 0 ? text : out + text.slice(from);
}

/** At most `max` characters (code points), with an ellipsis when cut. */
export function clip(text: string, max: number): string {
  if (text.length <= max) return text;
  // A code point is one or two UTF-16 units, so this slice holds max + 1 of them when the text has
  // that many; fewer means the whole text fits.
  const head = Array.from(text.slice(0, (max + 1) * 2));
  if (head.length <= max) return text;
  return `${head
    .slice(0, max - 1)
    .join('')
    .trimEnd()}…`;
}

/** Cleaned and clipped; null for nothing to show. */
export function displayText(text: string | null | undefined, max: number): string | null {
  if (!text) return null;
  const shown = clip(cleanText(text), max).trim();
  return shown.length > 0 ? shown : null;
}

export type TopicPart = { text: string } | { link: string; text: string };

// A URL ends at whitespace, quotes or angle brackets; trailing punctuation is the sentence's.
const URL_PATTERN = /\bhttps?:\/\/[^\s<>"'`]+/gi;
const TRAILING = /[.,;:!?)\]}'"»]+$/;

/**
 * The topic split into text and links. Only absolute http(s) URLs that parse become links, and
 * the text shown for a link is the URL as written; nothing else in a topic can become markup.
 */
export function topicParts(topic: string): TopicPart[] {
  const parts: TopicPart[] = [];
  let last = 0;
  for (const match of topic.matchAll(URL_PATTERN)) {
    const start = match.index;
    let raw = match[0];
    const trailing = TRAILING.exec(raw);
    if (trailing) raw = raw.slice(0, raw.length - trailing[0].length);
    const href = safeHttpUrl(raw);
    if (!href) continue;
    if (start > last) parts.push({ text: topic.slice(last, start) });
    parts.push({ link: href, text: raw });
    last = start + raw.length;
  }
  if (last < topic.length) parts.push({ text: topic.slice(last) });
  return parts;
}

/** The URL, normalised, when it is an absolute http(s) URL; null otherwise. */
export function safeHttpUrl(raw: string): string | null {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return null;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return null;
  if (url.username || url.password) return null;
  return url.href;
}

const segmenter = new Intl.Segmenter('en', { granularity: 'grapheme' });
const LETTER = /[\p{L}\p{N}]/u;

/** The letter an avatar shows: the first letter or digit of the name, else of the alias after `#`. */
export function avatarLetter(...candidates: (string | null | undefined)[]): string {
  for (const candidate of candidates) {
    if (!candidate) continue;
    for (const { segment } of segmenter.segment(cleanText(candidate))) {
      if (LETTER.test(segment)) return segment.toLocaleUpperCase('en');
    }
  }
  return '#';
}

/** One of a few avatar colours, the same for the same room every time. */
export function avatarTone(key: string, tones = 8): number {
  let hash = 0;
  for (let i = 0; i < key.length; i++) hash = (hash * 31 + key.charCodeAt(i)) >>> 0;
  return hash % tones;
}
