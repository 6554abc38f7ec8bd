import { cleanHttpUrl, cleanText } from '@atlas/shared/text';

/**
 * Remote text made safe to show. Room names and topics come from servers Atlas does not trust: the
 * pages render them as text (JSX escapes every string), isolated from the page's direction, and
 * clipped. These helpers do the rest: drop the characters that would reorder or hide the text
 * around them (the shared cleaning rules), clip by characters with an ellipsis, and find the
 * http(s) links a topic holds.
 */

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

/**
 * Cleaned by the rules the crawler stores text by (a row written some other way gets them too),
 * then clipped for display; null for nothing to show.
 */
export function displayText(text: string | null | undefined, max: number, multiline = false): string | null {
  if (!text) return null;
  // Cleaning reads the whole string; a megabyte name needs only its start.
  const head = text.length > (max + 1) * 4 ? text.slice(0, (max + 1) * 4) : text;
  const cleaned = cleanText(head, { max: max + 1, multiline });
  return cleaned === null ? null : clip(cleaned, max);
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
    const href = cleanHttpUrl(raw);
    if (!href) continue;
    if (start > last) parts.push({ text: topic.slice(last, start) });
    parts.push({ link: href, text: raw });
    last = start + raw.length;
  }
  if (last < topic.length) parts.push({ text: topic.slice(last) });
  return parts;
}

const segmenter = new Intl.Segmenter('en', { granularity: 'grapheme' });
const LETTER = /[\p{L}\p{N}]/u;

/** The letter an avatar shows: the first letter or digit of the name, else of the alias after `#`. */
export function avatarLetter(...candidates: (string | null | undefined)[]): string {
  for (const candidate of candidates) {
    if (!candidate) continue;
    for (const { segment } of segmenter.segment(cleanText(candidate, { max: 64 }) ?? '')) {
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
