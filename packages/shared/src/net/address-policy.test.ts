import { describe, expect, it } from 'vitest';
import { createAddressPolicy } from './address-policy.ts';

const guard = createAddressPolicy([]);
const blocked = (address: string, policy = guard) => !policy.check(address).allowed;

/** Each blocked IPv4 range: addresses inside (first and last), and neighbours just outside. */
const IPV4_RANGES: { range: string; inside: string[]; outside: string[] }[] = [
  {
    range: '127.0.0.0/8',
    inside: ['127.0.0.0', '127.0.0.1', '127.255.255.255'],
    outside: ['126.255.255.255', '128.0.0.0'],
  },
  { range: '10.0.0.0/8', inside: ['10.0.0.0', '10.255.255.255'], outside: ['9.255.255.255', '11.0.0.0'] },
  {
    range: '172.16.0.0/12',
    inside: ['172.16.0.0', '172.31.255.255'],
    outside: ['172.15.255.255', '172.32.0.0'],
  },
  {
    range: '192.168.0.0/16',
    inside: ['192.168.0.0', '192.168.255.255'],
    outside: ['192.167.255.255', '192.169.0.0'],
  },
  {
    range: '100.64.0.0/10',
    inside: ['100.64.0.0', '100.127.255.255'],
    outside: ['100.63.255.255', '100.128.0.0'],
  },
  { range: '192.0.0.0/24', inside: ['192.0.0.0', '192.0.0.255'], outside: ['191.255.255.255', '192.0.1.0'] },
  {
    range: '169.254.0.0/16',
    inside: ['169.254.0.0', '169.254.255.255'],
    outside: ['169.253.255.255', '169.255.0.0'],
  },
  {
    range: '192.88.99.0/24',
    inside: ['192.88.99.0', '192.88.99.255'],
    outside: ['192.88.98.255', '192.88.100.0'],
  },
  {
    range: '198.18.0.0/15',
    inside: ['198.18.0.0', '198.19.255.255'],
    outside: ['198.17.255.255', '198.20.0.0'],
  },
  { range: '192.0.2.0/24', inside: ['192.0.2.0', '192.0.2.255'], outside: ['192.0.1.255', '192.0.3.0'] },
  {
    range: '198.51.100.0/24',
    inside: ['198.51.100.0', '198.51.100.255'],
    outside: ['198.51.99.255', '198.51.101.0'],
  },
  {
    range: '203.0.113.0/24',
    inside: ['203.0.113.0', '203.0.113.255'],
    outside: ['203.0.112.255', '203.0.114.0'],
  },
  {
    range: '224.0.0.0/4',
    inside: ['224.0.0.0', '239.255.255.255'],
    outside: ['223.255.255.255', '240.0.0.0'],
  },
  { range: '0.0.0.0/32', inside: ['0.0.0.0'], outside: ['0.0.0.2'] },
];

const FULL = 'ffff:ffff:ffff:ffff:ffff:ffff';
const IPV6_RANGES: { range: string; inside: string[]; outside: string[] }[] = [
  { range: '::1/128', inside: ['::1', '0:0:0:0:0:0:0:1'], outside: ['::2'] },
  { range: '::/128', inside: ['::', '0:0:0:0:0:0:0:0'], outside: [] },
  {
    range: 'fe80::/10',
    inside: ['fe80::', 'fe80::1%eth0', `febf:ffff:${FULL}`],
    outside: [`fe7f:ffff:${FULL}`],
  },
  {
    range: 'fc00::/7',
    inside: ['fc00::', 'fd12:3456::1', `fdff:ffff:${FULL}`],
    outside: [`fbff:ffff:${FULL}`, 'fe00::'],
  },
  {
    range: '2001:db8::/32',
    inside: ['2001:db8::', `2001:db8:${FULL}`],
    outside: [`2001:db7:${FULL}`, '2001:db9::'],
  },
  { range: 'ff00::/8', inside: ['ff00::', 'ff02::1', `ffff:ffff:${FULL}`], outside: [] },
  { range: 'fec0::/10', inside: ['fec0::', `feff:ffff:${FULL}`], outside: [] },
];

function hexPair(v4: string): [string, string] {
  const [a = 0, b = 0, c = 0, d = 0] = v4.split('.').map(Number);
  return [((a << 8) | b).toString(16), ((c << 8) | d).toString(16)];
}

