import path from 'node:path';
import type { Config } from '@atlas/shared/config';
import type { Logger } from '@atlas/shared/log';
import { type FederationIdentity, loadOrCreateSigningKey, type SigningKey } from '@atlas/shared/matrix';

/** Which part of Atlas a process plays; it decides who serves the key and what to warn about. */
export type Role = 'start' | 'crawl' | 'crawler' | 'api';

export interface IdentityPlan {
  signingKey: SigningKey;
  /** Set when Atlas signs federation requests (ATLAS_SERVER_NAME is set). */
  identity: FederationIdentity | undefined;
  /** This process serves the key over TLS on the federation port. */
  servesKeyOverTls: boolean;
  /** A plain message for the operator about what Atlas can and cannot reach, when it matters. */
  notice: string | undefined;
}

/** The signing key lives in the data folder, generated on first start, mode 0600. */
export function signingKeyPath(config: Pick<Config, 'dataDir'>): string {
  return path.join(config.dataDir, 'signing.key');
}

/**
 * Atlas's federation identity for this process. Remote servers verify a signed request by fetching
 * `https://<ATLAS_SERVER_NAME>/_matrix/key/v2/server`, so crawling over federation needs a server
 * name and someone serving the key over TLS: this process (ATLAS_TLS_*), or, in the compose stack,
 * the `api` role behind the TLS proxy. Without a server name Atlas crawls what needs no signature.
 */
export async function planIdentity(config: Config, role: Role): Promise<IdentityPlan> {
  const signingKey = await loadOrCreateSigningKey(signingKeyPath(config));
  const servesKeyOverTls = config.federation !== undefined && role !== 'crawler';
  if (!config.serverName) {
    const fallbacks = [
      'the client API of servers that publish their directory without a token',
      ...(config.homeserver ? [`the homeserver at ${config.homeserver.url} (via-homeserver mode)`] : []),
    ];
    const notice =
      role === 'api'
        ? undefined
        : 'Atlas has no federation identity: ATLAS_SERVER_NAME is unset, so no server can verify a signed ' +
          `request from it. It reads directories only through ${fallbacks.join(' and ')}; room complexity is ` +
          'estimated from member counts. To crawl over federation, set ATLAS_SERVER_NAME to a name that ' +
          'resolves to this machine, and ATLAS_TLS_CERT_FILE and ATLAS_TLS_KEY_FILE to a certificate for it.';
    return { signingKey, identity: undefined, servesKeyOverTls: false, notice };
  }
  const identity = { serverName: config.serverName, signingKey };
  const notice =
    !servesKeyOverTls && (role === 'start' || role === 'crawl')
      ? `ATLAS_SERVER_NAME is ${config.serverName}, but this process serves no TLS federation listener ` +
        "(ATLAS_TLS_CERT_FILE and ATLAS_TLS_KEY_FILE are unset). Remote servers verify Atlas's signed requests " +
        `by fetching https://${config.serverName}/_matrix/key/v2/server, so something else must serve it (a TLS ` +
        'proxy in front of `atlas api`); servers that refuse the signature are read through their client API ' +
        'where they allow it.'
      : undefined;
  return { signingKey, identity, servesKeyOverTls, notice };
}

/** Writes the identity notice where a person sees it (stderr, plain), and to the log. */
export function announceIdentity(plan: IdentityPlan, stderr: NodeJS.WritableStream, log: Logger): void {
  if (plan.notice) {
    stderr.write(`atlas: ${plan.notice}\n`);
    log.warn({ serverName: plan.identity?.serverName ?? null }, 'federation identity: see the notice above');
  }
}
