import { describe, expect, it } from 'vitest';
import type { DirectoryPage, DirectoryRoom } from '../directory/public-rooms.ts';
import { type PagerOptions, pageThroughDirectory } from './pager.ts';

function rooms(n: number, prefix = 'r'): DirectoryRoom[] {
  return Array.from({ length: n }, (_, i) => ({
    roomId: `!${prefix}${i}:x.org`,
    name: null,
    topic: null,
    canonicalAlias: null,
    avatarUrl: null,
    numJoinedMembers: 1,
    worldReadable: false,
    guestCanJoin: false,
    joinRule: 'public',
    roomType: null,
  }));
}

function page(n: number, nextBatch: string | undefined, extra: Partial<DirectoryPage> = {}): DirectoryPage {
  return {
    rooms: rooms(n, nextBatch ?? 'end'),
    noindexRoomIds: [],
    malformed: 0,
    nextBatch,
    totalRoomCountEstimate: undefined,
    ...extra,
  };
}

async function run(pages: (since: string | undefined) => DirectoryPage, over: Partial<PagerOptions> = {}) {
  const stored: number[] = [];
  const sinces: (string | undefined)[] = [];
  const result = await pageThroughDirectory({
    limits: { maxPages: 100, maxRooms: 10_000, deadline: Number.POSITIVE_INFINITY },
    fetchPage: async (since) => {
      sinces.push(since);
      return pages(since);
    },
    onPage: async (p) => {
      stored.push(p.rooms.length);
    },
    classifyError: () => 'error',
    ...over,
  });
  return { result, stored, sinces };
}

describe('pageThroughDirectory stop reasons', () => {
  it('ends when next_batch is absent, passing each token back', async () => {
    const { result, sinces, stored } = await run((since) =>
      since === undefined
        ? page(100, 't1', { malformed: 2, noindexRoomIds: ['!n:x.org'] })
        : since === 't1'
          ? page(100, 't2')
          : page(5, undefined),
    );
    expect(result).toMatchObject({ stopReason: 'end', pages: 3, roomsSeen: 205, malformed: 2, noindex: 1 });
    expect(sinces).toEqual([undefined, 't1', 't2']);
    expect(stored).toEqual([100, 100, 5]);
  });

  it('stops on a token seen before', async () => {
    const { result } = await run((since) => page(10, since === 't1' ? 't2' : since === 't2' ? 't1' : 't1'));
    expect(result).toMatchObject({ stopReason: 'repeated_token', pages: 3 });
  });

  it('stops on a token equal to the one just sent', async () => {
    const { result } = await run(() => page(10, 'same'));
    expect(result).toMatchObject({ stopReason: 'repeated_token', pages: 2 });
  });

  it('stops at the page cap', async () => {
    let n = 0;
    const { result } = await run(() => page(0, `t${n++}`), {
      limits: { maxPages: 7, maxRooms: 100, deadline: Infinity },
    });
    expect(result).toMatchObject({ stopReason: 'page_cap', pages: 7 });
  });

  it('stops at the room cap and stores no more than the cap', async () => {
    let n = 0;
    const { result, stored } = await run(() => page(100, `t${n++}`), {
      limits: { maxPages: 100, maxRooms: 250, deadline: Infinity },
    });
    expect(result).toMatchObject({ stopReason: 'room_cap', roomsSeen: 250, pages: 3 });
    expect(stored).toEqual([100, 100, 50]);
  });

  it('reports the room cap even on the last page when it had to cut it', async () => {
    const { result } = await run(() => page(100, undefined), {
      limits: { maxPages: 100, maxRooms: 60, deadline: Infinity },
    });
    expect(result.stopReason).toBe('room_cap');
  });

  it('stops at the wall-time cap', async () => {
    let clock = 0;
    let n = 0;
    const { result } = await run(
      () => {
        clock += 1000;
        return page(1, `t${n++}`);
      },
      { limits: { maxPages: 100, maxRooms: 100, deadline: 3500 }, now: () => clock },
    );
    expect(result).toMatchObject({ stopReason: 'time_cap', pages: 4 });
  });

  it('classifies failures and keeps what was stored before', async () => {
    const boom = new Error('connection reset');
    const { result, stored } = await run(
      (since) => {
        if (since === 't1') throw boom;
        return page(100, 't1');
      },
      { classifyError: (e) => (e === boom ? 'time_cap' : 'error') },
    );
    expect(result).toMatchObject({ stopReason: 'time_cap', pages: 1, roomsSeen: 100, error: boom });
    expect(stored).toEqual([100]);
  });

  it('stops when aborted', async () => {
    const controller = new AbortController();
    const { result } = await run(
      () => {
        controller.abort();
        return page(3, 'next');
      },
      { signal: controller.signal },
    );
    expect(result).toMatchObject({ stopReason: 'aborted', pages: 1, roomsSeen: 3 });
  });

  it('asks for the next page while storing this one, never two requests at once', async () => {
    const events: string[] = [];
    let inFlight = 0;
    let maxInFlight = 0;
    const result = await pageThroughDirectory({
      limits: { maxPages: 100, maxRooms: 10_000, deadline: Number.POSITIVE_INFINITY },
      fetchPage: async (since) => {
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        events.push(`fetch ${since ?? 'first'}`);
        await new Promise((resolve) => setTimeout(resolve, 5));
        inFlight--;
        return since === undefined ? page(10, 't1') : page(10, undefined);
      },
      onPage: async (p) => {
        events.push(`store ${p.nextBatch ?? 'last'} start`);
        await new Promise((resolve) => setTimeout(resolve, 20));
        events.push(`store ${p.nextBatch ?? 'last'} done`);
      },
      classifyError: () => 'error',
    });
    expect(result).toMatchObject({ stopReason: 'end', pages: 2 });
    expect(maxInFlight).toBe(1);
    expect(events.indexOf('fetch t1')).toBeLessThan(events.indexOf('store t1 done'));
  });

  it('lets a storage failure end the crawl as an error of Atlas, not of the server', async () => {
    await expect(
      run(() => page(10, 'next'), {
        onPage: async () => {
          throw new Error('database is down');
        },
      }),
    ).rejects.toThrow('database is down');
  });
});