/** The IPv6 spellings of an IPv4 address that reach it: mapped, compatible and 6to4. */
function ipv6Forms(v4: string): string[] {
  const [high, low] = hexPair(v4);
  return [
    `::ffff:${v4}`,
    `::ffff:${high}:${low}`,
    `0:0:0:0:0:ffff:${high}:${low}`,
    `::${v4}`,
    `::${high}:${low}`,
    `2002:${high}:${low}::`,
    `2002:${high}:${low}:1234:5678:9abc:def0:1`,
  ];
}

describe('the default blocklist (Synapse DEFAULT_IP_RANGE_BLOCKLIST)', () => {
  for (const { range, inside, outside } of IPV4_RANGES) {
    it(`refuses ${range} and its IPv4-mapped, IPv4-compatible and 6to4 forms`, () => {
      for (const address of inside) {
        expect(blocked(address), address).toBe(true);
        for (const form of ipv6Forms(address)) expect(blocked(form), form).toBe(true);
      }
      for (const address of outside) {
        expect(blocked(address), address).toBe(false);
        for (const form of ipv6Forms(address)) expect(blocked(form), form).toBe(false);
      }
    });
  }

  for (const { range, inside, outside } of IPV6_RANGES) {
    it(`refuses ${range}`, () => {
      for (const address of inside) expect(blocked(address), address).toBe(true);
      for (const address of outside) expect(blocked(address), address).toBe(false);
    });
  }

  it('lets public addresses through, in every spelling', () => {
    for (const address of [
      '8.8.8.8',
      '1.1.1.1',
      '2606:4700:4700::1111',
      '2001:4860:4860::8888',
      '::ffff:8.8.8.8',
      '2002:808:808::1',
      '[2606:4700:4700::1111]',
    ]) {
      expect(blocked(address), address).toBe(false);
    }
  });

  it('refuses what is not an IP address', () => {
    expect(blocked('example.org')).toBe(true);
    expect(blocked('')).toBe(true);
    expect(blocked('1.2.3')).toBe(true);
    expect(blocked('::ffff:1.2.3.256')).toBe(true);
  });

  it('says which range matched and how to allow it', () => {
    const verdict = guard.check('127.0.0.1');
    expect(verdict.allowed).toBe(false);
    if (verdict.allowed) return;
    expect(verdict.range).toBe('127.0.0.0/8');
    expect(verdict.message).toContain('127.0.0.1');
    expect(verdict.message).toContain('ATLAS_ALLOW_NETWORKS');
    const mapped = guard.check('::ffff:10.1.2.3');
    expect(mapped.allowed === false && mapped.range).toBe('10.0.0.0/8');
  });
});

describe('allowNetworks', () => {
  it('opens exactly the ranges it names', () => {
    const policy = createAddressPolicy(['127.0.0.0/8']);
    expect(blocked('127.0.0.1', policy)).toBe(false);
    expect(blocked('127.255.255.254', policy)).toBe(false);
    expect(blocked('10.0.0.1', policy)).toBe(true);
    expect(blocked('192.168.1.1', policy)).toBe(true);
    expect(blocked('::1', policy)).toBe(true);
    expect(blocked('169.254.169.254', policy)).toBe(true);
  });

  it('opens a single address without opening its neighbours', () => {
    const policy = createAddressPolicy(['127.0.0.2/32']);
    expect(blocked('127.0.0.2', policy)).toBe(false);
    expect(blocked('127.0.0.1', policy)).toBe(true);
    expect(blocked('127.0.0.3', policy)).toBe(true);
  });

  it('opens the IPv6 forms of an allowed IPv4 range, as Synapse does', () => {
    const policy = createAddressPolicy(['127.0.0.0/8']);
    for (const form of ipv6Forms('127.0.0.1')) expect(blocked(form, policy), form).toBe(false);
    for (const form of ipv6Forms('10.0.0.1')) expect(blocked(form, policy), form).toBe(true);
  });

  it('opens IPv6 ranges', () => {
    const policy = createAddressPolicy(['::1/128', 'fd00::/8']);
    expect(blocked('::1', policy)).toBe(false);
    expect(blocked('fd00::5', policy)).toBe(false);
    expect(blocked('fc00::5', policy)).toBe(true);
    expect(blocked('127.0.0.1', policy)).toBe(true);
  });

  it('rejects an entry that is not a CIDR range, naming it', () => {
    expect(() => createAddressPolicy(['127.0.0.1'])).toThrow(/"127\.0\.0\.1" is not a CIDR range/);
    expect(() => createAddressPolicy(['10.0.0.0/33'])).toThrow(/10\.0\.0\.0\/33/);
    expect(() => createAddressPolicy(['localhost/8'])).toThrow(/localhost/);
  });
});
