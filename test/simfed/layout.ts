import { parseServerName } from '@atlas/shared/matrix';
import type { DnsRecord } from '../support/dns-server.ts';
import { address, HOST, PORT } from './addresses.ts';
import type { SimServer } from './model.ts';

/** One bound socket of the simulator: an address and port, serving the hostnames routed to it. */
export interface ListenerKey {
  address: string;
  port: number;
}

export interface Placement {
  /** Where federation traffic lands, or undefined when nothing answers (offline). */
  endpoint: ListenerKey | undefined;
  /**
   * Every (listener, hostname) this server answers on: the federation endpoint under the name
   * the spec says the Host header and TLS name carry, and port 443 under its own hostname for
   * well-known and the client API.
   */
  routes: { listener: ListenerKey; hostname: string }[];
  /** The IP-literal server owning a whole listener (no SNI arrives for it). */
  ownsListener: ListenerKey | undefined;
  records: DnsRecord[];
}

export function listenerId(key: ListenerKey): string {
  return `${key.address}:${key.port}`;
}

/** Where a server lives inside the block and which DNS records point there. */
export function placeServer(server: SimServer, prefix: string): Placement {
  const main = address(prefix, HOST.main);
  const none: Placement = { endpoint: undefined, routes: [], ownsListener: undefined, records: [] };
  if (server.behaviour === 'offline_no_dns') return none;
  if (server.behaviour === 'offline_refused') {
    return { ...none, records: [{ type: 'A', name: server.hostname, address: address(prefix, HOST.dead) }] };
  }
  const parsed = parseServerName(server.name);
  if (!parsed) throw new Error(`simulated server has an invalid name ${server.name}`);

  if (server.resolution === 'ip_literal') {
    const endpoint = { address: parsed.host, port: parsed.port ?? PORT.federation };
    return { endpoint, routes: [], ownsListener: endpoint, records: [] };
  }

  const records: DnsRecord[] = [];
  const routes: Placement['routes'] = [];
  const addressRecords = (name: string, ipv4: string) => {
    if (server.addressRecords !== 'AAAA') records.push({ type: 'A', name, address: ipv4 });
    if (server.addressRecords !== 'A') records.push({ type: 'AAAA', name, address: `::ffff:${ipv4}` });
  };
  const hostAddress = server.serves443 ? main : address(prefix, HOST.no443);
  addressRecords(server.hostname, hostAddress);
  if (hostAddress === main)
    routes.push({ listener: { address: main, port: PORT.https }, hostname: server.hostname });

  let endpoint: ListenerKey;
  switch (server.resolution) {
    case 'default_port':
      endpoint = { address: hostAddress, port: PORT.federation };
      routes.push({ listener: endpoint, hostname: server.hostname });
      break;
    case 'explicit_port':
      endpoint = { address: main, port: parsed.port ?? PORT.federation };
      routes.push({ listener: endpoint, hostname: server.hostname });
      break;
    case 'well_known': {
      const delegated = parseServerName(server.delegatedTo ?? '');
      if (!delegated) throw new Error(`${server.name} delegates to nothing`);
      addressRecords(delegated.host, main);
      endpoint = { address: main, port: delegated.port ?? PORT.federation };
      routes.push({ listener: endpoint, hostname: delegated.host });
      break;
    }
    case 'well_known_srv_matrix_fed':
    case 'well_known_srv_matrix':
    case 'srv_matrix_fed':
    case 'srv_matrix': {
      const srv = server.srv;
      if (!srv) throw new Error(`${server.name} has no SRV record`);
      records.push({ type: 'SRV', name: srv.owner, target: srv.target, port: srv.port });
      addressRecords(srv.target, main);
      endpoint = { address: main, port: srv.port };
      // The spec: Host header and certificate carry the (delegated) server name, not the SRV target.
      const tlsName = server.delegatedTo
        ? (parseServerName(server.delegatedTo)?.host ?? server.hostname)
        : server.hostname;
      routes.push({ listener: endpoint, hostname: tlsName });
      break;
    }
    default:
      throw new Error(`unplaceable resolution ${server.resolution}`);
  }
  return { endpoint, routes, ownsListener: undefined, records };
}
