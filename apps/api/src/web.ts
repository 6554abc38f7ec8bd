import { type DirectoryStats, toApiRoom } from '@atlas/shared/api';
import { InvalidCursorError } from '@atlas/shared/search';
import type { Checked, QueryRecord, WebServices, WebSettings } from '@atlas/web';
import type { z } from '@hono/zod-openapi';
import { type AppDeps, roomLinks } from './deps.ts';
import { ApiError } from './errors.ts';
import type { ClientRateLimiter } from './middleware/rate-limit.ts';
import { describeIssues } from './openapi.ts';
import { ReportBodySchema } from './schemas/reports.ts';
import { RoomQuerySchema } from './schemas/rooms.ts';
import { ServerQuerySchema } from './schemas/servers.ts';
import { elementServerList } from './services/element-feed.ts';
import { createReport } from './services/reports.ts';
import { findShownRoom, getRoomDetail, type RoomSearchParams, searchRooms } from './services/rooms.ts';
import { getServerDetail, listServers, type ServerListParams } from './services/servers.ts';

/** How many servers the About page's Element snippet lists (the feed's own default). */
const FEED_SNIPPET_SERVERS = 20;
/** Rooms per page on a server's page. */
const SERVER_ROOMS_PAGE = 20;

function checkedQuery<S extends z.ZodType>(schema: S, query: QueryRecord): Checked<z.output<S>> {
  const result = schema.safeParse(query);
  if (result.success) return { ok: true, value: result.data };
  return { ok: false, problems: describeIssues(result.error).split('; ') };
}

/** A cursor that is not this search's is the caller's mistake, said like any bad parameter. */
async function cursorChecked<T>(run: () => Promise<T>): Promise<Checked<T>> {
  try {
    return { ok: true, value: await run() };
  } catch (error) {
    if (error instanceof InvalidCursorError) return { ok: false, problems: [`cursor: ${error.message}`] };
    throw error;
  }
}

/**
 * The web pages' services: the functions, schemas, caches and limits of the JSON API itself, so a
 * page and its JSON twin always agree.
 */
export function webServices(
  deps: AppDeps,
  shared: { stats: () => Promise<DirectoryStats>; reports: ClientRateLimiter },
): WebServices<RoomSearchParams, ServerListParams> {
  const { sql } = deps.database;
  const links = roomLinks(deps);
  return {
    parseRoomQuery: (query) => checkedQuery(RoomQuerySchema, query),
    searchRooms: (params) => cursorChecked(() => searchRooms(deps.search, params, links)),
    findRoom: (reference) => findShownRoom(sql, reference, links),
    roomDetail: (roomId) => getRoomDetail(sql, roomId, links),
    async topRooms(sort, limit) {
      const page = await deps.search.search({ filters: { stale: false }, sort, limit });
      return page.hits.map((doc) => toApiRoom(doc, links));
    },
    parseServerQuery: (query) => checkedQuery(ServerQuerySchema, query),
    listServers: (params) => cursorChecked(() => listServers(sql, params)),
    serverDetail: (name) => getServerDetail(sql, deps.search, name, links),
    serverRooms: (name, cursor) =>
      cursorChecked(() =>
        searchRooms(
          deps.search,
          {
            server: [name],
            sort: 'members',
            limit: SERVER_ROOMS_PAGE,
            ...(cursor ? { cursor } : {}),
          },
          links,
        ),
      ),
    stats: shared.stats,
    async report(input) {
      const verdict = await shared.reports.take(input.clientIp);
      if (!verdict.ok) {
        return {
          ok: false,
          status: 429,
          message: shared.reports.refusal(verdict.retryAfterSeconds).message,
          retryAfterSeconds: verdict.retryAfterSeconds,
        };
      }
      const body = ReportBodySchema.safeParse({
        room_id: input.roomId,
        server_name: input.serverName,
        reason: input.reason,
      });
      if (!body.success) return { ok: false, status: 400, message: describeIssues(body.error) };
      try {
        await createReport(sql, {
          roomId: body.data.room_id,
          serverName: body.data.server_name,
          reason: body.data.reason,
          reporterIp: input.clientIp,
        });
        return { ok: true };
      } catch (error) {
        if (error instanceof ApiError && error.code === 'NOT_FOUND') {
          return { ok: false, status: 404, message: error.message };
        }
        throw error;
      }
    },
    elementServers: () =>
      elementServerList(sql, {
        limit: FEED_SNIPPET_SERVERS,
        self: deps.identity?.serverName,
        vouched: deps.settings.vouchedServers,
      }),
  };
}

export function webSettings(deps: AppDeps): WebSettings {
  return {
    elementUrl: deps.settings.elementUrl,
    serverName: deps.identity?.serverName,
    publicUrl: deps.settings.publicUrl,
  };
}
