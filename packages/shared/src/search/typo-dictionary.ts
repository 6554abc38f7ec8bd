/**
 * Typo tolerance in memory: every indexed word with its one-letter deletions (the symmetric
 * delete method, as in SymSpell), so the words within one edit of a query word are found by
 * looking up the query word's own deletions: a few map lookups instead of a trigram search over
 * the whole vocabulary (which cost ~10 ms of database CPU a word).
 */
export class TypoDictionary {
  private sorted: string[] = [];
  private readonly byDeletion = new Map<string, string[]>();

  constructor(terms: Iterable<string>) {
    const unique = [...new Set(terms)].sort();
    this.sorted = unique;
    for (const term of unique) {
      for (const variant of deletions(term)) {
        const list = this.byDeletion.get(variant);
        if (list) list.push(term);
        else this.byDeletion.set(variant, [term]);
      }
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
      for (const term of this.byDeletion.get(variant) ?? []) candidates.add(term);
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

/** The word and every form of it with one character removed. */
function deletions(word: string): Set<string> {
  const out = new Set([word]);
  const chars = [...word];
  if (chars.length <= 2) return out;
  for (let i = 0; i < chars.length; i++) out.add(chars.slice(0, i).join('') + chars.slice(i + 1).join(''));
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
