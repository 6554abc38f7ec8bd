import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';

/**
 * The pages' own files: one stylesheet, one script, one icon. Read once at start, named by a hash
 * of their content (so they can be cached for a year and a new version is a new name), and kept
 * gzipped as well as plain.
 */
export interface Asset {
  name: string;
  /** `/assets/<stem>.<hash>.<ext>` */
  url: string;
  type: string;
  body: Buffer;
  gzip: Buffer;
  etag: string;
}

const TYPES: Record<string, string> = {
  css: 'text/css; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  svg: 'image/svg+xml',
};

const FILES = ['atlas.css', 'atlas.js', 'favicon.svg'] as const;
export type AssetName = (typeof FILES)[number];

function load(name: AssetName): Asset {
  const body = readFileSync(new URL(`./assets/${name}`, import.meta.url));
  const hash = createHash('sha256').update(body).digest('base64url').slice(0, 10);
  const dot = name.lastIndexOf('.');
  const ext = name.slice(dot + 1);
  return {
    name,
    url: `/assets/${name.slice(0, dot)}.${hash}.${ext}`,
    type: TYPES[ext] ?? 'application/octet-stream',
    body,
    gzip: gzipSync(body, { level: 9 }),
    etag: `"${hash}"`,
  };
}

const ASSETS = new Map<AssetName, Asset>(FILES.map((name) => [name, load(name)]));
const BY_PATH = new Map<string, { asset: Asset; immutable: boolean }>();
for (const asset of ASSETS.values()) {
  BY_PATH.set(asset.url, { asset, immutable: true });
  // The plain name too, for whoever links to it by hand; it is revalidated, not kept.
  BY_PATH.set(`/assets/${asset.name}`, { asset, immutable: false });
}

export function assetUrl(name: AssetName): string {
  const asset = ASSETS.get(name);
  if (!asset) throw new Error(`no asset ${name}`);
  return asset.url;
}

export function assetAt(path: string): { asset: Asset; immutable: boolean } | undefined {
  return BY_PATH.get(path);
}

/** Every asset, for size checks. */
export function allAssets(): Asset[] {
  return [...ASSETS.values()];
}
