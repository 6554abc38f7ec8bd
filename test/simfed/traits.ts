import type { ResolutionStep } from '@atlas/shared/matrix';
import { PORT } from './addresses.ts';
import type { AddressRecords, Behaviour, FoundVia, SimServer, Software } from './model.ts';
import type { Rng } from './prng.ts';

export const DOMAIN = 'simfed.test';

/** How a server is located; `well_known` comes in three shapes. */
export type Placement =
  | 'default_port'
  | 'default_port_no443'
  | 'explicit_port'
  | 'ip_literal'
  | 'ip_literal_port'
  | 'wk_name_port'
  | 'wk_name_443'
  | 'wk_name'
  | 'wk_srv_fed'
  | 'wk_srv_matrix'
  | 'srv_fed'
  | 'srv_matrix';

export interface Traits {
  placement?: Placement;
  behaviour?: Behaviour;
  publishes?: boolean;
  clientDirectory?: boolean;
  malformed?: number;
  addressRecords?: AddressRecords;
}

/**
 * The servers right after the seeds get these traits, so that even a small federation covers
 * every resolution path, every failure mode and every directory state.
 */
export const FORCED: Traits[] = [
  { placement: 'wk_name_port' },
  { placement: 'srv_fed' },
  { placement: 'explicit_port' },
  { placement: 'wk_srv_fed' },
  { placement: 'ip_literal_port' },
  { placement: 'wk_name' },
  { placement: 'srv_matrix' },
  { placement: 'wk_srv_matrix' },
  { placement: 'wk_name_443' },
  { placement: 'default_port_no443' },
  { placement: 'ip_literal' },
  { behaviour: 'offline_refused' },
  { behaviour: 'offline_no_dns' },
  { publishes: false, clientDirectory: false },
  { publishes: false, clientDirectory: true },
  { behaviour: 'slow' },
  { behaviour: 'stall_response' },
  { behaviour: 'trickle' },
  { behaviour: 'stall_tls' },
  { malformed: 5 },
  { addressRecords: 'AAAA' },
  { addressRecords: 'A+AAAA', placement: 'srv_fed' },
];

/** The first non-seed servers are found these ways, in this order, so each path is exercised. */
export const FORCED_FOUND_VIA: FoundVia['kind'][] = ['alias', 'query_directory', 'room_id', 'hierarchy'];

export const PLACEMENT_WEIGHTS: [Placement, number][] = [
  ['default_port', 50],
  ['default_port_no443', 5],
  ['explicit_port', 8],
  ['wk_name_port', 8],
  ['wk_name_443', 5],
  ['wk_name', 4],
  ['wk_srv_fed', 6],
  ['wk_srv_matrix', 2],
  ['srv_fed', 8],
  ['srv_matrix', 2],
];

export const BEHAVIOUR_WEIGHTS: [Behaviour, number][] = [
  ['normal', 900],
  ['offline_refused', 30],
  ['offline_no_dns', 30],
  ['slow', 10],
  ['stall_response', 10],
  ['trickle', 10],
  ['stall_tls', 10],
];

export const SOFTWARE: [Software, number][] = [
  [{ name: 'Synapse', version: '1.163.2' }, 40],
  [{ name: 'Synapse', version: '1.140.0' }, 15],
  [{ name: 'Synapse', version: '1.98.0' }, 8],
  [{ name: 'conduwuit', version: '0.5.0-rc.3' }, 6],
  [{ name: 'continuwuity', version: '0.5.0-rc.7' }, 6],
  [{ name: 'Conduit', version: '0.10.9' }, 8],
  [{ name: 'Dendrite', version: '0.15.2' }, 5],
  [{ name: 'tuwunel', version: '1.4.3' }, 4],
];

export const REGISTRATION_FLOWS: string[][][] = [
  [['m.login.dummy']],
  [['m.login.registration_token']],
  [['m.login.recaptcha', 'm.login.terms', 'm.login.email.identity']],
  [['m.login.email.identity'], ['m.login.msisdn']],
  [['m.login.terms', 'm.login.registration_token']],
];

export const MAX_SLOW_SERVER_ROOMS = 10;

export const HOST_PREFIXES = ['hs', 'matrix', 'chat', 'm', 'talk', 'home'];

/** The server name, resolution step, delegation and SRV record a placement gives a server. */
export function locate(
  placement: Placement,
  hostname: string,
  index: number,
  rng: Rng,
): Pick<SimServer, 'name' | 'resolution' | 'delegatedTo' | 'srv'> {
  const srvTarget = `srv${index}.hosting.${DOMAIN}`;
  const none = { delegatedTo: undefined, srv: undefined };
  const step = (resolution: ResolutionStep) => resolution;
  switch (placement) {
    case 'default_port':
    case 'default_port_no443':
      return { name: hostname, resolution: step('default_port'), ...none };
    case 'ip_literal':
      return { name: hostname, resolution: step('ip_literal'), ...none };
    case 'ip_literal_port':
      return { name: `${hostname}:${PORT.explicit[0]}`, resolution: step('ip_literal'), ...none };
    case 'explicit_port':
      return { name: `${hostname}:${rng.pick(PORT.explicit)}`, resolution: step('explicit_port'), ...none };
    case 'wk_name_port':
      return {
        name: hostname,
        resolution: 'well_known',
        delegatedTo: `matrix.${hostname}:${PORT.delegated}`,
        srv: undefined,
      };
    case 'wk_name_443':
      return {
        name: hostname,
        resolution: 'well_known',
        delegatedTo: `matrix.${hostname}:443`,
        srv: undefined,
      };
    case 'wk_name':
      return { name: hostname, resolution: 'well_known', delegatedTo: `fed.${hostname}`, srv: undefined };
    case 'wk_srv_fed':
    case 'wk_srv_matrix': {
      const delegated = `fed.${hostname}`;
      const service = placement === 'wk_srv_fed' ? '_matrix-fed._tcp' : '_matrix._tcp';
      return {
        name: hostname,
        resolution: placement === 'wk_srv_fed' ? 'well_known_srv_matrix_fed' : 'well_known_srv_matrix',
        delegatedTo: delegated,
        srv: { service, owner: `${service}.${delegated}`, target: srvTarget, port: PORT.srv },
      };
    }
    case 'srv_fed':
    case 'srv_matrix': {
      const service = placement === 'srv_fed' ? '_matrix-fed._tcp' : '_matrix._tcp';
      return {
        name: hostname,
        resolution: placement === 'srv_fed' ? 'srv_matrix_fed' : 'srv_matrix',
        delegatedTo: undefined,
        srv: { service, owner: `${service}.${hostname}`, target: srvTarget, port: PORT.srv },
      };
    }
  }
}
