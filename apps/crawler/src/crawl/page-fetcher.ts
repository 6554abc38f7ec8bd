import type { CrawlMode, Server } from '@atlas/shared/db';
import type { CrawlerContext } from '../context.ts';
import type { DirectoryPage } from '../directory/public-rooms.ts';
import { type ClientEndpoint, clientEndpoints } from '../remote/client-api.ts';
import { fetchClientPage, fetchFederationPage } from '../remote/directory.ts';

/** Fetches one page of a directory a given way; `since` is undefined for the first page. */
export type PageFetcher = (
  mode: CrawlMode,
  searchTerm?: string,
) => (since: string | undefined) => Promise<DirectoryPage>;

/**
 * The ways to fetch pages of one server's directory until `deadline`: signed over federation,
 * through its client API (endpoints resolved once, on first use), or through the operator's
 * homeserver.
 */
export function pageFetcher(
  ctx: CrawlerContext,
  server: Pick<Server, 'name' | 'clientBaseUrl'>,
  deadline: number,
): PageFetcher {
  const serverName = server.name;
  let endpoints: Promise<ClientEndpoint[]> | undefined;
  const clientApi = () => {
    endpoints ??= ctx.resolver.resolve(serverName).then(
      (resolved) => clientEndpoints(serverName, server.clientBaseUrl, resolved),
      () => clientEndpoints(serverName, server.clientBaseUrl, undefined),
    );
    return endpoints;
  };
  return (mode, searchTerm) => (since) => {
    const request = { limit: ctx.settings.pageLimit, since, deadline, signal: ctx.signal, searchTerm };
    switch (mode) {
      case 'federation':
        return fetchFederationPage(ctx.federation, serverName, request);
      case 'client':
        return clientApi().then((endpoints) => fetchClientPage(ctx.http, endpoints, request));
      case 'via': {
        if (!ctx.via) throw new Error('via-homeserver mode is not configured');
        return ctx.via.fetchPage(serverName, request);
      }
    }
  };
}
