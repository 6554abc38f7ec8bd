import { describe, expect, it } from 'vitest';
import { KeyedMutex, Semaphore } from './limiter.ts';

describe('Semaphore', () => {
  it('hands out at most `limit` slots and queues the rest in order', async () => {
    const semaphore = new Semaphore(2);
    const order: string[] = [];
    const a = await semaphore.acquire();
    const b = await semaphore.acquire();
    const c = semaphore.acquire().then((release) => {
      order.push('c');
      return release;
    });
    const d = semaphore.acquire().then((release) => {
      order.push('d');
      return release;
    });
    await Promise.resolve();
    expect(order).toEqual([]);
    expect(semaphore.waiting).toBe(2);
    a();
    a(); // a second release changes nothing
    (await c)();
    b();
    (await d)();
    expect(order).toEqual(['c', 'd']);
    expect(semaphore.inUse).toBe(0);
  });

  it('gives up waiting when the signal aborts, with its reason', async () => {
    const semaphore = new Semaphore(1);
    const held = await semaphore.acquire();
    const controller = new AbortController();
    const waiting = semaphore.acquire(controller.signal);
    controller.abort(new Error('timed out'));
    await expect(waiting).rejects.toThrow('timed out');
    expect(semaphore.waiting).toBe(0);
    held();
    expect(semaphore.inUse).toBe(0);
  });
});

describe('KeyedMutex', () => {
  it('serialises one key and leaves other keys free, and forgets idle keys', async () => {
    const mutex = new KeyedMutex();
    const first = await mutex.acquire('a.example');
    const other = await mutex.acquire('b.example');
    let second = false;
    const waiting = mutex.acquire('a.example').then((release) => {
      second = true;
      return release;
    });
    await Promise.resolve();
    expect(second).toBe(false);
    first();
    (await waiting)();
    other();
    expect(second).toBe(true);
    expect(mutex.size).toBe(0);
  });
});
