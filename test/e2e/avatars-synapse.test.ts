import path from 'node:path';
import type { Browser } from 'playwright-core';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  killAtlas,
  type RunningAtlas,
  startAtlas,
  untilHealthy,
  untilSearchable,
} from '../support/atlas-process.ts';
import { freePort } from '../support/ports.ts';
// The harness's modules one by one: its index also brings the file fixture, whose database
// helpers only the integration suite's global setup types.
import { type AtlasTls, writeAtlasTls } from '../synapse/harness/atlas-identity.ts';
import { SynapseClient } from '../synapse/harness/client.ts';
import { type SynapseCluster, startSynapseCluster } from '../synapse/harness/cluster.ts';
import { printSynapseLogsOnFailure, withSynapseLogs } from '../synapse/harness/logs-on-failure.ts';
import { eventually } from '../synapse/harness/rooms.ts';
import type { SynapseInstance } from '../synapse/harness/synapse-instance.ts';
import { contextOptions, launchChromium, watchedPage } from './support/browser.ts';

// A room's face, end to end: a user of a real Synapse uploads an image and makes it the avatar of
// a room published in the directory; `atlas start` crawls Synapse over federation, fetches the
// thumbnail over signed federation media the first time it is asked for, and a browser sees the
// image on the room's card instead of the letter.

/** A colour none of the letter avatars' tones has, to tell the image from the letter on screen. */
const AVATAR_COLOUR = { r: 255, g: 212, b: 0 };
const ROOM_NAME = 'Avatar Parade';

let synapse: SynapseCluster;
let a: SynapseInstance;
let alice: SynapseClient;
let atlas: RunningAtlas;
let base: string;
let browser: Browser;
let roomId: string;
let mxc: string;

printSynapseLogsOnFailure(() => synapse);

/** Uploads through the media API every client uses (`POST /_matrix/media/v3/upload`). */
async function upload(user: SynapseClient, bytes: Buffer, type: string): Promise<string> {
  const response = await fetch(`${user.host.clientUrl}/_matrix/media/v3/upload?filename=avatar.png`, {
    method: 'POST',
    headers: { authorization: `Bearer ${user.accessToken}`, 'content-type': type },
    body: new Uint8Array(bytes),
  });
  const body = (await response.json()) as { content_uri?: string };
  if (!response.ok || !body.content_uri)
    throw new Error(`upload answered ${response.status}: ${JSON.stringify(body)}`);
  return body.content_uri;
}

beforeAll(async () => {
  synapse = await startSynapseCluster({ instances: ['A'] });
  a = synapse.get('A');
  await withSynapseLogs(synapse, 'setting up the room', async () => {
    alice = await SynapseClient.register(a, { username: 'alice' });
    const image = await sharp({ create: { width: 300, height: 300, channels: 3, background: AVATAR_COLOUR } })
      .png()
      .toBuffer();
    mxc = await upload(alice, image, 'image/png');
    roomId = await alice.createRoom({ name: ROOM_NAME, alias: 'avatar-parade', topic: 'Faces, not letters' });
    await alice.sendState(roomId, 'm.room.avatar', '', { url: mxc });
    // Synapse's directory reads the avatar from its room stats, which follow the state event.
    await eventually(
      'the directory to list the avatar',
      () => alice.allPublicRooms(),
      (rooms) => rooms.find((r) => r.room_id === roomId)?.avatar_url === mxc,
    );
  });

  const tls: AtlasTls = await writeAtlasTls(synapse.ca, synapse.dir);
  const federationPort = await freePort();
  const httpPort = await freePort();
  base = `http://127.0.0.1:${httpPort}`;
  atlas = startAtlas({
    ATLAS_DATA_DIR: path.join(synapse.dir, 'atlas-data'),
    ATLAS_EMBEDDED_PG_PORT: String(await freePort()),
    ATLAS_SERVER_NAME: `127.0.0.1:${federationPort}`,
    ATLAS_FEDERATION_PORT: String(federationPort),
    ATLAS_TLS_CERT_FILE: tls.certFile,
    ATLAS_TLS_KEY_FILE: tls.keyFile,
    ATLAS_CA_FILE: synapse.caFile,
    ATLAS_ALLOW_NETWORKS: '127.0.0.0/8',
    ATLAS_SEEDS: a.serverName,
    HOST: '127.0.0.1',
    PORT: String(httpPort),
    ATLAS_RATE_LIMIT: '0',
    LOG_LEVEL: 'info',
  });
  await untilHealthy(atlas, base);
  await untilSearchable(atlas, base, 1, 240_000);
  browser = await launchChromium();
}, 600_000);

