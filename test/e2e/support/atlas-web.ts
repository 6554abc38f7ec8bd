import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { ManifestRoom, ManifestServer } from '../../simfed/model.ts';
import type { SimFed } from '../../simfed/simfed.ts';
import { startSimFed } from '../../simfed/simfed.ts';
import {
  killAtlas,
  type RunningAtlas,
  startAtlas,
  untilHealthy,
  untilSearchable,
} from '../../support/atlas-process.ts';
import { freePort } from '../../support/ports.ts';

export const ADMIN_TOKEN = 'e2e-admin-token-0123456789';
/** Low, so a test can reach it; each page test sends one report at most. */
export const REPORTS_PER_HOUR = 3;

/** Names and topics a hostile server might publish; the pages must show them as plain text. */
export const HOSTILE = {
  script: '<script>window.__pwned = 1; alert(1)</script> Script room',
  image: '<img src=x onerror="window.__pwned = 2; alert(2)"> Image room',
  bidi: 'Bidi \u202Eexe.evil\u202C room',
  long: `Long ${'very long name '.repeat(10_000)}`,
  topic:
    'javascript:alert(3) <a href="javascript:alert(4)">click</a> <style>body{display:none}</style> https://example.org/ok',
} as const;

export interface WebFixture {
  sim: SimFed;
  atlas: RunningAtlas;
  base: string;
  /** Rooms Atlas can read, as the simulated federation serves them. */
  rooms: ManifestRoom[];
  /** For each readable room, the servers whose directories list it. */
  listedBy: Map<string, string[]>;
  hostile: { script: string; image: string; bidi: string; long: string };
  close(): Promise<void>;
}

function readable(server: ManifestServer): boolean {
  return server.reachable && (server.publishes || server.client_directory);
}

/**
 * A simulated federation with a few hostile rooms, crawled by `atlas start` (the Quick start's
 * command) until every readable room is searchable.
 */
export async function startWebFixture(seed: string): Promise<WebFixture> {
  const dir = await mkdtemp(path.join(tmpdir(), 'atlas-web-'));
  const sim = await startSimFed({ servers: 12, seed, dir: path.join(dir, 'sim'), rooms: 300 });
  // Four big rooms of a publishing server become hostile, so they lead the front page.
  const publisher = sim.manifest.servers.find((s) => s.reachable && s.publishes && s.rooms.length >= 4);
  if (!publisher) throw new Error('the simulated federation has no publishing server with 4 rooms');
  const [script, image, bidi, long] = publisher.rooms.filter((r) => !r.noindex).map((r) => r.room_id);
  if (!script || !image || !bidi || !long) throw new Error('not enough rooms to make hostile');
  await sim.mutate({
    renameRooms: [
      { roomId: script, name: HOSTILE.script },
      { roomId: image, name: HOSTILE.image },
      { roomId: bidi, name: HOSTILE.bidi },
      { roomId: long, name: HOSTILE.long },
    ],
    changeTopics: [{ roomId: script, topic: HOSTILE.topic }],
    changeMembers: [script, image, bidi, long].map((roomId, i) => ({ roomId, members: 90_000 - i })),
  });

  const httpPort = await freePort();
  const base = `http://127.0.0.1:${httpPort}`;
  const atlas = startAtlas({
    ...sim.env,
    ATLAS_DATA_DIR: path.join(dir, 'data'),
    ATLAS_EMBEDDED_PG_PORT: String(await freePort()),
    PORT: String(httpPort),
    HOST: '127.0.0.1',
    LOG_LEVEL: 'warn',
    ATLAS_ADMIN_TOKENS: ADMIN_TOKEN,
    // Every page load of the suite comes from one address.
    ATLAS_RATE_LIMIT: '0',
    ATLAS_REPORT_RATE_LIMIT: String(REPORTS_PER_HOUR),
  });
  const close = async () => {
    await killAtlas(atlas);
    await sim.close();
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await untilHealthy(atlas, base);
    const servers = sim.manifest.servers.filter(readable);
    const listedBy = new Map<string, string[]>();
    const rooms = new Map<string, ManifestRoom>();
    for (const server of servers) {
      for (const room of server.rooms) {
        if (room.noindex) continue;
        rooms.set(room.room_id, room);
        listedBy.set(room.room_id, [...(listedBy.get(room.room_id) ?? []), server.name].sort());
      }
    }
    await untilSearchable(atlas, base, rooms.size, 300_000);
    return {
      sim,
      atlas,
      base,
      rooms: [...rooms.values()],
      listedBy,
      hostile: { script, image, bidi, long },
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}
