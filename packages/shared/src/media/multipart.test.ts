import { describe, expect, it } from 'vitest';
import { MediaError } from './errors.ts';
import { multipartBoundary, parseFederationMedia } from './multipart.ts';

const CRLF = '\r\n';

/** An answer framed byte for byte as Synapse writes it (MultipartFileConsumer in synapse/media). */
function synapseAnswer(boundary: string, second: string, bytes: Buffer): Buffer {
  return Buffer.concat([
    Buffer.from(
      `${CRLF}--${boundary}${CRLF}Content-Type: application/json${CRLF}${CRLF}{}${CRLF}--${boundary}${CRLF}`,
    ),
    Buffer.from(`${second}${CRLF}${CRLF}`),
    bytes,
    Buffer.from(`${CRLF}--${boundary}--${CRLF}`),
  ]);
}

function reason(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(MediaError);
    return `${(error as MediaError).reason}: ${(error as MediaError).message}`;
  }
  throw new Error('expected a MediaError');
}

describe('federation media answers', () => {
  it("reads Synapse's framing: the JSON part, then the bytes with their type", () => {
    const bytes = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x0d, 0x0a, 0x2d, 0x2d]);
    const answer = parseFederationMedia(
      synapseAnswer(
        '6b1e0c6f5a',
        'Content-Type: image/png\r\nContent-Disposition: inline; filename=a.png',
        bytes,
      ),
      'multipart/mixed; boundary=6b1e0c6f5a',
    );
    expect(answer.metadata).toEqual({});
    expect(answer.content).toEqual({ kind: 'bytes', contentType: 'image/png', bytes });
  });

  it("reads the spec's example with a Location to follow", () => {
    const body = [
      '--gc0p4Jq0M2Yt08jU534c0p',
      'Content-Type: application/json',
      '',
      '{}',
      '--gc0p4Jq0M2Yt08jU534c0p',
      'Location: https://cdn.example.org/ab/c1/2345.txt',
      '',
      '--gc0p4Jq0M2Yt08jU534c0p--',
    ].join(CRLF);
    const answer = parseFederationMedia(
      Buffer.from(body),
      'multipart/mixed; boundary="gc0p4Jq0M2Yt08jU534c0p"',
    );
    expect(answer.content).toEqual({ kind: 'location', url: 'https://cdn.example.org/ab/c1/2345.txt' });
  });

  it('finds the boundary parameter wherever it stands, and only in multipart/mixed', () => {
    expect(multipartBoundary('multipart/mixed; charset=utf-8; boundary=abc')).toBe('abc');
    expect(multipartBoundary('Multipart/Mixed;BOUNDARY="a b c"')).toBe('a b c');
    expect(multipartBoundary('multipart/form-data; boundary=abc')).toBeNull();
    expect(multipartBoundary('image/png')).toBeNull();
    expect(multipartBoundary(undefined)).toBeNull();
    expect(multipartBoundary(`multipart/mixed; boundary=${'x'.repeat(71)}`)).toBeNull();
  });

  it('refuses what is not the two parts the spec describes', () => {
    const ok = (second: string) => synapseAnswer('b', second, Buffer.from('x'));
    expect(reason(() => parseFederationMedia(Buffer.from('PNG'), 'image/png'))).toMatch(
      /^bad_multipart: Content-Type is image\/png/,
    );
    expect(
      reason(() => parseFederationMedia(Buffer.from('no delimiter'), 'multipart/mixed; boundary=b')),
    ).toMatch(/no part delimiter/);
    const truncated = ok('Content-Type: image/png').subarray(0, 60);
    expect(reason(() => parseFederationMedia(truncated, 'multipart/mixed; boundary=b'))).toMatch(
      /before the close/,
    );
    const three = Buffer.from(
      `--b${CRLF}Content-Type: application/json${CRLF}${CRLF}{}${CRLF}--b${CRLF}${CRLF}x${CRLF}--b${CRLF}${CRLF}y${CRLF}--b--`,
    );
    expect(reason(() => parseFederationMedia(three, 'multipart/mixed; boundary=b'))).toMatch(
      /more than two parts/,
    );
    const notJson = Buffer.from(
      `--b${CRLF}Content-Type: text/plain${CRLF}${CRLF}{}${CRLF}--b${CRLF}${CRLF}x${CRLF}--b--`,
    );
    expect(reason(() => parseFederationMedia(notJson, 'multipart/mixed; boundary=b'))).toMatch(
      /not application\/json/,
    );
    const array = Buffer.from(
      `--b${CRLF}Content-Type: application/json${CRLF}${CRLF}[]${CRLF}--b${CRLF}${CRLF}x${CRLF}--b--`,
    );
    expect(reason(() => parseFederationMedia(array, 'multipart/mixed; boundary=b'))).toMatch(
      /not a JSON object/,
    );
    const script = ok('Location: javascript:alert(1)');
    expect(reason(() => parseFederationMedia(script, 'multipart/mixed; boundary=b'))).toMatch(
      /not http\(s\)/,
    );
    const relative = ok('Location: /media/1');
    expect(reason(() => parseFederationMedia(relative, 'multipart/mixed; boundary=b'))).toMatch(
      /not an absolute URL/,
    );
    const manyHeaders = ok(Array.from({ length: 40 }, (_, i) => `X-${i}: y`).join(CRLF));
    expect(reason(() => parseFederationMedia(manyHeaders, 'multipart/mixed; boundary=b'))).toMatch(
      /more than 32 headers/,
    );
  });
});
