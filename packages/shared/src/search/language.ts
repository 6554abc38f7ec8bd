type Detector = typeof import('eld/medium')['eld'];

let detector: Detector | undefined;
let loading: Promise<void> | undefined;

/**
 * Loads the detector's n-gram tables, once: ~50 MB of heap, so they are not loaded on import. A
 * process that never detects a language (an API replica answering searches) does not hold them.
 */
export function loadLanguageDetector(): Promise<void> {
  loading ??= import('eld/medium').then((module) => {
    detector = module.eld;
  });
  return loading;
}

/** Below this many letters, n-gram detection on a room name is a guess; better no language than a wrong one. */
const MIN_LETTERS = 12;

/**
 * The language of a room from its name and topic, as an ISO 639-1 code, or null when the text is
 * too short or the detector is unsure. eld (Nito-ELD) is used for its accuracy on short text;
 * see docs/adr/0201-language-detection.md. `loadLanguageDetector()` must have finished first.
 */
export function detectRoomLanguage(name: string | null, topic: string | null): string | null {
  if (!detector) throw new Error('detectRoomLanguage: await loadLanguageDetector() first');
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
  const result = detector.detect(text);
  if (!result.language || !result.isReliable()) return null;
  return result.language;
}
