/**
 * Four 32-bit state words from a text: two independent 32-bit string hashes (FNV-1a and a
 * multiply-xorshift variant) expanded with splitmix32. Cheap enough to fork a stream per room.
 */
function seedState(text: string): [number, number, number, number] {
  let h1 = 0x811c9dc5;
  let h2 = 0x2545f491;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 0x01000193);
    h2 = Math.imul(h2 ^ c, 0x5bd1e995);
    h2 ^= h2 >>> 15;
  }
  const out: number[] = [];
  let x = h1 ^ Math.imul(h2, 0x9e3779b1);
  for (let k = 0; k < 4; k++) {
    x = (x + 0x9e3779b9 + (k === 2 ? h2 : 0)) | 0;
    let z = x;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    out.push((z ^ (z >>> 16)) >>> 0);
  }
  return [out[0] ?? 1, out[1] ?? 2, out[2] ?? 3, out[3] ?? 4];
}

/**
 * A seeded pseudo-random generator (sfc32). Every choice the simulated federation makes comes from
 * one of these, so the same seed gives the same federation. `fork(label)` derives an independent
 * stream, so adding a room to one server does not shift the choices made for every other server.
 */
export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  private readonly seedText: string;

  constructor(seed: string | number) {
    this.seedText = String(seed);
    [this.a, this.b, this.c, this.d] = seedState(this.seedText);
    for (let i = 0; i < 12; i++) this.nextUint32();
  }

  nextUint32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** A float in [0, 1). */
  next(): number {
    return this.nextUint32() / 4294967296;
  }

  /** An integer in [min, max], both included. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  chance(probability: number): boolean {
    return this.next() < probability;
  }

  pick<T>(items: readonly T[]): T {
    const item = items[Math.floor(this.next() * items.length)];
    if (item === undefined) throw new Error('pick from an empty list');
    return item;
  }

  /** Picks by weight: `[[value, weight], ...]`. */
  weighted<T>(choices: readonly (readonly [T, number])[]): T {
    const total = choices.reduce((sum, [, w]) => sum + w, 0);
    let roll = this.next() * total;
    for (const [value, weight] of choices) {
      roll -= weight;
      if (roll < 0) return value;
    }
    const last = choices[choices.length - 1];
    if (!last) throw new Error('weighted pick from an empty list');
    return last[0];
  }

  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = Math.floor(this.next() * (i + 1));
      const tmp = items[i] as T;
      items[i] = items[j] as T;
      items[j] = tmp;
    }
    return items;
  }

  bytes(count: number): Buffer {
    const out = Buffer.alloc(count);
    for (let i = 0; i < count; i += 4) {
      const value = this.nextUint32();
      for (let k = 0; k < 4 && i + k < count; k++) out[i + k] = (value >>> (8 * k)) & 0xff;
    }
    return out;
  }

  /** Letters and digits, e.g. for the opaque part of a room id. */
  token(length: number, alphabet = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ'): string {
    let out = '';
    for (let i = 0; i < length; i++) out += alphabet[Math.floor(this.next() * alphabet.length)];
    return out;
  }

  /** An independent stream derived from this generator's seed (not its state) and a label. */
  fork(label: string | number): Rng {
    return new Rng(`${this.seedText}/${label}`);
  }
}
