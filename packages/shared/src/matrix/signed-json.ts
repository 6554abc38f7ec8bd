import type { KeyObject } from 'node:crypto';
import { canonicalJson, type JsonValue } from './canonical-json.ts';
import { type SigningKey, signBytes, verifyBytes } from './signing-key.ts';

export type JsonObject = { [key: string]: JsonValue };

/**
 * Signs a JSON object (spec appendix "Signing JSON"): `signatures` and `unsigned` are removed,
 * the rest is encoded as canonical JSON and signed; the signature is added under
 * `signatures[serverName][keyId]`, keeping any signatures already present.
 */
export type Signed<T> = T & { signatures: Record<string, Record<string, string>> };

export function signJson<T extends JsonObject>(object: T, serverName: string, key: SigningKey): Signed<T> {
  const { signatures, unsigned, ...rest } = object;
  const signature = signBytes(key, canonicalJson(rest));
  const existing = (
    signatures && typeof signatures === 'object' && !Array.isArray(signatures) ? signatures : {}
  ) as Record<string, Record<string, string>>;
  const merged = { ...existing, [serverName]: { ...(existing[serverName] ?? {}), [key.keyId]: signature } };
  return { ...object, signatures: merged };
}

/** True when `object` carries a valid signature by `serverName` with `keyId`. */
export function verifyJsonSignature(
  object: JsonObject,
  serverName: string,
  keyId: string,
  publicKey: KeyObject,
): boolean {
  const signatures = object.signatures;
  if (!signatures || typeof signatures !== 'object' || Array.isArray(signatures)) return false;
  const byServer = (signatures as Record<string, JsonValue>)[serverName];
  if (!byServer || typeof byServer !== 'object' || Array.isArray(byServer)) return false;
  const signature = (byServer as Record<string, JsonValue>)[keyId];
  if (typeof signature !== 'string') return false;
  const { signatures: _s, unsigned: _u, ...rest } = object;
  let message: string;
  try {
    message = canonicalJson(rest);
  } catch {
    return false;
  }
  return verifyBytes(publicKey, message, signature);
}
