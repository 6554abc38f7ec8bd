import { describe, expect, it } from 'vitest';
import { avatarLetter, avatarTone, clip, displayText, topicParts } from './text.ts';

describe('remote text for display', () => {
  it('drops what would reorder or hide the text around it', () => {
    expect(displayText('evil\u202Egnp.exe', 50)).toBe('evilgnp.exe');
    expect(displayText('a\u2066b\u2069c\u0000d\u001B[31m', 50)).toBe('abcd[31m');
    expect(displayText('zero\uFEFFwidth', 50)).toBe('zerowidth');
  });

  it('clips by characters with an ellipsis, never splitting an emoji', () => {
    expect(clip('abcdef', 4)).toBe('abc…');
    expect(clip('abc', 4)).toBe('abc');
    expect(clip('😀😀😀😀😀', 3)).toBe('😀😀…');
    expect(clip('😀😀', 2)).toBe('😀😀');
    const megabyte = 'x'.repeat(1_000_000);
    expect(displayText(megabyte, 200)).toHaveLength(200);
  });

  it('shows nothing for blank or missing text', () => {
    expect(displayText(null, 10)).toBeNull();
    expect(displayText('   \u202E ', 10)).toBeNull();
  });

  it('keeps line breaks only when asked', () => {
    expect(displayText('one\ntwo', 50)).toBe('one two');
    expect(displayText('one\ntwo', 50, true)).toBe('one\ntwo');
  });
});

describe('links in topics', () => {
  it('links http(s) URLs, without the sentence’s punctuation', () => {
    expect(topicParts('Rules: https://example.org/rules. Be kind')).toEqual([
      { text: 'Rules: ' },
      { link: 'https://example.org/rules', text: 'https://example.org/rules' },
      { text: '. Be kind' },
    ]);
  });

  it('links nothing else: javascript:, data:, credentials', () => {
    for (const topic of [
      'javascript:alert(1)',
      'data:text/html,<script>alert(1)</script>',
      'https://user:pw@example.org/',
    ]) {
      expect(topicParts(topic)).toEqual([{ text: topic }]);
    }
  });

  it('keeps markup in a topic as text around the URL it holds', () => {
    expect(topicParts('<a href="https://evil.example/x">click</a>')).toEqual([
      { text: '<a href="' },
      { link: 'https://evil.example/x', text: 'https://evil.example/x' },
      { text: '">click</a>' },
    ]);
  });
});

describe('avatars', () => {
  it('shows the first letter or digit of the name, else of the alias', () => {
    expect(avatarLetter('  linux users', null)).toBe('L');
    expect(avatarLetter('🎉 party', null)).toBe('P');
    expect(avatarLetter(null, 'rust:example.org')).toBe('R');
    expect(avatarLetter('Ωmega', null)).toBe('Ω');
    expect(avatarLetter(null, null)).toBe('#');
  });

  it('gives a room the same colour every time', () => {
    expect(avatarTone('!a:example.org')).toBe(avatarTone('!a:example.org'));
    expect(avatarTone('!a:example.org')).toBeLessThan(8);
  });
});