afterAll(async () => {
  await browser?.close();
  await killAtlas(atlas);
  await synapse?.stop();
});

interface ApiRoom {
  room_id: string;
  avatar_url: string | null;
  avatar_thumbnail: string | null;
}

describe('a room avatar set on Synapse', () => {
  it('is served by Atlas as its thumbnail, fetched over federation media', async () => {
    const list = (await (await fetch(`${base}/api/v1/rooms?q=${encodeURIComponent(ROOM_NAME)}`)).json()) as {
      rooms: ApiRoom[];
    };
    const room = list.rooms.find((r) => r.room_id === roomId);
    expect(room?.avatar_url).toBe(mxc);
    const [, serverName = '', mediaId = ''] = /^mxc:\/\/([^/]+)\/(.+)$/.exec(mxc) ?? [];
    expect(room?.avatar_thumbnail).toBe(`/media/avatar/${encodeURIComponent(serverName)}/${mediaId}`);

    const response = await fetch(`${base}${room?.avatar_thumbnail}`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('image/webp');
    const thumbnail = sharp(Buffer.from(await response.arrayBuffer()));
    const meta = await thumbnail.metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['webp', 96, 96]);
    const { channels } = await thumbnail.stats();
    const mean = channels.slice(0, 3).map((c) => Math.round(c.mean));
    expect(mean[0]).toBeGreaterThan(230);
    expect(mean[1]).toBeGreaterThan(190);
    expect(mean[2]).toBeLessThan(30);
    // Synapse has federation media: Atlas never needed the legacy endpoint.
    expect(atlas.output()).toMatch(/avatar fetched over federation media/);
    expect(atlas.output()).not.toMatch(/avatar fetched over the legacy media API/);
  });

  it("shows on the room's card and the room page, not the letter", async () => {
    const context = await browser.newContext(contextOptions({ javaScript: true }));
    try {
      const { page, watch } = await watchedPage(context);
      await page.goto(`${base}/?q=${encodeURIComponent(ROOM_NAME)}`);
      const card = page.locator('#results article.card.room', { hasText: ROOM_NAME }).first();
      const image = card.locator('.avatar img');
      await image.waitFor();
      await expect
        .poll(() =>
          image.evaluate(
            (img) => (img as HTMLImageElement).complete && (img as HTMLImageElement).naturalWidth,
          ),
        )
        .toBe(96);
      // What is on screen where the letter would be: the avatar's colour.
      const shot = await sharp(await card.locator('.avatar').screenshot())
        .stats()
        .then((s) => s.channels.slice(0, 3).map((c) => Math.round(c.mean)));
      expect(shot[0]).toBeGreaterThan(200);
      expect(shot[1]).toBeGreaterThan(160);
      expect(shot[2]).toBeLessThan(80);

      await card.locator('.card-title a').click();
      const large = page.locator('.room-head .avatar img');
      await large.waitFor();
      await expect
        .poll(() =>
          large.evaluate(
            (img) => (img as HTMLImageElement).complete && (img as HTMLImageElement).naturalWidth,
          ),
        )
        .toBeGreaterThan(96);
      expect(watch.cspViolations).toEqual([]);
      expect(watch.errors).toEqual([]);
    } finally {
      await context.close();
    }
  });
});
