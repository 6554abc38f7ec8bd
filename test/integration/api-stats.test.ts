import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createTestApi, type TestApi } from '../support/api-app.ts';
import { seedServers } from '../support/seed-rooms.ts';

let api: TestApi;

beforeAll(async () => {
  api = await createTestApi('api_stats');
  await seedServers(api.database, [{ name: 'first.example' }]);
});

afterAll(async () => {
  await api?.close();
});

afterEach(() => {
  vi.useRealTimers();
});

const serversTotal = async () =>
  ((await (await api.get('/api/v1/stats')).json()) as { servers: { total: number } }).servers.total;

describe('the stats behind /api/v1/stats and the pages', () => {
  it('answer from the last computation while the next one runs, then with the next', async () => {
    expect(await serversTotal()).toBe(1);
    await seedServers(api.database, [{ name: 'second.example' }]);
    // Within the minute the stats are not computed again.
    expect(await serversTotal()).toBe(1);

    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(Date.now() + 61_000);
    // Past the minute the caller gets the last stats at once, without waiting for the new scan.
    expect(await serversTotal()).toBe(1);
    let total = 1;
    for (let attempt = 0; attempt < 200 && total === 1; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 25));
      total = await serversTotal();
    }
    expect(total).toBe(2);
  });
});
