import { HttpError } from './types.ts';

/** Deepest nesting accepted from a remote server; Matrix documents nest a handful of levels. */
export const DEFAULT_MAX_JSON_DEPTH = 64;

const OPEN_BRACE = 0x7b;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACE = 0x7d;
const CLOSE_BRACKET = 0x5d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/** The deepest array/object nesting in a JSON text, counted without parsing it. */
export function jsonDepth(bytes: Uint8Array): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < bytes.length; i++) {
    const byte = bytes[i];
    if (inString) {
      if (byte === BACKSLASH) i++;
      else if (byte === QUOTE) inString = false;
    } else if (byte === QUOTE) {
      inString = true;
    } else if (byte === OPEN_BRACE || byte === OPEN_BRACKET) {
      depth++;
      if (depth > deepest) deepest = depth;
    } else if (byte === CLOSE_BRACE || byte === CLOSE_BRACKET) {
      depth--;
    }
  }
  return deepest;
}

/**
 * Parses a remote server's JSON. Nesting is limited before parsing, so code that walks the value
 * recursively (canonical JSON, validation) cannot be driven into a stack overflow.
 */
export function parseJsonBody(body: Uint8Array, url: string, maxDepth = DEFAULT_MAX_JSON_DEPTH): unknown {
  const depth = jsonDepth(body);
  if (depth > maxDepth) {
    throw new HttpError(
      'bad_json',
      `${url} answered JSON nested ${depth} levels deep (limit ${maxDepth})`,
      url,
    );
  }
  const text = Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8');
  try {
    return JSON.parse(text);
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    const what = text.trim().length === 0 ? 'an empty body' : `a body that is not JSON (${detail})`;
    throw new HttpError('bad_json', `${url} answered ${what}`, url);
  }
}
