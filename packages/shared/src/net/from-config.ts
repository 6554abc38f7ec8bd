import { readFile } from 'node:fs/promises';
import { type Config, ConfigError } from '../config/index.ts';
import { USER_AGENT } from '../version.ts';
import type { HttpClientOptions } from './types.ts';

/**
 * The HTTP client's options from Atlas's configuration: ATLAS_DNS_SERVERS, ATLAS_ALLOW_NETWORKS and
 * the PEM file named by ATLAS_CA_FILE, read now so a bad path stops Atlas at start with its name.
 */
export async function httpClientOptionsFromConfig(
  config: Pick<Config, 'dnsServers' | 'caFile' | 'allowNetworks'>,
  options: { maxInFlight: number; userAgent?: string },
): Promise<HttpClientOptions> {
  let ca: string | undefined;
  if (config.caFile) {
    try {
      ca = await readFile(config.caFile, 'utf8');
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? String(error);
      throw new ConfigError(
        `Invalid configuration:\n  ATLAS_CA_FILE: cannot read ${config.caFile} (${code})`,
      );
    }
    if (!ca.includes('-----BEGIN CERTIFICATE-----')) {
      throw new ConfigError(
        `Invalid configuration:\n  ATLAS_CA_FILE: ${config.caFile} holds no PEM certificate ("-----BEGIN CERTIFICATE-----")`,
      );
    }
  }
  return {
    ...(config.dnsServers ? { dnsServers: config.dnsServers } : {}),
    ...(ca ? { ca } : {}),
    allowNetworks: config.allowNetworks,
    userAgent: options.userAgent ?? USER_AGENT,
    maxInFlight: options.maxInFlight,
  };
}
