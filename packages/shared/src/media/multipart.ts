import { MediaError } from './errors.ts';

/** What a federation media answer carries after its JSON part (server-server API, "Content Repository"). */
export type FederationMediaContent =
  | { kind: 'bytes'; contentType: string | undefined; bytes: Buffer }
  | { kind: 'location'; url: string };

export interface FederationMediaAnswer {
  /** The first part: a JSON object (empty today; reserved for metadata). */
  metadata: Record<string, unknown>;
  content: FederationMediaContent;
}

/** Limits for one part's headers; a real answer has two or three short ones. */
const MAX_HEADERS = 32;
const MAX_HEADER_BYTES = 8 * 1024;
const MAX_METADATA_BYTES = 64 * 1024;

/** The `boundary` parameter of a `multipart/mixed` Content-Type (RFC 2046 §5.1.1), or null. */
export function multipartBoundary(contentType: string | undefined): string | null {
  if (!contentType) return null;
  const [essence, ...params] = contentType.split(';');
  if (essence?.trim().toLowerCase() !== 'multipart/mixed') return null;
  for (const param of params) {
    const at = param.indexOf('=');
    if (at < 0 || param.slice(0, at).trim().toLowerCase() !== 'boundary') continue;
    let value = param.slice(at + 1).trim();
    if (value.startsWith('"') && value.endsWith('"') && value.length >= 2) value = value.slice(1, -1);
    // RFC 2046: 1 to 70 characters from a small set.
    return /^[0-9A-Za-z'()+_,./:=? -]{0,69}[0-9A-Za-z'()+_,./:=?-]$/.test(value) ? value : null;
  }
  return null;
}

function fail(message: string): never {
  throw new MediaError('bad_multipart', message);
}

/** Splits a buffered multipart body into its parts' raw bytes (headers and body of each). */
function splitParts(body: Buffer, boundary: string): Buffer[] {
  const delimiter = Buffer.from(`--${boundary}`);
  // The first delimiter may open the body or follow a preamble's line break.
  let at = body.subarray(0, delimiter.length).equals(delimiter) ? 0 : body.indexOf(`\n--${boundary}`);
  if (at < 0) fail('no part delimiter');
  if (at > 0) at += 1;
  const parts: Buffer[] = [];
  for (;;) {
    let cursor = at + delimiter.length;
    if (body[cursor] === 0x2d && body[cursor + 1] === 0x2d) return parts; // "--": the close delimiter
    // Transport padding, then the line break that ends the delimiter line.
    while (body[cursor] === 0x20 || body[cursor] === 0x09) cursor++;
    if (body[cursor] === 0x0d) cursor++;
    if (body[cursor] !== 0x0a) fail('a part delimiter is not followed by a line break');
    cursor++;
    const next = body.indexOf(`\n--${boundary}`, cursor);
    if (next < 0) fail('the body ends before the close delimiter');
    // The line break before a delimiter belongs to the delimiter (RFC 2046 §5.1.1).
    const end = body[next - 1] === 0x0d ? next - 1 : next;
    parts.push(body.subarray(cursor, Math.max(cursor, end)));
    if (parts.length > 2) fail('more than two parts');
    at = next + 1;
  }
}

interface Part {
  headers: Map<string, string>;
  body: Buffer;
}

function parsePart(raw: Buffer): Part {
  const crlf = raw.indexOf('\r\n\r\n');
  const lf = raw.indexOf('\n\n');
  let headerEnd: number;
  let bodyStart: number;
  if (raw.subarray(0, 2).toString('latin1') === '\r\n' || raw[0] === 0x0a) {
    // No headers at all.
    headerEnd = 0;
    bodyStart = raw[0] === 0x0a ? 1 : 2;
  } else if (crlf >= 0 && (lf < 0 || crlf < lf)) {
    headerEnd = crlf;
    bodyStart = crlf + 4;
  } else if (lf >= 0) {
    headerEnd = lf;
    bodyStart = lf + 2;
  } else {
    // Headers only, without the blank line: a Location part written tersely.
    headerEnd = raw.length;
    bodyStart = raw.length;
  }
  if (headerEnd > MAX_HEADER_BYTES) fail(`a part's headers exceed ${MAX_HEADER_BYTES} bytes`);
  const headers = new Map<string, string>();
  const lines = raw.subarray(0, headerEnd).toString('latin1').split(/\r?\n/);
  for (const line of lines) {
    if (line.trim() === '') continue;
    const colon = line.indexOf(':');
    if (colon <= 0) fail(`a part header is malformed ("${line.slice(0, 40)}")`);
    headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
    if (headers.size > MAX_HEADERS) fail(`a part has more than ${MAX_HEADERS} headers`);
  }
  return { headers, body: raw.subarray(bodyStart) };
}

/**
 * Reads a federation media answer (`GET /_matrix/federation/v1/media/{download,thumbnail}/...`):
 * `multipart/mixed` with exactly two parts, a JSON object, then either the media's bytes (with
 * their Content-Type) or a `Location` header to fetch them from. Throws MediaError('bad_multipart').
 */
export function parseFederationMedia(body: Buffer, contentType: string | undefined): FederationMediaAnswer {
  const boundary = multipartBoundary(contentType);
  if (boundary === null)
    fail(`Content-Type is ${contentType ?? 'missing'}, not multipart/mixed with a boundary`);
  const parts = splitParts(body, boundary);
  const [first, second] = parts;
  if (!first || !second || parts.length !== 2) fail(`${parts.length} parts where the spec has two`);

  const meta = parsePart(first);
  const metaType = meta.headers.get('content-type')?.split(';')[0]?.trim().toLowerCase();
  if (metaType !== 'application/json')
    fail(`the first part is ${metaType ?? 'untyped'}, not application/json`);
  if (meta.body.length > MAX_METADATA_BYTES) fail('the JSON part is too large');
  let metadata: unknown;
  try {
    metadata = JSON.parse(meta.body.toString('utf8'));
  } catch {
    fail('the first part is not JSON');
  }
  if (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata)) {
    fail('the first part is not a JSON object');
  }

  const media = parsePart(second);
  const location = media.headers.get('location');
  if (location !== undefined) {
    let url: URL;
    try {
      url = new URL(location);
    } catch {
      fail(`the Location "${location.slice(0, 100)}" is not an absolute URL`);
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:')
      fail(`the Location is ${url.protocol}, not http(s)`);
    return { metadata: metadata as Record<string, unknown>, content: { kind: 'location', url: url.href } };
  }
  return {
    metadata: metadata as Record<string, unknown>,
    content: { kind: 'bytes', contentType: media.headers.get('content-type'), bytes: media.body },
  };
}
