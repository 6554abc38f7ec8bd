/** Matrix uses unpadded standard base64 for keys and signatures (spec appendix "Unpadded Base64"). */
export function encodeUnpaddedBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('base64').replace(/=+$/, '');
}

/** Accepts padded or unpadded, standard or URL-safe input, as Synapse does. Returns null when invalid. */
export function decodeBase64(text: string): Buffer | null {
  if (!/^[A-Za-z0-9+/_-]*={0,2}$/.test(text)) return null;
  return Buffer.from(text.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
}
