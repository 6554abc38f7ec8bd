import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, stat, unlink, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from '../log/index.ts';

/** A cached avatar as it is served. */
export interface StoredAvatar {
  bytes: Buffer;
  /** A strong ETag: a hash of the bytes, quoted. */
  etag: string;
}

interface Entry {
  /** Bytes the file takes on disk, counted in whole 4 KiB blocks. */
  size: number;
  etag: string | undefined;
  /** When its modification time was last set (it records use, for the order after a restart). */
  touchedAt: number;
}

/** Files take whole filesystem blocks; counting them so keeps the folder's real size under the cap. */
const BLOCK = 4096;
/** A file's time of use is written to disk at most this often (an entry read 500 times a second stays one write). */
const TOUCH_EVERY_MS = 60 * 60 * 1000;
/**
 * The most recently used avatars are also kept in memory, up to this many bytes (thousands of
 * thumbnails of a few kilobytes): a page of results asks for twenty at once, and answering them
 * from memory spares a file read each.
 */
const HOT_BYTES = 32 * 1024 * 1024;
const FILE = /^[0-9a-f]{64}\.webp$/;
const SHARD = /^[0-9a-f]{2}$/;

function blocks(bytes: number): number {
  return Math.max(1, Math.ceil(bytes / BLOCK)) * BLOCK;
}

export function etagOf(bytes: Buffer): string {
  return `"${createHash('sha256').update(bytes).digest('base64url').slice(0, 27)}"`;
}

/**
 * Avatars on disk under one folder, at most `capBytes` of them, the least recently used removed
 * first. A file's name is the SHA-256 of its key (origin, media id, variant), so no remote string
 * ever becomes part of a path; files are written under `tmp/` and renamed into place, so a reader
 * never sees half a file. The index (size and order of use) lives in memory and is rebuilt from
 * the folder at start, in the order of the files' modification times, which record their use.
 * One process serves a folder (the API; `atlas start`); two would each keep the cap on their own.
 */
export class AvatarStore {
  /** Key hash → entry, least recently used first (a Map keeps insertion order). */
  private readonly index = new Map<string, Entry>();
  private used = 0;
  /** Key hash → the avatar, for the most recently used ones, least recently used first. */
  private readonly hot = new Map<string, StoredAvatar>();
  private hotBytes = 0;

  private constructor(
    private readonly dir: string,
    private readonly capBytes: number,
    private readonly log: Logger,
  ) {}

  static async open(options: { dir: string; capBytes: number; log: Logger }): Promise<AvatarStore> {
    const store = new AvatarStore(options.dir, options.capBytes, options.log);
    await store.load();
    return store;
  }

  /** Bytes the cached files take (in whole blocks). */
  get usedBytes(): number {
    return this.used;
  }

  get count(): number {
    return this.index.size;
  }

  private file(hash: string): string {
    return path.join(this.dir, hash.slice(0, 2), `${hash}.webp`);
  }

  private async load(): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    // Half-written files of a process that stopped mid-write.
    await rm(path.join(this.dir, 'tmp'), { recursive: true, force: true });
    await mkdir(path.join(this.dir, 'tmp'));
    const found: { hash: string; size: number; mtimeMs: number }[] = [];
    for (const shard of await readdir(this.dir)) {
      if (!SHARD.test(shard)) continue;
      for (const name of await readdir(path.join(this.dir, shard))) {
        if (!FILE.test(name)) continue;
        try {
          const info = await stat(path.join(this.dir, shard, name));
          found.push({ hash: name.slice(0, 64), size: blocks(info.size), mtimeMs: info.mtimeMs });
        } catch {
          // Removed meanwhile.
        }
      }
    }
    found.sort((a, b) => a.mtimeMs - b.mtimeMs);
    for (const { hash, size, mtimeMs } of found) {
      this.index.set(hash, { size, etag: undefined, touchedAt: mtimeMs });
      this.used += size;
    }
    await this.evict();
    this.log.info(
      { dir: this.dir, avatars: this.index.size, usedBytes: this.used, capBytes: this.capBytes },
      'avatar cache opened',
    );
  }

  static keyHash(key: string): string {
    return createHash('sha256').update(key).digest('hex');
  }

  async get(key: string): Promise<StoredAvatar | undefined> {
    const hash = AvatarStore.keyHash(key);
    const entry = this.index.get(hash);
    if (!entry) return undefined;
    let avatar = this.hot.get(hash);
    if (avatar) {
      this.hot.delete(hash);
      this.hot.set(hash, avatar);
    } else {
      let bytes: Buffer;
      try {
        bytes = await readFile(this.file(hash));
      } catch {
        this.forget(hash);
        return undefined;
      }
      entry.etag ??= etagOf(bytes);
      avatar = { bytes, etag: entry.etag };
      this.keepHot(hash, avatar);
    }
    // Most recently used last.
    this.index.delete(hash);
    this.index.set(hash, entry);
    const now = Date.now();
    if (now - entry.touchedAt > TOUCH_EVERY_MS) {
      entry.touchedAt = now;
      const when = new Date(now);
      utimes(this.file(hash), when, when).catch(() => {});
    }
    return avatar;
  }

  private keepHot(hash: string, avatar: StoredAvatar): void {
    this.dropHot(hash);
    this.hot.set(hash, avatar);
    this.hotBytes += avatar.bytes.length;
    for (const [oldest] of this.hot) {
      if (this.hotBytes <= HOT_BYTES) break;
      this.dropHot(oldest);
    }
  }

  private dropHot(hash: string): void {
    const avatar = this.hot.get(hash);
    if (!avatar) return;
    this.hot.delete(hash);
    this.hotBytes -= avatar.bytes.length;
  }

  /** Stores `bytes` under `key` and removes the least recently used files beyond the cap. */
  async put(key: string, bytes: Buffer): Promise<StoredAvatar> {
    const hash = AvatarStore.keyHash(key);
    const etag = etagOf(bytes);
    const size = blocks(bytes.length);
    if (size > this.capBytes) return { bytes, etag };
    const temporary = path.join(this.dir, 'tmp', `${hash}.${randomBytes(6).toString('hex')}`);
    await writeFile(temporary, bytes);
    await mkdir(path.dirname(this.file(hash)), { recursive: true });
    await rename(temporary, this.file(hash));
    this.forget(hash);
    this.index.set(hash, { size, etag, touchedAt: Date.now() });
    this.used += size;
    const avatar = { bytes, etag };
    this.keepHot(hash, avatar);
    await this.evict();
    return avatar;
  }

  private forget(hash: string): void {
    this.dropHot(hash);
    const entry = this.index.get(hash);
    if (!entry) return;
    this.index.delete(hash);
    this.used -= entry.size;
  }

  private async evict(): Promise<void> {
    let removed = 0;
    for (const [hash] of this.index) {
      if (this.used <= this.capBytes) break;
      this.forget(hash);
      removed++;
      await unlink(this.file(hash)).catch(() => {});
    }
    if (removed > 0) {
      this.log.debug({ removed, usedBytes: this.used, capBytes: this.capBytes }, 'avatar cache: evicted');
    }
  }
}
