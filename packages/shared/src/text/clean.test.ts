import { describe, expect, it } from 'vitest';
import { cleanHttpUrl, cleanMxcUri, cleanName, cleanText, cleanTopic, truncateCodePoints } from './clean.ts';
import { cleanAlias, cleanRoomId, cleanUserId } from './ids.ts';

describe('cleanText', () => {
  it('removes control characters and bidi overrides, keeps RTL text and marks', () => {
    expect(cleanName('good\u0000\u0007 room\u007F\u0085')).toBe('good room');
    expect(cleanName('\u202Egnp.exe\u202C')).toBe('gnp.exe');
    expect(cleanName('a\u2066b\u2069c')).toBe('abc');
    expect(cleanName('غرفة عامة')).toBe('غرفة عامة');
    expect(cleanName('שלום\u200F!')).toBe('שלום\u200F!');
  });

  it('keeps emoji sequences and replaces lone surrogates', () => {
    expect(cleanName('family 👨‍👩‍👧')).toBe('family 👨‍👩‍👧');
    expect(cleanName('bad \uD800 half')).toBe('bad \uFFFD half');
    expect(cleanName('end \uDC00')).toBe('end \uFFFD');
  });

  it('collapses whitespace in names and keeps paragraphs in topics', () => {
    expect(cleanName('  a\n\tb   c ')).toBe('a b c');
    expect(cleanTopic('line one\r\nline two\n\n\n\nthird \t here')).toBe('line one\nline two\n\nthird here');
  });

  it('returns null for empty, whitespace-only and non-string input', () => {
    expect(cleanName('')).toBeNull();
    expect(cleanName(' \u202E \u0000 ')).toBeNull();
    expect(cleanName(42)).toBeNull();
    expect(cleanName(null)).toBeNull();
    expect(cleanName({ toString: () => 'x' })).toBeNull();
  });

  it('caps length in code points without splitting a pair', () => {
    expect(cleanText('x'.repeat(1000), { max: 10 })).toBe('x'.repeat(10));
    expect(truncateCodePoints('😀😀😀', 2)).toBe('😀😀');
    expect(cleanName('😀'.repeat(300))).toBe('😀'.repeat(256));
    expect(cleanTopic('t'.repeat(5000))?.length).toBe(2048);
  });

  it('normalises to NFC so equal names compare equal', () => {
    expect(cleanName('Cafe\u0301')).toBe('Café');
  });
});

describe('identifiers', () => {
  it('accepts room ids of every room version and nothing else', () => {
    expect(cleanRoomId('!abc:example.org')).toBe('!abc:example.org');
    expect(cleanRoomId('!abc:example.org:8448')).toBe('!abc:example.org:8448');
    expect(cleanRoomId('!2yrc7lOMdPnIeVoP2X5m-sUzYJoW3JrmyxnTGf3f1CY')).toBe(
      '!2yrc7lOMdPnIeVoP2X5m-sUzYJoW3JrmyxnTGf3f1CY',
    );
    expect(cleanRoomId('abc:example.org')).toBeNull();
    expect(cleanRoomId('!a b:example.org')).toBeNull();
    expect(cleanRoomId('!abc:exa mple')).toBeNull();
    expect(cleanRoomId(`!${'a'.repeat(300)}:x.org`)).toBeNull();
    expect(cleanRoomId(12)).toBeNull();
  });

  it('keeps aliases exact or drops them', () => {
    expect(cleanAlias('#matrix:matrix.org')).toBe('#matrix:matrix.org');
    expect(cleanAlias('#café:example.org')).toBe('#café:example.org');
    expect(cleanAlias('#a b:example.org')).toBeNull();
    expect(cleanAlias('#x\u202E:example.org')).toBeNull();
    expect(cleanAlias('#nohost')).toBeNull();
    expect(cleanAlias('matrix:matrix.org')).toBeNull();
    expect(cleanAlias('#x:bad host')).toBeNull();
  });

  it('checks user ids, mxc and http URLs', () => {
    expect(cleanUserId('@admin:example.org')).toBe('@admin:example.org');
    expect(cleanUserId('@ad min:example.org')).toBeNull();
    expect(cleanMxcUri('mxc://example.org/AbC_1-2')).toBe('mxc://example.org/AbC_1-2');
    expect(cleanMxcUri('https://example.org/a.png')).toBeNull();
    expect(cleanMxcUri('mxc://example.org/../x')).toBeNull();
    expect(cleanHttpUrl('https://matrix.example.org')).toBe('https://matrix.example.org/');
    expect(cleanHttpUrl('javascript:alert(1)')).toBeNull();
    expect(cleanHttpUrl('https://user:pw@example.org/')).toBeNull();
  });
});
