import { describe, expect, it } from 'vitest';
import {
  isValidServerName,
  MAX_SERVER_NAME_LENGTH,
  parseServerName,
  serverOfAlias,
  serverOfMxc,
  serverOfRoomId,
} from './server-name.ts';

describe('parseServerName (spec appendix "Server Name")', () => {
  it('reads DNS names, with and without a port', () => {
    expect(parseServerName('matrix.org')).toEqual({
      name: 'matrix.org',
      host: 'matrix.org',
      port: undefined,
      ipFamily: 0,
    });
    expect(parseServerName('Matrix.ORG:8448')).toEqual({
      name: 'matrix.org:8448',
      host: 'matrix.org',
      port: 8448,
      ipFamily: 0,
    });
    expect(parseServerName('localhost')?.host).toBe('localhost');
    expect(parseServerName('a-b.c-d.example')?.host).toBe('a-b.c-d.example');
    expect(parseServerName('example.org.')?.host).toBe('example.org.');
    expect(parseServerName('example.org:1')?.port).toBe(1);
    expect(parseServerName('example.org:65535')?.port).toBe(65535);
  });

  it('reads IPv4 and bracketed IPv6 literals', () => {
    expect(parseServerName('1.2.3.4')).toEqual({
      name: '1.2.3.4',
      host: '1.2.3.4',
      port: undefined,
      ipFamily: 4,
    });
    expect(parseServerName('1.2.3.4:1234')?.port).toBe(1234);
    expect(parseServerName('[1234:5678::abcd]')).toEqual({
      name: '[1234:5678::abcd]',
      host: '1234:5678::abcd',
      port: undefined,
      ipFamily: 6,
    });
    expect(parseServerName('[::1]:8448')).toEqual({
      name: '[::1]:8448',
      host: '::1',
      port: 8448,
      ipFamily: 6,
    });
    expect(parseServerName('[::FFFF:1.2.3.4]')?.host).toBe('::ffff:1.2.3.4');
  });

  it('refuses what the grammar does not allow', () => {
    for (const input of [
      '',
      ':8448',
      'example.org:',
      'example.org:0',
      'example.org:65536',
      'example.org:123456',
      'example.org:-1',
      'example.org:80a',
      'example.org:8448:8448',
      '::1',
      '[::1',
      '[::1]x',
      '[::1]:',
      '[1.2.3.4]',
      '[example.org]',
      '256.1.1.1',
      '1.2.3.4.5:',
      'exa mple.org',
      'example_org',
      'ex@mple.org',
      'exämple.org',
      'example.org/path',
      'https://example.org',
    ]) {
      expect(parseServerName(input), JSON.stringify(input)).toBeNull();
      expect(isValidServerName(input)).toBe(false);
    }
  });

  it('refuses names that can never resolve', () => {
    for (const input of [
      '-',
      '-example.org',
      'example-.org',
      'a..b',
      '.example.org',
      `${'a'.repeat(64)}.org`,
    ]) {
      expect(parseServerName(input), input).toBeNull();
    }
    expect(parseServerName(`${'a'.repeat(63)}.org`)).not.toBeNull();
  });

  it(`accepts names up to ${MAX_SERVER_NAME_LENGTH} characters, port included, and no longer`, () => {
    const label = 'a'.repeat(63);
    const longest = [label, label, label, label].join('.');
    expect(longest).toHaveLength(255);
    expect(parseServerName(longest)).not.toBeNull();
    expect(parseServerName(`${longest}a`)).toBeNull();
    expect(parseServerName(`${longest.slice(0, 251)}:8448`)).toBeNull();
    expect(parseServerName(`${longest.slice(0, 250)}:8448`)).not.toBeNull();
  });

  it('never throws on hostile input', () => {
    for (const input of ['[', ']', '[]', '[]:1', ':', '%', '\u0000', 'a'.repeat(100_000)]) {
      expect(() => parseServerName(input)).not.toThrow();
      expect(parseServerName(input)).toBeNull();
    }
    expect(parseServerName(undefined as unknown as string)).toBeNull();
  });
});

describe('server names inside identifiers', () => {
  it('takes the server of an alias, a room id and an mxc URI', () => {
    expect(serverOfAlias('#room:Example.org')).toBe('example.org');
    expect(serverOfAlias('#room:[::1]:8448')).toBe('[::1]:8448');
    expect(serverOfAlias('!room:example.org')).toBeNull();
    expect(serverOfAlias('#room:bad name')).toBeNull();
    expect(serverOfRoomId('!abc:example.org:8448')).toBe('example.org:8448');
    expect(serverOfMxc('mxc://media.example.org/AbC_1-2')).toBe('media.example.org');
    expect(serverOfMxc('mxc://media.example.org/a/b')).toBeNull();
  });

  it('finds no server in room version 12 ids', () => {
    expect(serverOfRoomId('!31hneApxJ_1o-63DmFrpeqnkFfWppnzWso1JvH3ogLM')).toBeNull();
  });
});
