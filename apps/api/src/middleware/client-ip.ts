import { BlockList, isIP } from 'node:net';
import type { MiddlewareHandler } from 'hono';
import type { AppEnv } from '../env.ts';

function blockListOf(cidrs: string[]): BlockList {
  const list = new BlockList();
  for (const cidr of cidrs) {
    const [address, bits] = cidr.split('/');
    if (!address) continue;
    const family = isIP(address) === 6 ? 'ipv6' : 'ipv4';
    list.addSubnet(address, Number(bits), family);
  }
  return list;
}

function trusted(list: BlockList, address: string): boolean {
  const family = isIP(address);
  if (family === 0) return false;
  return list.check(address, family === 6 ? 'ipv6' : 'ipv4');
}

/**
 * The caller's address: the socket's peer, or, when that peer is a trusted proxy, the right-most
 * X-Forwarded-For entry that is not one (entries to the left of it are the client's to forge).
 */
export function clientIp(trustedProxies: string[]): MiddlewareHandler<AppEnv> {
  const proxies = blockListOf(trustedProxies);
  return async (c, next) => {
    const peer = (c.env?.incoming?.socket?.remoteAddress ?? 'unknown').replace(/^::ffff:/, '');
    let ip = peer;
    if (trustedProxies.length > 0 && trusted(proxies, peer)) {
      const forwarded = (c.req.header('x-forwarded-for') ?? '')
        .split(',')
        .map((part) => part.trim().replace(/^::ffff:/, ''))
        .filter((part) => isIP(part) !== 0);
      for (let i = forwarded.length - 1; i >= 0; i--) {
        const hop = forwarded[i];
        if (hop === undefined) continue;
        ip = hop;
        if (!trusted(proxies, hop)) break;
      }
    }
    c.set('clientIp', ip);
    await next();
  };
}
