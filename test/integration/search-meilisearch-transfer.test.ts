import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createMeilisearchIndex, type MeilisearchIndex } from '@atlas/shared/search';
import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import { randomNamespace } from '../support/database.ts';
import { roomDocument } from '../support/seed-rooms.ts';

// How the Meilisearch backend's answers travel. Meilisearch gzips an answer for a client that accepts
// it and then sends the body in chunks after the headers; with TCP's delayed acknowledgements each
// such answer waited ~40 ms on loopback, ten times the search itself. A recording proxy in front of
// the real server shows what the backend asks for and what comes back.
interface Exchange {
  method: string;
  path: string;
  acceptEncoding: string | undefined;
  contentEncoding: string | undefined;
  transferEncoding: string | undefined;
}

let proxy: http.Server;
let proxyUrl: string;
const exchanges: Exchange[] = [];
let index: MeilisearchIndex;

beforeAll(async () => {
  const target = new URL(inject('meiliUrl'));
  proxy = http.createServer((request, response) => {
    const upstream = http.request(
      {
        host: target.hostname,
        port: target.port,
        path: request.url,
        method: request.method,
        headers: request.headers,
      },
      (answer) => {
        exchanges.push({
          method: request.method ?? '',
          path: request.url ?? '',
          acceptEncoding: request.headers['accept-encoding'],
          contentEncoding: answer.headers['content-encoding'],
          transferEncoding: answer.headers['transfer-encoding'],
        });
        response.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(response);
      },
    );
    upstream.on('error', () => response.destroy());
    request.pipe(upstream);
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
  index = createMeilisearchIndex({
    url: proxyUrl,
    key: inject('meiliKey'),
    indexUid: randomNamespace('transfer'),
    taskTimeoutMs: 20_000,
  });
  await index.init();
});

afterAll(async () => {
  await new Promise((resolve) => proxy?.close(resolve));
});

it('asks Meilisearch for uncompressed answers, and gets them whole with their length', async () => {
  await index.upsert(
    Array.from({ length: 30 }, (_, i) =>
      roomDocument({
        roomId: `!transfer${i}:example.org`,
        name: `Transfer room ${i}`,
        topic: `A room about transfer number ${i}, with a topic long enough to fill an answer. `.repeat(4),
        numJoinedMembers: 100 - i,
      }),
    ),
  );
  exchanges.length = 0;
  const page = await index.search({ q: 'transfer', limit: 20, filters: { stale: false } });
  // The answer is big enough that Meilisearch would have compressed and chunked it.
  expect(page.hits.length).toBe(20);
  const searches = exchanges.filter((e) => e.path.includes('search'));
  expect(searches.length).toBeGreaterThan(0);
  for (const exchange of searches) {
    expect(exchange.acceptEncoding).toBe('identity');
    expect(exchange.contentEncoding).toBeUndefined();
    expect(exchange.transferEncoding).toBeUndefined();
  }
});
