import { createPrivateKey, createPublicKey, type KeyObject, randomBytes, sign, verify } from 'node:crypto';
import { chmod, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
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
 * 0600 on first start. Refuses a key file that others can read.
 */
export async function loadOrCreateSigningKey(file: string): Promise<SigningKey> {
  try {
    const info = await stat(file);
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
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const key = generateSigningKey();
  await mkdir(path.dirname(file), { recursive: true });
  const version = key.keyId.slice('ed25519:'.length);
  await writeFile(file, `ed25519 ${version} ${encodeUnpaddedBase64(key.seed)}\n`, {
    mode: 0o600,
    flag: 'wx',
  });
  await chmod(file, 0o600);
  return key;
}
