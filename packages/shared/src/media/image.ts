import type { Sharp, SharpOptions } from 'sharp';
import { Semaphore } from '../net/index.ts';
import { MediaError } from './errors.ts';

/** The image types Atlas decodes; everything else (SVG first of all) is refused. */
export type ImageType = 'image/png' | 'image/jpeg' | 'image/webp' | 'image/gif';

/** How one avatar is cut: the cards' 96×96 crop, or the room page's scale within 400×400. */
export interface AvatarVariant {
  name: 'thumb' | 'large';
  width: number;
  height: number;
  method: 'crop' | 'scale';
}

export const AVATAR_VARIANTS: Readonly<Record<AvatarVariant['name'], AvatarVariant>> = {
  thumb: { name: 'thumb', width: 96, height: 96, method: 'crop' },
  large: { name: 'large', width: 400, height: 400, method: 'scale' },
};

/**
 * The most pixels an image may declare before Atlas decodes it (4096 × 4096). A thumbnail is far
 * smaller; an origin that sends its full-size upload instead still fits, a decompression bomb (a
 * few kilobytes of PNG that inflate to gigabytes) does not.
 */
export const MAX_INPUT_PIXELS = 4096 * 4096;

/** What Atlas sends for every avatar: re-encoded, metadata stripped. */
export const AVATAR_CONTENT_TYPE = 'image/webp';

/**
 * libvips loaders left on: PNG, JPEG, WebP and GIF from memory. Every other loader (SVG, TIFF,
 * HEIF, PDF, files) is blocked in the decoder itself, so a type the sniffing below lets through by
 * mistake is still refused.
 */
const ALLOWED_LOADERS = [
  'VipsForeignLoadPngBuffer',
  'VipsForeignLoadJpegBuffer',
  'VipsForeignLoadWebpBuffer',
  'VipsForeignLoadNsgifBuffer',
];

/** Images decoded at once; each uses one libvips thread (the machine's other cores serve requests). */
const DECODES_AT_ONCE = 2;

type SharpModule = typeof import('sharp');

let loaded: Promise<SharpModule> | undefined;

/** sharp, loaded on first use (processes that serve no avatars never map libvips) and locked down. */
function loadSharp(): Promise<SharpModule> {
  loaded ??= import('sharp').then((module) => {
    const sharp: SharpModule = module.default;
    sharp.block({ operation: ['VipsForeignLoad'] });
    sharp.unblock({ operation: ALLOWED_LOADERS });
    // Avatars are decoded once each; libvips's operation cache would only hold memory.
    sharp.cache(false);
    sharp.concurrency(1);
    return sharp;
  });
  return loaded;
}

const decodeSlots = new Semaphore(DECODES_AT_ONCE);

const SIGNATURES: readonly [ImageType, (b: Buffer) => boolean][] = [
  [
    'image/png',
    (b) => b.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])),
  ],
  ['image/jpeg', (b) => b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff],
  ['image/gif', (b) => /^GIF8[79]a$/.test(b.subarray(0, 6).toString('latin1'))],
  [
    'image/webp',
    (b) => b.subarray(0, 4).toString('latin1') === 'RIFF' && b.subarray(8, 12).toString('latin1') === 'WEBP',
  ],
];

/** What the first bytes say the body is: one of the allowed types, or a word for the refusal. */
export function sniffImageType(bytes: Buffer): ImageType | 'svg' | 'html' | 'unknown' {
  for (const [type, matches] of SIGNATURES) if (matches(bytes)) return type;
  const head = bytes
    .subarray(0, 1024)
    .toString('utf8')
    .replace(/^\uFEFF/, '')
    .trimStart()
    .toLowerCase();
  if (head.startsWith('<')) {
    if (head.includes('<svg')) return 'svg';
    if (head.includes('<html') || head.startsWith('<!doctype html')) return 'html';
    // Other XML may still be SVG further on; it is no allowed image either way.
    return head.startsWith('<?xml') ? 'svg' : 'unknown';
  }
  return 'unknown';
}

/** Declared types that name no type at all, which the bytes then decide. */
const GENERIC_TYPES = new Set(['application/octet-stream', 'binary/octet-stream']);

