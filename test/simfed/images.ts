import { createHash } from 'node:crypto';
import { crc32, createDeflate } from 'node:zlib';
import sharp from 'sharp';

function chunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}

/**
 * A valid PNG of `width`×`height` black pixels, 1 bit each: a decompression bomb at large sizes
 * (20,000² is 400 million pixels, about 1.6 GB as RGBA, in some 60 KB). The rows go through a
 * deflate stream one block at a time, so making it takes a few rows' memory, not the image's.
 */
export async function blackPng(width: number, height: number): Promise<Buffer> {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([1, 0, 0, 0, 0], 8);
  const rowBytes = 1 + Math.ceil(width / 8);
  const rowsPerBlock = Math.max(1, Math.floor((1 << 20) / rowBytes));
  const block = Buffer.alloc(rowBytes * rowsPerBlock);
  const deflate = createDeflate({ level: 9 });
  const out: Buffer[] = [];
  deflate.on('data', (part: Buffer) => out.push(part));
  const done = new Promise<void>((resolve, reject) => {
    deflate.once('end', resolve);
    deflate.once('error', reject);
  });
  for (let row = 0; row < height; row += rowsPerBlock) {
    const slice = block.subarray(0, rowBytes * Math.min(rowsPerBlock, height - row));
    if (!deflate.write(slice)) await new Promise((resolve) => deflate.once('drain', resolve));
  }
  deflate.end();
  await done;
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', Buffer.concat(out)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** A small image of one colour taken from `id`, as an origin would serve a room's avatar thumbnail. */
export async function avatarImage(id: string, format: 'png' | 'jpeg' | 'gif' = 'png'): Promise<Buffer> {
  const hash = createHash('sha256').update(id).digest();
  const background = { r: hash[0] ?? 0, g: hash[1] ?? 0, b: hash[2] ?? 0 };
  return sharp({ create: { width: 120, height: 90, channels: 3, background } })
    [format]()
    .toBuffer();
}
