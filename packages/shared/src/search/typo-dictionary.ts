/**
 * Typo tolerance in memory: every indexed word with its one-letter deletions (the symmetric
 * delete method, as in SymSpell), so the words within one edit of a query word are found by
 * looking up the query word's own deletions: a few map lookups instead of a trigram search over
 * the whole vocabulary (which cost ~10 ms of database CPU a word).
 */
export class TypoDictionary {
  private sorted: string[] = [];
  /**
   * Deletion variant -> the words that have it: one word's index in `sorted` (most variants), or
   * several. Numbers rather than one array per variant: millions of small arrays, all long-lived,
   * made building slow (the young-generation collector copies every survivor).
   */
  private readonly byDeletion = new Map<string, number | number[]>();

  constructor(terms: Iterable<string>) {
    this.sorted = [...new Set(terms)].sort();
    for (let i = 0; i < this.sorted.length; i++) this.add(i);
  }

  /**
   * The same dictionary, built a slice of words at a time with the event loop free in between: a
   * server's vocabulary (up to hundreds of thousands of words) built in one go would hold up every
   * request the process serves for as long as it takes, each time the vocabulary is reloaded.
   */
  static async build(terms: Iterable<string>, sliceSize = 200): Promise<TypoDictionary> {
    const dictionary = new TypoDictionary([]);
    dictionary.sorted = [...new Set(terms)].sort();
    for (let start = 0; start < dictionary.sorted.length; start += sliceSize) {
      await new Promise((resolve) => setImmediate(resolve));
      const end = Math.min(dictionary.sorted.length, start + sliceSize);
      for (let i = start; i < end; i++) dictionary.add(i);
    }
    return dictionary;
  }

  private add(index: number): void {
    const term = this.sorted[index];
    if (term === undefined) return;
    for (const variant of deletions(term)) {
      const known = this.byDeletion.get(variant);
      if (known === undefined) this.byDeletion.set(variant, index);
      else if (typeof known === 'number') this.byDeletion.set(variant, [known, index]);
      else known.push(index);
    }
  }

  get size(): number {
    return this.sorted.length;
  }

  /** Is this an indexed word (or, for a prefix, the start of one)? */
  knows(word: string, prefix: boolean): boolean {
    let low = 0;
    let high = this.sorted.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if ((this.sorted[mid] ?? '') < word) low = mid + 1;
      else high = mid;
    }
    const found = this.sorted[low];
    return found !== undefined && (found === word || (prefix && found.startsWith(word)));
  }

  /** Indexed words one edit away (insertion, deletion, substitution or transposition), nearest first. */
  similar(word: string, max: number): string[] {
    const candidates = new Set<string>();
    for (const variant of deletions(word)) {
      const known = this.byDeletion.get(variant);
      for (const index of typeof known === 'number' ? [known] : (known ?? [])) {
        const term = this.sorted[index];
        if (term !== undefined) candidates.add(term);
      }
    }
    candidates.delete(word);
    return [...candidates]
      .map((term) => ({ term, distance: editDistance(word, term) }))
      .filter((c) => c.distance <= (word.length >= 8 ? 2 : 1))
      .sort(
        (a, b) =>
          a.distance - b.distance ||
          Math.abs(a.term.length - word.length) - Math.abs(b.term.length - word.length) ||
          (a.term < b.term ? -1 : 1),
      )
      .slice(0, max)
      .map((c) => c.term);
  }
}

const SURROGATE = /[\uD800-\uDFFF]/;

/** The word and every form of it with one character (code point) removed. */
export function deletions(word: string): Set<string> {
  const out = new Set([word]);
  // Plain string slices unless a character takes two UTF-16 units (rare: split by code point).
  const chars = SURROGATE.test(word) ? [...word] : null;
  const length = chars ? chars.length : word.length;
  if (length <= 2) return out;
  for (let i = 0; i < length; i++) {
    out.add(
      chars ? chars.slice(0, i).join('') + chars.slice(i + 1).join('') : word.slice(0, i) + word.slice(i + 1),
    );
  }
  return out;
}

/** Optimal string alignment distance (Damerau-Levenshtein with adjacent transpositions). */
export function editDistance(a: string, b: string): number {
  const s = [...a];
  const t = [...b];
  const rows: number[][] = Array.from({ length: s.length + 1 }, (_, i) => [
    i,
    ...Array<number>(t.length).fill(0),
  ]);
  for (let j = 0; j <= t.length; j++) (rows[0] as number[])[j] = j;
  for (let i = 1; i <= s.length; i++) {
    const row = rows[i] as number[];
    const previous = rows[i - 1] as number[];
    for (let j = 1; j <= t.length; j++) {
      const cost = s[i - 1] === t[j - 1] ? 0 : 1;
      let best = Math.min((previous[j] ?? 0) + 1, (row[j - 1] ?? 0) + 1, (previous[j - 1] ?? 0) + cost);
      if (i > 1 && j > 1 && s[i - 1] === t[j - 2] && s[i - 2] === t[j - 1]) {
        best = Math.min(best, ((rows[i - 2] as number[])[j - 2] ?? 0) + 1);
      }
      row[j] = best;
    }
  }
  return (rows[s.length] as number[])[t.length] ?? 0;
}
