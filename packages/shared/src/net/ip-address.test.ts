import { describe, expect, it } from 'vitest';
import { cidrContains, formatIp, parseCidr, parseIp } from './ip-address.ts';

describe('parseIp', () => {
  it('reads IPv4 and IPv6 in their usual spellings', () => {
    expect(Array.from(parseIp('192.0.2.1') ?? [])).toEqual([192, 0, 2, 1]);
    expect(formatIp(parseIp('::ffff:192.0.2.1') ?? new Uint8Array())).toBe('::ffff:c000:201');
    expect(formatIp(parseIp('2001:DB8:0:0:0:0:0:1') ?? new Uint8Array())).toBe('2001:db8::1');
    expect(formatIp(parseIp('[::1]') ?? new Uint8Array())).toBe('::1');
    expect(formatIp(parseIp('fe80::1%eth0') ?? new Uint8Array())).toBe('fe80::1');
    expect(formatIp(parseIp('1:2:3:4:5:6:7.8.9.10') ?? new Uint8Array())).toBe('1:2:3:4:5:6:708:90a');
    expect(formatIp(parseIp('::') ?? new Uint8Array())).toBe('::');
  });

  it('refuses host names and malformed addresses', () => {
    for (const input of ['example.org', '1.2.3', '1.2.3.4.5', '256.1.1.1', '1::2::3', '::g', '']) {
      expect(parseIp(input), input).toBeNull();
    }
  });
});

describe('CIDR ranges', () => {
  it('matches by prefix, per family', () => {
    const range = parseCidr('172.16.0.0/12');
    expect(range.text).toBe('172.16.0.0/12');
    expect(cidrContains(range, parseIp('172.31.0.1') ?? new Uint8Array())).toBe(true);
    expect(cidrContains(range, parseIp('172.32.0.1') ?? new Uint8Array())).toBe(false);
    expect(cidrContains(range, parseIp('::ffff:172.16.0.1') ?? new Uint8Array())).toBe(false);
    expect(cidrContains(parseCidr('0.0.0.0/0'), parseIp('8.8.8.8') ?? new Uint8Array())).toBe(true);
    expect(cidrContains(parseCidr('fe80::/10'), parseIp('febf::1') ?? new Uint8Array())).toBe(true);
  });
});
