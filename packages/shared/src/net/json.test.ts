import { describe, expect, it } from 'vitest';
import { jsonDepth, parseJsonBody } from './json.ts';
import { HttpError } from './types.ts';

const bytes = (text: string) => Buffer.from(text);

describe('parseJsonBody', () => {
  it('parses JSON', () => {
    expect(parseJsonBody(bytes('{"chunk":[{"room_id":"!a:b"}]}'), 'https://x/')).toEqual({
      chunk: [{ room_id: '!a:b' }],
    });
  });

  it('counts nesting outside strings only', () => {
    expect(jsonDepth(bytes('{"a":"[[[{{{\\"]]]"}'))).toBe(1);
    expect(jsonDepth(bytes('[[[]],[[[]]]]'))).toBe(4);
  });

  it('refuses JSON nested deeper than the limit, before parsing it', () => {
    const deep = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;
    expect(() => parseJsonBody(bytes(deep), 'https://x/')).toThrow(/nested 100000 levels deep/);
    expect(() => parseJsonBody(bytes('[[[1]]]'), 'https://x/', 2)).toThrow(HttpError);
    expect(parseJsonBody(bytes('[[1]]'), 'https://x/', 2)).toEqual([[1]]);
  });

  it('reports a body that is not JSON as bad_json, naming the URL', () => {
    for (const text of ['', '<html>', '{"a":', '{"a":1}x']) {
      try {
        parseJsonBody(bytes(text), 'https://example.org/x');
        expect.unreachable(text);
      } catch (error) {
        expect(error).toBeInstanceOf(HttpError);
        expect((error as HttpError).code).toBe('bad_json');
        expect((error as HttpError).message).toContain('https://example.org/x');
      }
    }
  });
});
