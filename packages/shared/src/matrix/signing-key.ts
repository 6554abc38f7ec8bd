import { createPrivateKey, createPublicKey, type KeyObject, randomBytes, sign, verify } from 'node:crypto';
import { constants, type Stats } from 'node:fs';
import { chmod, copyFile, link, mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { decodeBase64, encodeUnpaddedBase64 } from './base64.ts';

/** PKCS#8 prefix that wraps a raw 32-byte ed25519 seed (RFC 8410). */
const PKCS8_ED25519_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
/** SPKI prefix that wraps a raw 32-byte ed25519 public key. */
const SPKI_ED25519_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

export interface SigningKey {
  /** `ed25519:<version>` */
  keyId: string;
  seed: Buffer;
  privateKey: KeyObject;
  publicKey: KeyObject;
  /** Unpadded base64 of the raw public key, as published in `verify_keys`. */
  publicKeyBase64: string;
}

export function signingKeyFromSeed(keyId: string, seed: Uint8Array): SigningKey {
  if (seed.length !== 32) throw new Error(`an ed25519 seed is 32 bytes, got ${seed.length}`);
  if (!/^ed25519:[a-zA-Z0-9_]+$/.test(keyId)) throw new Error(`"${keyId}" is not an ed25519 key id`);
  const privateKey = createPrivateKey({
    key: Buffer.concat([PKCS8_ED25519_PREFIX, seed]),
    format: 'der',
    type: 'pkcs8',
  });
  const publicKey = createPublicKey(privateKey);
  const raw = publicKey.export({ format: 'der', type: 'spki' }).subarray(SPKI_ED25519_PREFIX.length);
  return {
    keyId,
    seed: Buffer.from(seed),
    privateKey,
    publicKey,
    publicKeyBase64: encodeUnpaddedBase64(raw),
  };
}

export function generateSigningKey(): SigningKey {
  const version = `a_${randomBytes(3).toString('base64').replace(/[+/=]/g, 'x')}`;
  return signingKeyFromSeed(`ed25519:${version}`, randomBytes(32));
}

/** A public key from its unpadded base64 form, or null when it is not 32 bytes. */
export function publicKeyFromBase64(text: string): KeyObject | null {
  const raw = decodeBase64(text);
  if (raw?.length !== 32) return null;
  try {
    return createPublicKey({ key: Buffer.concat([SPKI_ED25519_PREFIX, raw]), format: 'der', type: 'spki' });
  } catch {
    return null;
  }
}

export function signBytes(key: SigningKey, message: string | Uint8Array): string {
  return encodeUnpaddedBase64(sign(null, Buffer.from(message), key.privateKey));
}

export function verifyBytes(publicKey: KeyObject, message: string | Uint8Array, signature: string): boolean {
  const sig = decodeBase64(signature);
  if (sig?.length !== 64) return false;
  try {
    return verify(null, Buffer.from(message), publicKey, sig);
  } catch {
    return false;
  }
}

/**
 * Loads the key file (Synapse's format: `ed25519 <version> <base64 seed>`), creating it with mode
 * 0600 on first start. Refuses a key file that others can read. Processes that start together on
 * one data folder (API replicas, crawlers) end up with the same key: a new key is written in full
 * to a file of its own, then linked into place only if no key is there yet; the process that loses
 * that race loads the winner's.
 */
export async function loadOrCreateSigningKey(file: string): Promise<SigningKey> {
  const existing = await readSigningKey(file);
  if (existing) return existing;
  const key = generateSigningKey();
  await mkdir(path.dirname(file), { recursive: true });
  const version = key.keyId.slice('ed25519:'.length);
  const draft = `${file}.${process.pid}.${randomBytes(6).toString('hex')}.new`;
  try {
    await writeFile(draft, `ed25519 ${version} ${encodeUnpaddedBase64(key.seed)}\n`, {
      mode: 0o600,
      flag: 'wx',
    });
    await chmod(draft, 0o600);
    await link(draft, file).catch(async (error: NodeJS.ErrnoException) => {
      // A file system without hard links: still never over another process's key.
      if (error.code !== 'EPERM' && error.code !== 'ENOTSUP' && error.code !== 'EOPNOTSUPP') throw error;
      await copyFile(draft, file, constants.COPYFILE_EXCL);
    });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    const theirs = await readSigningKey(file);
    if (!theirs) throw new Error(`${file} vanished while it was being created; start again`);
    return theirs;
  } finally {
    await rm(draft, { force: true });
  }
  return key;
}

/** The key in `file`, or undefined when there is no such file. */
async function readSigningKey(file: string): Promise<SigningKey | undefined> {
  let info: Stats;
  try {
    info = await stat(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  if ((info.mode & 0o077) !== 0) {
    throw new Error(`${file} is readable by other users; run: chmod 600 ${file}`);
  }
  const text = (await readFile(file, 'utf8')).trim();
  const [algorithm, version, seedText] = text.split(/\s+/);
  const seed = seedText ? decodeBase64(seedText) : null;
  if (algorithm !== 'ed25519' || !version || !seed || seed.length !== 32) {
    throw new Error(`${file} is not an ed25519 signing key ("ed25519 <version> <base64 seed>")`);
  }
  return signingKeyFromSeed(`ed25519:${version}`, seed);
}