/** The declared Content-Type's essence, with the common `image/jpg` spelling folded in. */
function declaredEssence(contentType: string | undefined): string | undefined {
  const essence = contentType?.split(';')[0]?.trim().toLowerCase();
  if (!essence) return undefined;
  return essence === 'image/jpg' || essence === 'image/pjpeg' ? 'image/jpeg' : essence;
}

/**
 * The allowed image type of `bytes`, checked against what the sender declared: a body whose bytes
 * are no allowed image is refused (`refused_type`, SVG included whatever it is called), and one that
 * claims another type than its bytes show is refused too (`type_mismatch`).
 */
export function checkImageType(bytes: Buffer, declared: string | undefined): ImageType {
  const sniffed = sniffImageType(bytes);
  const essence = declaredEssence(declared);
  if (sniffed === 'svg' || sniffed === 'html' || sniffed === 'unknown') {
    const what = sniffed === 'svg' ? 'SVG' : sniffed === 'html' ? 'HTML' : 'no image Atlas decodes';
    throw new MediaError(
      'refused_type',
      `the body is ${what} (declared ${essence ?? 'nothing'}); only PNG, JPEG, WebP and GIF are decoded`,
    );
  }
  if (essence !== undefined && essence !== sniffed && !GENERIC_TYPES.has(essence)) {
    throw new MediaError('type_mismatch', `the body is declared ${essence} but its bytes are ${sniffed}`);
  }
  return sniffed;
}

export interface RenderedAvatar {
  bytes: Buffer;
  contentType: typeof AVATAR_CONTENT_TYPE;
  width: number;
  height: number;
  /** What came in: its type and size in pixels. */
  source: { type: ImageType; width: number; height: number };
}

/**
 * Decodes an avatar and encodes it afresh as WebP, cut to `variant`, with no metadata (EXIF,
 * ICC, XMP are dropped; the orientation is applied first). The declared size is read from the
 * header and checked before any pixel is decoded; GIFs give their first frame only.
 */
export async function renderAvatar(
  bytes: Buffer,
  declaredType: string | undefined,
  variant: AvatarVariant,
): Promise<RenderedAvatar> {
  const type = checkImageType(bytes, declaredType);
  const sharp = await loadSharp();
  const release = await decodeSlots.acquire();
  try {
    const options: SharpOptions = {
      limitInputPixels: MAX_INPUT_PIXELS,
      failOn: 'error',
      sequentialRead: true,
      pages: 1,
      page: 0,
    };
    let header: Awaited<ReturnType<Sharp['metadata']>>;
    try {
      // The header alone, without the pixel limit, so a refusal can say what the image declares;
      // the decoder below has the limit too.
      header = await sharp(bytes, { ...options, limitInputPixels: false }).metadata();
    } catch (error) {
      throw decodeError(error);
    }
    const width = header.width ?? 0;
    const height = header.pageHeight ?? header.height ?? 0;
    if (width * height > MAX_INPUT_PIXELS) {
      throw new MediaError(
        'too_many_pixels',
        `the image declares ${width}×${height} pixels, more than the ${MAX_INPUT_PIXELS} Atlas decodes`,
      );
    }
    const expected = type.slice('image/'.length);
    if (header.format !== expected) {
      throw new MediaError('type_mismatch', `the bytes start like ${type} but decode as ${header.format}`);
    }
    const image = sharp(bytes, options).rotate();
    const resized =
      variant.method === 'crop'
        ? image.resize(variant.width, variant.height, { fit: 'cover', position: 'centre' })
        : image.resize(variant.width, variant.height, { fit: 'inside', withoutEnlargement: true });
    try {
      const { data, info } = await resized
        .webp({ quality: 82, effort: 4 })
        .toBuffer({ resolveWithObject: true });
      return {
        bytes: data,
        contentType: AVATAR_CONTENT_TYPE,
        width: info.width,
        height: info.height,
        source: { type, width, height },
      };
    } catch (error) {
      throw decodeError(error);
    }
  } finally {
    release();
  }
}

function decodeError(error: unknown): MediaError {
  const message = error instanceof Error ? error.message.split('\n')[0] : String(error);
  if (/pixel limit/i.test(message ?? '')) {
    return new MediaError('too_many_pixels', `the decoder refused the image: ${message}`);
  }
  return new MediaError('bad_image', `the decoder refused the image: ${message}`);
}
