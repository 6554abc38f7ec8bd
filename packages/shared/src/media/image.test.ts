import { crc32, deflateSync } from 'node:zlib';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { MediaError } from './errors.ts';
import { AVATAR_VARIANTS, checkImageType, MAX_INPUT_PIXELS, renderAvatar, sniffImageType } from './image.ts';

function chunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}

/** A valid 1-bit greyscale PNG of `width`×`height` black pixels: tiny on the wire, huge decoded. */
function blackPng(width: number, height: number): Buffer {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([1, 0, 0, 0, 0], 8);
  const row = Buffer.alloc(1 + Math.ceil(width / 8));
  const rows = Buffer.concat(Array.from({ length: height }, () => row));
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(rows, { level: 9 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

const photo = (format: 'png' | 'jpeg' | 'webp' | 'gif', width = 300, height = 200) =>
  sharp({ create: { width, height, channels: 3, background: { r: 200, g: 40, b: 90 } } })
    [format]()
    .toBuffer();

async function refusal(run: () => Promise<unknown>): Promise<string> {
  try {
    await run();
  } catch (error) {
    expect(error).toBeInstanceOf(MediaError);
    return `${(error as MediaError).reason}: ${(error as MediaError).message}`;
  }
  throw new Error('expected a MediaError');
}

describe('avatar images', () => {
  it.each(['png', 'jpeg', 'webp', 'gif'] as const)('re-encodes %s as a 96×96 WebP crop', async (format) => {
    const input = await photo(format);
    const out = await renderAvatar(input, `image/${format}`, AVATAR_VARIANTS.thumb);
    expect(out).toMatchObject({ contentType: 'image/webp', width: 96, height: 96 });
    expect(out.source).toEqual({ type: `image/${format}`, width: 300, height: 200 });
    const decoded = await sharp(out.bytes).metadata();
    expect([decoded.format, decoded.width, decoded.height]).toEqual(['webp', 96, 96]);
  });

  it('scales within 400×400 for the room page, never up', async () => {
    const big = await renderAvatar(await photo('png', 800, 600), 'image/png', AVATAR_VARIANTS.large);
    expect([big.width, big.height]).toEqual([400, 300]);
    const small = await renderAvatar(await photo('png', 120, 80), 'image/png', AVATAR_VARIANTS.large);
    expect([small.width, small.height]).toEqual([120, 80]);
  });

  it('strips metadata: EXIF, ICC and XMP do not survive', async () => {
    const tagged = await sharp({ create: { width: 64, height: 64, channels: 3, background: '#123456' } })
      .jpeg()
      .withExif({ IFD0: { Copyright: 'secret-location', Artist: 'someone' } })
      .withIccProfile('p3')
      .toBuffer();
    expect((await sharp(tagged).metadata()).exif).toBeDefined();
    const out = await renderAvatar(tagged, 'image/jpeg', AVATAR_VARIANTS.thumb);
    const meta = await sharp(out.bytes).metadata();
    expect(meta.exif).toBeUndefined();
    expect(meta.icc).toBeUndefined();
    expect(meta.xmp).toBeUndefined();
    expect(out.bytes.includes('secret-location')).toBe(false);
  });

  it('refuses SVG, HTML and unknown bytes whatever they are called', async () => {
    const svg = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>');
    expect(await refusal(() => renderAvatar(svg, 'image/svg+xml', AVATAR_VARIANTS.thumb))).toMatch(
      /^refused_type: the body is SVG/,
    );
    expect(await refusal(() => renderAvatar(svg, 'image/png', AVATAR_VARIANTS.thumb))).toMatch(
      /^refused_type/,
    );
    const xml = Buffer.from('<?xml version="1.0"?>\n<!DOCTYPE svg><svg/>');
    expect(sniffImageType(xml)).toBe('svg');
    const html = Buffer.from('<!doctype html><html><script>alert(1)</script></html>');
    expect(await refusal(() => renderAvatar(html, 'image/png', AVATAR_VARIANTS.thumb))).toMatch(
      /body is HTML/,
    );
    const tiff = await sharp({ create: { width: 8, height: 8, channels: 3, background: '#000' } })
      .tiff()
      .toBuffer();
    expect(await refusal(() => renderAvatar(tiff, 'image/tiff', AVATAR_VARIANTS.thumb))).toMatch(
      /^refused_type/,
    );
  });

  it('refuses a body that lies about its type', async () => {
    const jpeg = await photo('jpeg');
    expect(() => checkImageType(jpeg, 'image/png')).toThrow(
      /declared image\/png but its bytes are image\/jpeg/,
    );
    expect(checkImageType(jpeg, 'image/jpg; charset=binary')).toBe('image/jpeg');
    expect(checkImageType(jpeg, 'application/octet-stream')).toBe('image/jpeg');
    expect(checkImageType(jpeg, undefined)).toBe('image/jpeg');
    expect(() => checkImageType(jpeg, 'text/html')).toThrow(MediaError);
  });

  it('refuses a decompression bomb from its header, before decoding a pixel', async () => {
    const bomb = blackPng(20_000, 20_000);
    expect(bomb.length).toBeLessThan(100_000);
    expect(await refusal(() => renderAvatar(bomb, 'image/png', AVATAR_VARIANTS.thumb))).toMatch(
      /^too_many_pixels: the image declares 20000×20000 pixels/,
    );
    // Just within the limit still works.
    const edge = await renderAvatar(blackPng(4096, 4096), 'image/png', AVATAR_VARIANTS.thumb);
    expect(edge.source.width * edge.source.height).toBe(MAX_INPUT_PIXELS);
  });

  it('refuses truncated and corrupt images', async () => {
    const png = await photo('png');
    expect(
      await refusal(() => renderAvatar(png.subarray(0, 60), 'image/png', AVATAR_VARIANTS.thumb)),
    ).toMatch(/^bad_image/);
    const garbage = Buffer.concat([png.subarray(0, 8), Buffer.alloc(200, 7)]);
    expect(await refusal(() => renderAvatar(garbage, 'image/png', AVATAR_VARIANTS.thumb))).toMatch(
      /^bad_image/,
    );
  });
});
