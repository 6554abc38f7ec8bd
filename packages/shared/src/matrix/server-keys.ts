import type { KeyObject } from 'node:crypto';
import { z } from 'zod';
import { type JsonObject, signJson, verifyJsonSignature } from './signed-json.ts';
import { publicKeyFromBase64, type SigningKey } from './signing-key.ts';

/** How long a published key document says it is valid; receivers cache it until then. */
export const KEY_VALIDITY_MS = 24 * 60 * 60 * 1000;

/** The self-signed `/_matrix/key/v2/server` document (server-server API, "Publishing Keys"). */
export function serverKeyDocument(serverName: string, key: SigningKey, now = Date.now()): JsonObject {
  return signJson(
    {
      server_name: serverName,
      valid_until_ts: now + KEY_VALIDITY_MS,
      verify_keys: { [key.keyId]: { key: key.publicKeyBase64 } },
      old_verify_keys: {},
    },
    serverName,
    key,
  );
}

export const serverKeyResponseSchema = z.object({
  server_name: z.string().max(255),
  valid_until_ts: z.number().int(),
  verify_keys: z.record(z.string().max(64), z.object({ key: z.string().max(128) })),
  old_verify_keys: z
    .record(z.string().max(64), z.object({ key: z.string().max(128), expired_ts: z.number().int() }))
    .optional(),
  signatures: z.record(z.string(), z.record(z.string(), z.string())),
});

export interface VerifiedServerKeys {
  serverName: string;
  validUntilTs: number;
  keys: Map<string, KeyObject>;
}

/**
 * Checks a fetched key document: it must name the server we asked, and be signed by every key it
 * lists under `verify_keys` (spec: "signed by every key in verify_keys").
 */
export function verifyServerKeyDocument(
  document: unknown,
  expectedServerName: string,
): VerifiedServerKeys | null {
  const parsed = serverKeyResponseSchema.safeParse(document);
  if (!parsed.success) return null;
  const doc = parsed.data;
  if (doc.server_name.toLowerCase() !== expectedServerName.toLowerCase()) return null;
  const keys = new Map<string, KeyObject>();
  for (const [keyId, { key }] of Object.entries(doc.verify_keys)) {
    if (!keyId.startsWith('ed25519:')) continue;
    const publicKey = publicKeyFromBase64(key);
    if (!publicKey) return null;
    if (!verifyJsonSignature(document as JsonObject, doc.server_name, keyId, publicKey)) return null;
    keys.set(keyId, publicKey);
  }
  if (keys.size === 0) return null;
  return { serverName: doc.server_name.toLowerCase(), validUntilTs: doc.valid_until_ts, keys };
}
