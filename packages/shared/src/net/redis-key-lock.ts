import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import type { SharedKeyLock } from './types.ts';

/** Deletes the key only while it still holds this holder's token (its lease may have lapsed). */
const RELEASE =
  "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end";
const FIRST_WAIT_MS = 10;
const LONGEST_WAIT_MS = 200;

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Politeness across processes on Redis: a key is held with `SET NX PX` under a random token and
 * released only by its holder. A waiter asks again after 10 ms, doubling up to 200 ms, so a busy
 * server's next request starts soon after the last one ends without flooding Redis.
 */
export function createRedisKeyLock(redisUrl: string, prefix = 'atlas:polite:'): SharedKeyLock {
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 3, lazyConnect: false });
  // Errors reach the commands that fail; the connection itself reconnects.
  redis.on('error', () => {});
  return {
    async acquire(key, leaseMs, signal) {
      const name = `${prefix}${key}`;
      const token = randomUUID();
      const lease = Math.max(1, Math.ceil(leaseMs));
      for (let wait = FIRST_WAIT_MS; ; wait = Math.min(wait * 2, LONGEST_WAIT_MS)) {
        signal.throwIfAborted();
        if ((await redis.set(name, token, 'PX', lease, 'NX')) === 'OK') {
          return async () => {
            await redis.eval(RELEASE, 1, name, token);
          };
        }
        await sleep(wait, signal);
      }
    },
    async close() {
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}
