import http from 'node:http';
import { gunzipSync, gzipSync } from 'node:zlib';
import { median } from '../search/measure.ts';

/** What a browser sends for a page or an asset (only the encodings matter to the sizes). */
const BROWSER_HEADERS = { accept: 'text/html,*/*', 'accept-encoding': 'gzip, deflate, br, zstd' };

interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  /** The body as it came over the wire, not decoded. */
  body: Buffer;
}

/** A GET as a browser asks for it, one at a time over a kept-alive connection. */
function get(agent: http.Agent, url: string): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const request = http.get(url, { agent, headers: BROWSER_HEADERS }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () =>
        resolve({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks) }),
      );
      response.on('error', reject);
    });
    request.setTimeout(30_000, () => request.destroy(new Error(`timed out: ${url}`)));
    request.on('error', reject);
  });
}

function decoded(response: RawResponse): Buffer {
  const encoding = response.headers['content-encoding'];
  if (!encoding || encoding === 'identity') return response.body;
  if (encoding === 'gzip') return gunzipSync(response.body);
  throw new Error(`unexpected content-encoding ${encoding}`);
}

export interface PageSizes {
  pages: number;
  /** Paths that did not answer 200 (the load counts them as errors too). */
  failed: { path: string; status: number }[];
  /** Bytes of HTML as served (the pages are not compressed by Atlas). */
  medianBytes: number;
  largest: { path: string; bytes: number; gzipBytes: number; cards: number };
  /** Content-encoding of the pages as served, when there was one. */
  encodings: string[];
  /** One page's HTML (the largest), to find the assets it loads. */
  html: string;
}

/**
 * Every path once, one at a time: the size of each page as served, and which is largest. Also the
 * warm-up: afterwards the answer cache holds every query of the mix and the code is compiled.
 */
export async function pageSizes(base: string, paths: string[]): Promise<PageSizes> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const failed: PageSizes['failed'] = [];
  const sizes: number[] = [];
  const encodings = new Set<string>();
  let largest = { path: '', bytes: -1, html: '' };
  try {
    for (const path of new Set(paths)) {
      const response = await get(agent, base + path);
      if (response.status !== 200) {
        failed.push({ path, status: response.status });
        continue;
      }
      const encoding = response.headers['content-encoding'];
      if (encoding) encodings.add(encoding);
      sizes.push(response.body.length);
      if (response.body.length > largest.bytes) {
        largest = { path, bytes: response.body.length, html: decoded(response).toString('utf8') };
      }
    }
  } finally {
    agent.destroy();
  }
  return {
    pages: sizes.length,
    failed,
    medianBytes: median(sizes),
    largest: {
      path: largest.path,
      bytes: largest.bytes,
      gzipBytes: gzipSync(largest.html).length,
      cards: (largest.html.match(/<article\b/g) ?? []).length,
    },
    encodings: [...encodings],
    html: largest.html,
  };
}

export interface AssetSize {
  path: string;
  kind: 'css' | 'js' | 'other';
  /** Bytes as served to a browser that accepts gzip. */
  servedBytes: number;
  encoding: string;
  /** Bytes once decoded. */
  bytes: number;
}

/** The stylesheets, scripts and icons a page's HTML loads, in its order. */
export function assetPaths(html: string): { path: string; kind: AssetSize['kind'] }[] {
  const found: { path: string; kind: AssetSize['kind'] }[] = [];
  for (const tag of html.match(/<(link|script)\b[^>]*>/g) ?? []) {
    const attribute = (name: string) => tag.match(new RegExp(`\\b${name}="([^"]*)"`))?.[1];
    if (tag.startsWith('<script')) {
      const src = attribute('src');
      if (src) found.push({ path: src, kind: 'js' });
      continue;
    }
    const rel = attribute('rel') ?? '';
    const href = attribute('href');
    if (!href || !/\b(stylesheet|icon|preload|modulepreload)\b/.test(rel)) continue;
    found.push({ path: href, kind: rel === 'stylesheet' ? 'css' : rel === 'modulepreload' ? 'js' : 'other' });
  }
  return found;
}

/** Each asset of the pages once, as a browser accepting gzip is served it. */
export async function assetSizes(base: string, htmls: string[]): Promise<AssetSize[]> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const seen = new Map<string, AssetSize['kind']>();
  for (const html of htmls) for (const { path, kind } of assetPaths(html)) seen.set(path, kind);
  const sizes: AssetSize[] = [];
  try {
    for (const [path, kind] of seen) {
      if (!path.startsWith('/')) throw new Error(`an asset from elsewhere: ${path}`);
      const response = await get(agent, base + path);
      if (response.status !== 200) throw new Error(`${path} answered ${response.status}`);
      sizes.push({
        path,
        kind,
        servedBytes: response.body.length,
        encoding: String(response.headers['content-encoding'] ?? 'identity'),
        bytes: decoded(response).length,
      });
    }
  } finally {
    agent.destroy();
  }
  return sizes;
}

/** The HTML of a few pages, one of each kind, for the assets they load. */
export async function pagesHtml(base: string, paths: string[]): Promise<string[]> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  try {
    const htmls: string[] = [];
    for (const path of paths) htmls.push(decoded(await get(agent, base + path)).toString('utf8'));
    return htmls;
  } finally {
    agent.destroy();
  }
}
