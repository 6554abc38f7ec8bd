import { chmod, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadOrCreateSigningKey } from './signing-key.ts';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'atlas-signing-key-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('the signing key file', () => {
  it('gives processes starting together on one data folder one key', async () => {
    const file = path.join(dir, 'data', 'signing.key');
    // Every load finds no file, then creates one: as API replicas scaled up on a fresh volume.
    const keys = await Promise.all(Array.from({ length: 16 }, () => loadOrCreateSigningKey(file)));
    const ids = new Set(keys.map((key) => `${key.keyId} ${key.publicKeyBase64}`));
    expect(ids.size).toBe(1);
    const again = await loadOrCreateSigningKey(file);
    expect(`${again.keyId} ${again.publicKeyBase64}`).toBe([...ids][0]);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    // No half-made key left beside it.
    expect(await readdir(path.dirname(file))).toEqual(['signing.key']);
  });

  it('refuses a key others can read, and a file that is not a key, saying what to do', async () => {
    const file = path.join(dir, 'signing.key');
    await loadOrCreateSigningKey(file);
    await chmod(file, 0o644);
    await expect(loadOrCreateSigningKey(file)).rejects.toThrow(`run: chmod 600 ${file}`);
    await writeFile(file, 'not a key\n', { mode: 0o600 });
    await chmod(file, 0o600);
    await expect(loadOrCreateSigningKey(file)).rejects.toThrow(/is not an ed25519 signing key/);
  });
});
