import { type Cidr, cidrContains, formatIp, type IpBytes, parseCidr, parseIp } from './ip-address.ts';

/**
 * Synapse's default outbound blocklist (`DEFAULT_IP_RANGE_BLOCKLIST` in synapse/config/server.py),
 * with the reason shown to the operator when an address is refused.
 */
const BLOCKED_RANGES: readonly (readonly [string, string])[] = [
  ['127.0.0.0/8', 'loopback'],
  ['10.0.0.0/8', 'private network'],
  ['172.16.0.0/12', 'private network'],
  ['192.168.0.0/16', 'private network'],
  ['100.64.0.0/10', 'carrier-grade NAT'],
  ['192.0.0.0/24', 'IETF protocol assignments'],
  ['169.254.0.0/16', 'link-local'],
  ['192.88.99.0/24', 'former 6to4 relay anycast'],
  ['198.18.0.0/15', 'benchmarking network'],
  ['192.0.2.0/24', 'documentation network'],
  ['198.51.100.0/24', 'documentation network'],
  ['203.0.113.0/24', 'documentation network'],
  ['224.0.0.0/4', 'multicast'],
  ['0.0.0.0/32', 'unspecified address'],
  ['::1/128', 'loopback'],
  ['::/128', 'unspecified address'],
  ['fe80::/10', 'link-local'],
  ['fc00::/7', 'unique local address'],
  ['2001:db8::/32', 'documentation network'],
  ['ff00::/8', 'multicast'],
  ['fec0::/10', 'site-local'],
];

interface Range {
  cidr: Cidr;
  reason: string;
}

const BLOCKED: readonly Range[] = BLOCKED_RANGES.map(([text, reason]) => ({ cidr: parseCidr(text), reason }));

/**
 * The IPv4 address an IPv6 address carries, if it is one of the forms that reach IPv4 hosts:
 * IPv4-mapped `::ffff:a.b.c.d`, IPv4-compatible `::a.b.c.d` (deprecated, still routed by some
 * stacks) and 6to4 `2002:aabb:ccdd::/48`. Synapse blocks these forms of every blocked IPv4 range.
 */
export function embeddedIpv4(address: IpBytes): IpBytes | null {
  if (address.length !== 16) return null;
  const zeros = (from: number, to: number) => address.subarray(from, to).every((b) => b === 0);
  if (zeros(0, 10) && address[10] === 0xff && address[11] === 0xff) return address.slice(12, 16);
  if (zeros(0, 12)) return address.slice(12, 16);
  if (address[0] === 0x20 && address[1] === 0x02) return address.slice(2, 6);
  return null;
}

export type AddressVerdict =
  | { allowed: true }
  | { allowed: false; address: string; range: string; reason: string; message: string };

export interface AddressPolicy {
  /** Whether Atlas may open a connection to this IP address. Non-IP input is refused. */
  check(address: string): AddressVerdict;
}

function blockedMessage(address: string, v4: IpBytes | null, range: string, reason: string): string {
  const single = address.includes(':') ? `${address}/128` : `${address}/32`;
  const shown = v4 ? `${address} (${formatIp(v4)})` : address;
  return (
    `refusing to connect to ${shown}: it is in ${range} (${reason}), which Atlas does not contact ` +
    `unless told to; to allow it, add the range to ATLAS_ALLOW_NETWORKS (e.g. ATLAS_ALLOW_NETWORKS=${single})`
  );
}

/**
 * The SSRF guard's decision: an address is refused when it (or the IPv4 address it embeds) lies in
 * a blocked range, unless it (or the IPv4 address it embeds) lies in one of `allowNetworks`.
 * Like Synapse's `ip_range_whitelist`, allowing an IPv4 range also allows its IPv6 forms.
 */
export function createAddressPolicy(allowNetworks: readonly string[]): AddressPolicy {
  const allowed = allowNetworks.map((text) => parseCidr(text));
  const inAny = (ranges: readonly Cidr[], bytes: IpBytes, v4: IpBytes | null) =>
    ranges.some((cidr) => cidrContains(cidr, bytes) || (v4 !== null && cidrContains(cidr, v4)));
  return {
    check(address) {
      const bytes = parseIp(address);
      if (!bytes) {
        return {
          allowed: false,
          address,
          range: '-',
          reason: 'not an IP address',
          message: `refusing to connect to "${address}": not an IP address`,
        };
      }
      const v4 = embeddedIpv4(bytes);
      if (inAny(allowed, bytes, v4)) return { allowed: true };
      for (const { cidr, reason } of BLOCKED) {
        if (cidrContains(cidr, bytes) || (v4 !== null && cidrContains(cidr, v4))) {
          const shownReason = v4 !== null && cidr.bytes.length === 4 ? `${reason}, as IPv6` : reason;
          return {
            allowed: false,
            address,
            range: cidr.text,
            reason: shownReason,
            message: blockedMessage(address, v4, cidr.text, shownReason),
          };
        }
      }
      return { allowed: true };
    },
  };
}
