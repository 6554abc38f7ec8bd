import { describe, expect, it } from 'vitest';
import { classifyCrawl, crawlFailuresAfter, type DirectoryRead, readIsSettled } from './crawl-outcome.ts';

const read = (overrides: Partial<DirectoryRead>): DirectoryRead => ({
  mode: 'federation',
  pages: 3,
  stopReason: 'end',
  error: undefined,
  failures: [],
  refused: false,
  federationForbidden: false,
  ...overrides,
});

describe('a directory read', () => {
  it('that found its server busy (another crawler process) gives no verdict, with pages or without', () => {
    expect(classifyCrawl(read({ stopReason: 'busy' }))).toEqual({ outcome: 'busy' });
    expect(classifyCrawl(read({ stopReason: 'busy', pages: 0 }))).toEqual({ outcome: 'busy' });
    // Nor is the next way of reading tried: the server did not answer anything.
    expect(readIsSettled({ pages: 0, stopReason: 'busy' })).toBe(true);
  });

  it('read to the end is complete: listings not seen are closed, the cap was not reached', () => {
    expect(classifyCrawl(read({}))).toEqual({
      outcome: 'complete',
      runStatus: 'complete',
      stopReason: 'end',
      error: null,
      publishes: true,
      listings: 'close',
      roomCapReached: false,
      reviewable: true,
    });
  });

  it('stopped at the room cap is partial, yet closes the listings it did not see', () => {
    expect(classifyCrawl(read({ stopReason: 'room_cap' }))).toMatchObject({
      outcome: 'partial',
      runStatus: 'partial',
      stopReason: 'room_cap',
      listings: 'close',
      roomCapReached: true,
    });
  });

  it('stopped by another cap or an error is partial and keeps the listings it has', () => {
    for (const stopReason of ['page_cap', 'time_cap', 'repeated_token'] as const) {
      expect(classifyCrawl(read({ stopReason }))).toMatchObject({
        outcome: 'partial',
        stopReason,
        error: null,
        listings: 'count',
        roomCapReached: null,
      });
    }
    expect(classifyCrawl(read({ stopReason: 'error', error: 'HTTP 500' }))).toMatchObject({
      outcome: 'partial',
      stopReason: 'error',
      error: 'HTTP 500',
    });
  });

  it('shows that the server publishes over federation only when read over federation', () => {
    expect(classifyCrawl(read({ mode: 'client' }))).toMatchObject({ outcome: 'complete', publishes: null });
    expect(
      classifyCrawl(read({ mode: 'client', federationForbidden: true, failures: ['federation: HTTP 403'] })),
    ).toMatchObject({ outcome: 'complete', publishes: false });
  });

  it('refused over federation with 403 is forbidden: the server does not publish', () => {
    const refusal = { pages: 0, stopReason: 'forbidden', refused: true, federationForbidden: true } as const;
    expect(
      classifyCrawl(
        read({ ...refusal, mode: 'client', failures: ['federation: HTTP 403', 'client: HTTP 403'] }),
      ),
    ).toEqual({
      outcome: 'forbidden',
      runStatus: 'forbidden',
      stopReason: 'forbidden',
      error: 'federation: HTTP 403; client: HTTP 403',
      publishes: false,
      listings: 'unchanged',
      roomCapReached: null,
      reviewable: false,
    });
  });

  it('refused some other way is no access, recorded as a forbidden run', () => {
    expect(
      classifyCrawl(
        read({
          mode: 'client',
          pages: 0,
          stopReason: 'forbidden',
          refused: true,
          failures: ['client: HTTP 401'],
        }),
      ),
    ).toMatchObject({
      outcome: 'no_access',
      runStatus: 'forbidden',
      stopReason: 'forbidden',
      publishes: null,
    });
  });

  it('that read nothing for other reasons failed', () => {
    expect(
      classifyCrawl(
        read({ pages: 0, stopReason: 'error', failures: ['federation: dns_failed', 'client: dns_failed'] }),
      ),
    ).toMatchObject({
      outcome: 'failed',
      runStatus: 'failed',
      stopReason: 'error',
      error: 'federation: dns_failed; client: dns_failed',
      listings: 'unchanged',
    });
    expect(classifyCrawl(read({ pages: 0, stopReason: 'time_cap', error: 'read_deadline' }))).toMatchObject({
      outcome: 'failed',
      stopReason: 'time_cap',
      error: 'read_deadline',
    });
  });

  it('cut short by a shutdown is aborted, whatever it read', () => {
    expect(classifyCrawl(read({ stopReason: 'aborted' }))).toEqual({ outcome: 'aborted' });
    expect(classifyCrawl(read({ pages: 0, stopReason: 'aborted' }))).toEqual({ outcome: 'aborted' });
  });

  it('tries the next way only when this one read nothing and time is left', () => {
    expect(readIsSettled({ pages: 1, stopReason: 'error' })).toBe(true);
    expect(readIsSettled({ pages: 0, stopReason: 'time_cap' })).toBe(true);
    expect(readIsSettled({ pages: 0, stopReason: 'aborted' })).toBe(true);
    expect(readIsSettled({ pages: 0, stopReason: 'forbidden' })).toBe(false);
    expect(readIsSettled({ pages: 0, stopReason: 'error' })).toBe(false);
  });

  it('counts failed reads in a row, and starts over after any other outcome', () => {
    expect(crawlFailuresAfter('failed', 2)).toBe(3);
    expect(crawlFailuresAfter('forbidden', 2)).toBe(0);
    expect(crawlFailuresAfter('partial', 5)).toBe(0);
  });
});
