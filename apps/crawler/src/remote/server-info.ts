import {
  type FederationClient,
  type FederationResponse,
  type VerifiedServerKeys,
  WELL_KNOWN_MAX_BYTES,
} from '@atlas/shared/matrix';
import type { HttpClient } from '@atlas/shared/net';
import { cleanHttpUrl, cleanText, cleanUserId } from '@atlas/shared/text';
import { z } from 'zod';
import { type ClientEndpoint, clientApiRequest } from './client-api.ts';
import { describeMatrixError, RemoteAnswerError } from './errors.ts';
import { PROBE_TIMEOUTS, SMALL_MAX_BYTES } from './timeouts.ts';

/** The calls a probe makes, each parsed at the edge. Transport failures throw HttpError / ResolutionError. */

const versionSchema = z.object({
  server: z.object({ name: z.string().max(1024).optional(), version: z.string().max(1024).optional() }),
});

export interface VersionAnswer {
  softwareName: string | null;
  softwareVersion: string | null;
  response: FederationResponse;
}

/** `GET /_matrix/federation/v1/version` (no auth). Throws RemoteAnswerError unless it is a 200 of the right shape. */
export async function fetchVersion(
  federation: FederationClient,
  serverName: string,
  signal?: AbortSignal,
): Promise<VersionAnswer> {
  const response = await federation.request(serverName, {
    method: 'GET',
    path: '/_matrix/federation/v1/version',
    signed: false,
    maxBytes: SMALL_MAX_BYTES,
    timeouts: PROBE_TIMEOUTS,
    ...(signal ? { signal } : {}),
  });
  if (response.status !== 200) {
    throw new RemoteAnswerError(
      response.status,
      `version endpoint answered ${describeMatrixError(response.status, response.body).text}`,
    );
  }
  const parsed = versionSchema.safeParse(response.body);
  if (!parsed.success)
    throw new RemoteAnswerError(
      200,
      'version endpoint answered something that is not {server:{name,version}}',
    );
  return {
    softwareName: cleanText(parsed.data.server.name, { max: 64 }),
    softwareVersion: cleanText(parsed.data.server.version, { max: 128 }),
    response,
  };
}

export async function fetchKeys(
  federation: FederationClient,
  serverName: string,
  signal?: AbortSignal,
): Promise<VerifiedServerKeys | null> {
  return federation.getServerKeys(serverName, signal ? { signal } : {});
}

const clientWellKnownSchema = z.object({
  'm.homeserver': z.object({ base_url: z.string().max(512) }),
});

/** `https://<server name>/` as a base URL (the server name carries its port, if any). */
export function defaultBaseUrl(serverName: string): string {
  return `https://${serverName}`;
}

async function getJson(http: HttpClient, url: string, maxBytes: number, signal?: AbortSignal) {
  const response = await http.request({
    url,
    method: 'GET',
    headers: { accept: 'application/json' },
    maxBytes,
    maxRedirects: 3,
    timeouts: PROBE_TIMEOUTS,
    ...(signal ? { signal } : {}),
  });
  if (response.status !== 200) return { status: response.status, body: undefined };
  try {
    return { status: 200, body: response.json() };
  } catch {
    return { status: 200, body: undefined };
  }
}

/**
 * The client API base URL from `/.well-known/matrix/client` (client-server API "Server Discovery",
 * fetched the way matrix-js-sdk does: the server name with its port), or null when absent or invalid.
 */
export async function fetchClientBaseUrl(
  http: HttpClient,
  serverName: string,
  signal?: AbortSignal,
): Promise<string | null> {
  const { body } = await getJson(
    http,
    `${defaultBaseUrl(serverName)}/.well-known/matrix/client`,
    WELL_KNOWN_MAX_BYTES,
    signal,
  );
  const parsed = clientWellKnownSchema.safeParse(body);
  if (!parsed.success) return null;
  const url = cleanHttpUrl(parsed.data['m.homeserver'].base_url);
  return url ? url.replace(/\/+$/, '') : null;
}

const supportSchema = z.object({
  contacts: z.array(z.unknown()).max(1000).optional(),
  support_page: z.string().max(1024).optional(),
});
const contactSchema = z.object({
  matrix_id: z.string().max(255).optional(),
  email_address: z.string().max(254).optional(),
  role: z.string().max(128),
});

export interface SupportInfo {
  contacts: { matrixId?: string; email?: string; role: string }[];
  supportPage: string | null;
}

/** `/.well-known/matrix/support` (MSC1929, in the spec since v1.10); null when absent or invalid. */
export async function fetchSupport(
  http: HttpClient,
  serverName: string,
  signal?: AbortSignal,
): Promise<SupportInfo | null> {
  const { body } = await getJson(
    http,
    `${defaultBaseUrl(serverName)}/.well-known/matrix/support`,
    WELL_KNOWN_MAX_BYTES,
    signal,
  );
  const parsed = supportSchema.safeParse(body);
  if (!parsed.success) return null;
  const contacts: SupportInfo['contacts'] = [];
  for (const raw of parsed.data.contacts ?? []) {
    const contact = contactSchema.safeParse(raw);
    if (!contact.success) continue;
    const role = cleanText(contact.data.role, { max: 64 });
    const matrixId = cleanUserId(contact.data.matrix_id);
    const email = cleanEmail(contact.data.email_address);
    if (!role || (!matrixId && !email)) continue;
    contacts.push({ role, ...(matrixId ? { matrixId } : {}), ...(email ? { email } : {}) });
    if (contacts.length === 20) break;
  }
  const supportPage = cleanHttpUrl(parsed.data.support_page);
  if (contacts.length === 0 && !supportPage) return null;
  return { contacts, supportPage };
}

function cleanEmail(input: unknown): string | null {
  return typeof input === 'string' && /^[^\s@<>()"',;:]{1,64}@[A-Za-z0-9.-]{1,189}$/.test(input)
    ? input
    : null;
}

const flowsSchema = z.object({
  flows: z.array(z.object({ stages: z.array(z.string().max(128)).max(20) })).max(20),
});

export interface RegistrationInfo {
  registration: 'open' | 'closed' | 'unknown';
  stages: string[] | null;
}

/**
 * `POST /_matrix/client/v3/register {}`: 401 with `flows` means registration is open (the flows
 * say what it takes: tokens, e-mail, captcha...), 403 means closed. Nothing is registered: without
 * an `auth` dict a homeserver can only answer with its flows.
 */
export async function probeRegistration(
  http: HttpClient,
  endpoints: readonly ClientEndpoint[],
  signal?: AbortSignal,
): Promise<RegistrationInfo> {
  const response = await clientApiRequest(http, endpoints, '/_matrix/client/v3/register', {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: '{}',
    maxBytes: SMALL_MAX_BYTES,
    timeouts: PROBE_TIMEOUTS,
    ...(signal ? { signal } : {}),
  });
  if (response.status === 403) return { registration: 'closed', stages: null };
  if (response.status !== 401) return { registration: 'unknown', stages: null };
  let body: unknown;
  try {
    body = response.json();
  } catch {
    return { registration: 'unknown', stages: null };
  }
  const parsed = flowsSchema.safeParse(body);
  if (!parsed.success) return { registration: 'unknown', stages: null };
  const stages = new Set<string>();
  for (const flow of parsed.data.flows) {
    for (const stage of flow.stages) if (/^[A-Za-z0-9._-]{1,128}$/.test(stage)) stages.add(stage);
  }
  return { registration: 'open', stages: [...stages].sort() };
}
