import { isIP } from 'node:net';

/**
 * A parsed Matrix server name (spec appendix "Server Name"):
 *   server_name = hostname [ ":" port ]
 *   hostname    = IPv4address / "[" IPv6address "]" / dns-name
 */
export interface ServerName {
  /** The name as given, lowercased. */
  name: string;
  /** Hostname without brackets for IPv6 literals. */
  host: string;
  port: number | undefined;
  /** 4 or 6 for IP literals, 0 for DNS names. */
  ipFamily: 0 | 4 | 6;
}

const DNS_NAME = /^[a-z0-9.-]{1,255}$/;
const IPV4 = /^\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}$/;
const PORT = /^\d{1,5}$/;

/** Longest server name Atlas accepts; room ids and aliases embed it, and Synapse caps ids at 255. */
export const MAX_SERVER_NAME_LENGTH = 255;

/** Returns the parsed server name, or null when `input` is not one. Never throws. */
export function parseServerName(input: string): ServerName | null {
  if (typeof input !== 'string' || input.length === 0 || input.length > MAX_SERVER_NAME_LENGTH) return null;
  const name = input.toLowerCase();
  let host: string;
  let portText: string | undefined;
  if (name.startsWith('[')) {
    const close = name.indexOf(']');
    if (close < 0) return null;
    host = name.slice(1, close);
    const rest = name.slice(close + 1);
    if (rest.length > 0) {
      if (!rest.startsWith(':')) return null;
      portText = rest.slice(1);
    }
    if (isIP(host) !== 6) return null;
  } else {
    const colon = name.lastIndexOf(':');
    if (colon >= 0) {
      host = name.slice(0, colon);
      portText = name.slice(colon + 1);
    } else {
      host = name;
    }
    if (host.includes(':')) return null;
    if (IPV4.test(host)) {
      if (isIP(host) !== 4) return null;
    } else if (!DNS_NAME.test(host) || !isPlausibleDnsName(host)) {
      return null;
    }
  }
  let port: number | undefined;
  if (portText !== undefined) {
    if (!PORT.test(portText)) return null;
    port = Number(portText);
    if (port < 1 || port > 65535) return null;
  }
  const family = isIP(host);
  return { name, host, port, ipFamily: family === 4 ? 4 : family === 6 ? 6 : 0 };
}

/**
 * The grammar allows names like "-" or "a..b"; they can never resolve, so Atlas rejects them
 * early instead of spending a probe on them.
 */
function isPlausibleDnsName(host: string): boolean {
  const labels = host.endsWith('.') ? host.slice(0, -1).split('.') : host.split('.');
  return labels.every(
    (label) => label.length > 0 && label.length <= 63 && !label.startsWith('-') && !label.endsWith('-'),
  );
}

export function isValidServerName(input: string): boolean {
  return parseServerName(input) !== null;
}

/** The server part of a room alias (`#local:server`), or null. */
export function serverOfAlias(alias: string): string | null {
  if (!alias.startsWith('#')) return null;
  const colon = alias.indexOf(':');
  if (colon < 0) return null;
  const server = alias.slice(colon + 1);
  return parseServerName(server)?.name ?? null;
}

/**
 * The server part of a room id. Room versions 1-11 use `!opaque:server` (the creator's server);
 * room version 12 ids are `!` plus a hash with no server part, so they return null.
 */
export function serverOfRoomId(roomId: string): string | null {
  if (!roomId.startsWith('!')) return null;
  const colon = roomId.indexOf(':');
  if (colon < 0) return null;
  return parseServerName(roomId.slice(colon + 1))?.name ?? null;
}

/** The server of an `mxc://server/media` URI, or null. */
export function serverOfMxc(uri: string): string | null {
  const match = /^mxc:\/\/([^/]+)\/[A-Za-z0-9_-]+$/.exec(uri);
  return match?.[1] ? (parseServerName(match[1])?.name ?? null) : null;
}

/**
 * The key a server's requests are kept one at a time under (politeness, ADR 0009): the host of its
 * name, as `URL.hostname` gives it (IPv6 literals keep their brackets). Every request to the server
 * uses it, whichever host or port it is sent to (its federation listener, delegation target, client
 * API base URL), so the server gets one request at a time.
 */
export function politenessKeyOf(serverName: string): string {
  try {
    return new URL(`https://${serverName}`).hostname;
  } catch {
    return serverName;
  }
}
