import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { MeiliSearchApiError, MeiliSearchRequestError, Meilisearch } from 'meilisearch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { meilisearchHttp } from './meilisearch-http.ts';

// A stand-in for Meilisearch on loopback, answering what each test needs; the real server is in
// the integration tests (search contract, relevance, fallback).
let server: http.Server;
let base: string;
const seen: { method: string; headers: http.IncomingHttpHeaders; body: string }[] = [];
const searchHttp = meilisearchHttp();

beforeAll(async () => {
  server = http.createServer((request, response) => {
    let body = '';
    request.on('data', (chunk) => {
      body += chunk;
    });
    request.on('end', () => {
      seen.push({ method: request.method ?? '', headers: request.headers, body });
      const path = request.url ?? '';
      if (path === '/multi-search') {
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end(
          JSON.stringify({ results: [{ hits: [{ roomId: '!a:example.org' }], estimatedTotalHits: 1 }] }),
        );
      } else if (path === '/indexes/missing') {
        response.writeHead(404, { 'content-type': 'application/json' });
        response.end(JSON.stringify({ message: 'Index `missing` not found.', code: 'index_not_found' }));
      } else if (path === '/indexes/huge') {
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end(`["${'x'.repeat(17 * 1024 * 1024)}"]`);
      } else if (path === '/indexes/cut') {
        response.writeHead(200, { 'content-type': 'application/json', 'content-length': '1000' });
        response.write('{"createdAt":');
        setTimeout(() => response.socket?.destroy(), 20);
      } else if (path === '/indexes/slow') {
        setTimeout(() => response.end('{}'), 2_000);
      } else {
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end('not json');
      }
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  searchHttp.close();
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

const client = (timeout = 1_000) =>
  new Meilisearch({
    host: base,
    apiKey: 'key',
    timeout,
    httpClient: (url, init) => searchHttp.request(new URL(String(url)), init ?? {}),
  });

describe("the searches' HTTP client", () => {
  it('sends a search whole, with its length and key, and gives back the parsed answer', async () => {
    const { results } = await client().multiSearch({ queries: [{ indexUid: 'rooms', q: 'linux' }] });
    expect(results[0]?.hits).toEqual([{ roomId: '!a:example.org' }]);
    const request = seen.at(-1);
    expect(request?.method).toBe('POST');
    expect(request?.headers['content-length']).toBe(String(Buffer.byteLength(request?.body ?? '')));
    expect(request?.headers['transfer-encoding']).toBeUndefined();
    expect(request?.headers.authorization).toBe('Bearer key');
    expect(JSON.parse(request?.body ?? '')).toEqual({ queries: [{ indexUid: 'rooms', q: 'linux' }] });
  });

  it("reports Meilisearch's errors with their code, inside the client's request error", async () => {
    const error = await client()
      .getRawIndex('missing')
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MeiliSearchRequestError);
    const answer = (error as MeiliSearchRequestError).cause;
    expect(answer).toBeInstanceOf(MeiliSearchApiError);
    expect((answer as MeiliSearchApiError).cause?.code).toBe('index_not_found');
    expect((answer as MeiliSearchApiError).message).toBe('Index `missing` not found.');
  });

  it('refuses an answer that is too big, cut short, or not JSON, and gives up at the timeout', async () => {
    await expect(client().getRawIndex('huge')).rejects.toThrow(/has failed/);
    await expect(client().getRawIndex('cut')).rejects.toThrow(/has failed/);
    await expect(client().getRawIndex('other')).rejects.toThrow(/has failed/);
    const error = await client(200)
      .getRawIndex('slow')
      .catch((e: unknown) => e);
    expect(String((error as Error).cause)).toMatch(/timed out/i);
  });
});
