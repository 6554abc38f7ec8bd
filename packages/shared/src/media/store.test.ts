import { mkdir, mkdtemp, readdir, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../log/index.ts';
import { AvatarStore, etagOf } from './store.ts';

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'atlas-avatar-store-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Every cached file under the folder, with its apparent size. */
async function files(): Promise<{ name: string; size: number }[]> {
  const out: { name: string; size: number }[] = [];
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const full = path.join(entry.parentPath, entry.name);
    out.push({ name: path.relative(dir, full), size: (await stat(full)).size });
  }
  return out;
}

describe('the avatar store', () => {
  it('keeps files named by the hash of their key, never by the key itself', async () => {
    const store = await AvatarStore.open({ dir, capBytes: 1 << 20, log: silentLogger });
    const bytes = Buffer.from('webp bytes');
    const put = await store.put('evil.example/../../etc/passwd/thumb', bytes);
    expect(put.etag).toBe(etagOf(bytes));
    const [file] = await files();
    expect(file?.name).toMatch(/^[0-9a-f]{2}\/[0-9a-f]{64}\.webp$/);
    expect(await store.get('evil.example/../../etc/passwd/thumb')).toEqual({ bytes, etag: put.etag });
    expect(await store.get('other/key/thumb')).toBeUndefined();
  });

  it('removes the least recently used files to stay under its cap', async () => {
    const capBytes = 10 * 4096;
    const store = await AvatarStore.open({ dir, capBytes, log: silentLogger });
    const body = (i: number) => Buffer.alloc(3000, i);
    for (let i = 0; i < 8; i++) await store.put(`k${i}`, body(i));
    // k0 is read, so k1 becomes the oldest in use.
    expect(await store.get('k0')).toBeDefined();
    for (let i = 8; i < 30; i++) {
      await store.put(`k${i}`, body(i));
      if (i === 12) expect(await store.get('k0')).toBeDefined();
    }
    const onDisk = await files();
    expect(onDisk.length).toBe(10);
    expect(store.usedBytes).toBeLessThanOrEqual(capBytes);
    expect(onDisk.reduce((sum, f) => sum + Math.ceil(f.size / 4096) * 4096, 0)).toBeLessThanOrEqual(capBytes);
    expect(await store.get('k1')).toBeUndefined();
    expect(await store.get('k29')).toBeDefined();
  });

  it('finds its files again after a restart, oldest use first, and drops half-written ones', async () => {
    const first = await AvatarStore.open({ dir, capBytes: 1 << 20, log: silentLogger });
    await first.put('old', Buffer.from('old'));
    await first.put('new', Buffer.from('new'));
    const oldFile = path.join(
      dir,
      AvatarStore.keyHash('old').slice(0, 2),
      `${AvatarStore.keyHash('old')}.webp`,
    );
    const past = new Date(Date.now() - 86_400_000);
    await utimes(oldFile, past, past);
    await mkdir(path.join(dir, 'tmp'), { recursive: true });
    await writeFile(path.join(dir, 'tmp', 'half'), 'partial');

    // A smaller cap at the next start evicts at once, the least recently used first.
    const second = await AvatarStore.open({ dir, capBytes: 4096, log: silentLogger });
    expect(second.count).toBe(1);
    expect((await second.get('new'))?.bytes.toString()).toBe('new');
    expect(await second.get('old')).toBeUndefined();
    expect(await readdir(path.join(dir, 'tmp'))).toEqual([]);
  });
});
