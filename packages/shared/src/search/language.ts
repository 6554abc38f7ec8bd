import { eld } from 'eld/medium';

/** Below this many letters, n-gram detection on a room name is a guess; better no language than a wrong one. */
const MIN_LETTERS = 12;

/**
 * The language of a room from its name and topic, as an ISO 639-1 code, or null when the text is
 * too short or the detector is unsure. eld (Nito-ELD) is used for its accuracy on short text;
 * see docs/adr/0201-language-detection.md.
 */
export function detectRoomLanguage(name: string | null, topic: string | null): string | null {
  const text = [name, topic]
    .filter((part): part is string => Boolean(part))
    .join('. ')
    // URLs, aliases and server names are not language.
    .replace(/\b(?:https?:\/\/|www\.)\S+/gi, ' ')
    .replace(/[#!@+][^\s:]+:[^\s]+/g, ' ')
    .slice(0, 1000);
  const letters = text.match(/\p{L}/gu)?.length ?? 0;
  if (letters === 0) return null;
  // Scripts written by few languages are recognised from few letters.
  const distinctiveScript =
    /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}\p{Script=Thai}\p{Script=Greek}\p{Script=Hebrew}\p{Script=Armenian}\p{Script=Georgian}]/u.test(
      text,
    );
  if (letters < MIN_LETTERS && !distinctiveScript) return null;
  const result = eld.detect(text);
  if (!result.language || !result.isReliable()) return null;
  return result.language;
}
