import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import type { Release } from './limiter.ts';

/**
 * Holds on keys shared by every process on one Redis (ADR 0009): a crawler process holds a remote
 * server's key while a request to it is in flight, and a server's job key while one of its jobs runs.
 *
 * A hold is short (`ttlMs`) and renewed by its holder while it lasts, so the holds of a process that
 * died (kill -9, a lost machine) end within `ttlMs`, whatever the request or job was allowed to take.
 * Waiting for another holder is bounded by the waiter's own signal, never by a request's time budget.
 */
export interface SharedHolds {
  /** Waits until this caller holds `key`, or rejects with `signal`'s reason when it aborts first. */
  acquire(key: string, signal: AbortSignal): Promise<Release>;
  /** Holds `key` when nobody else does (or Redis cannot say at once), else undefined. */
  tryAcquire(key: string): Promise<Release | undefined>;
  /** Holds currently kept by this process. */
  readonly held: number;
  close(): Promise<void>;
}

export interface SharedHoldsOptions {
  /** How long a hold outlives its last renewal (default 10 s). */
  ttlMs?: number;
  /** Prefix of every key (a deployment's or a test's namespace). */
  prefix: string;
  /** How long a waiter first waits before it asks again unless told of a release (default 20 ms). */
  firstPollMs?: number;
  /**
   * How often, at most, a waiter asks again without having been told of a release (default 500 ms;
   * a release is announced, so this only finds holds that lapsed and announcements that were lost).
   */
  longestPollMs?: number;
  /** Told when the connection to Redis is lost and when it is back (once each). */
  onConnection?: (event: { state: 'lost' | 'back'; error?: string; downMs?: number }) => void;
}

export const DEFAULT_HOLD_TTL_MS = 10_000;
const FIRST_POLL_MS = 20;
const LONGEST_POLL_MS = 500;
/** A waiter's turn is kept this long after it last asked (it asks every 500 ms at most). */
const WISH_MS = 2_000;

/**
 * Renews a hold: extends it while this holder has it, or takes it again when the key is gone (Redis
 * restarted and lost it). 0 when someone else holds it now.
 */
const RENEW = `
local current = redis.call('get', KEYS[1])
if current == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) end
if not current then redis.call('set', KEYS[1], ARGV[1], 'PX', ARGV[2]) return 1 end
return 0`;
/**
 * Takes a hold unless another process waits for it: a waiter that finds the key held says so in
 * `<key>:next` (its process, for a moment), and until it has had its turn no other process may take
 * the key. Without this, a process sending a server request after request takes the key again the
 * instant it lets it go, and a waiter elsewhere, asking a few times a second, never gets a turn.
 * KEYS: hold, next. ARGV: token, ttl, this process, how long a wish lasts.
 */
const TAKE = `
local next = redis.call('get', KEYS[2])
if next and next ~= ARGV[3] then return 0 end
if redis.call('set', KEYS[1], ARGV[1], 'PX', ARGV[2], 'NX') then
  if next then redis.call('del', KEYS[2]) end
  return 1
end
if not next then redis.call('set', KEYS[2], ARGV[3], 'PX', ARGV[4]) end
return 0`;
/**
 * Deletes the key only while it still holds this holder's token, and announces that it is free to
 * the processes waiting for it (ARGV[2]: the channel), so that the next request goes out at once
 * instead of at a waiter's next poll. KEYS: hold. ARGV: token, channel.
 */
const RELEASE = `
if redis.call('get', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('del', KEYS[1])
redis.call('publish', ARGV[2], KEYS[1])
return 1`;

/** Tells one waiter that its key was announced free, even between two of its waits. */
class Waker {
  /** A release was heard since `reset`. */
  private heard = false;
  private wake: (() => void) | undefined;

  reset(): void {
    this.heard = false;
  }

  notify(): void {
    this.heard = true;
    this.wake?.();
  }

  /** Waits `ms`, less when a release is (or was, since `reset`) heard; rejects when `signal` aborts. */
  sleep(ms: number, signal: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      if (signal.aborted) {
        reject(signal.reason);
        return;
      }
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        this.wake = undefined;
      };
      const onAbort = () => {
        done();
        reject(signal.reason);
      };
      const timer = setTimeout(
        () => {
          done();
          resolve();
        },
        this.heard ? 0 : ms,
      );
      signal.addEventListener('abort', onAbort, { once: true });
      this.wake = () => {
        done();
        resolve();
      };
    });
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Waker().sleep(ms, signal);
}

/** Settles with `promise`, or rejects with `signal`'s reason when that aborts first. */
function raced<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

/**
 * Shared holds on Redis: `SET NX PX` under a random token, renewed every quarter of the TTL, and
 * released by its holder only, which announces it on the prefix's channel. A waiter asks again as
 * soon as it hears the key released (one subscriber connection per process), else after 20 ms,
 * doubling up to `longestPollMs`, and has the next turn over processes that did not wait (`TAKE`).
 *
 * After the connection comes back from a loss, no new hold is granted for one TTL: Redis may have
 * restarted without its keys, and the holders of requests still running take theirs again at their
 * next renewal first, so a server never gets a second request because Redis forgot the first.
 */
export function createRedisHolds(redisUrl: string, options: SharedHoldsOptions): SharedHolds {
  const ttlMs = options.ttlMs ?? DEFAULT_HOLD_TTL_MS;
  const renewMs = Math.max(50, Math.floor(ttlMs / 4));
  const longestPollMs = Math.max(options.longestPollMs ?? LONGEST_POLL_MS, options.firstPollMs ?? 0);
  const channel = `${options.prefix}released`;
  // Commands wait for the connection rather than fail: callers bound every wait with a signal.
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: null, lazyConnect: false });
  /** Which process waits, for the turns (`TAKE`). */
  const processId = randomUUID();
  let closing = false;
  let lostAt: number | undefined;
  let grantFrom = 0;
  let held = 0;
  /** Waiters of this process, by key, woken when the key is announced free. */
  const waiters = new Map<string, Set<Waker>>();
  /** Hears releases; connected on the first wait (a process that never waits needs none). */
  let subscriber: Redis | undefined;
  /** A waker for `name` until the returned function is called. */
  function listen(name: string): [Waker, () => void] {
    if (!subscriber) {
      subscriber = redis.duplicate();
      // Errors are the main connection's to report; this one reconnects (and resubscribes) by itself.
      subscriber.on('error', () => {});
      subscriber.on('message', (_channel: string, key: string) => {
        for (const waker of waiters.get(key) ?? []) waker.notify();
      });
      subscriber.subscribe(channel).catch(() => {});
    }
    const waker = new Waker();
    const set = waiters.get(name) ?? new Set<Waker>();
    waiters.set(name, set);
    set.add(waker);
    const forget = () => {
      set.delete(waker);
      if (set.size === 0 && waiters.get(name) === set) waiters.delete(name);
    };
    return [waker, forget];
  }
  redis.on('error', (error: Error) => {
    if (lostAt === undefined) {
      lostAt = Date.now();
      options.onConnection?.({ state: 'lost', error: error.message });
    }
  });
  redis.on('close', () => {
    if (lostAt === undefined && !closing) {
      lostAt = Date.now();
      options.onConnection?.({ state: 'lost' });
    }
  });
  redis.on('ready', () => {
    if (lostAt !== undefined) {
      options.onConnection?.({ state: 'back', downMs: Date.now() - lostAt });
      lostAt = undefined;
      grantFrom = Date.now() + ttlMs;
    }
  });

  function holding(name: string, token: string): Release {
    held++;
    let released = false;
    let renewing = false;
    const timer = setInterval(() => {
      // One renewal at a time: while Redis is away, they would only pile up.
      if (renewing) return;
      renewing = true;
      redis
        .eval(RENEW, 1, name, token, String(ttlMs))
        .catch(() => 0)
        .finally(() => {
          renewing = false;
        });
    }, renewMs);
    timer.unref();
    return () => {
      if (released) return;
      released = true;
      held--;
      clearInterval(timer);
      forget(name, token);
    };
  }

  function forget(name: string, token: string): void {
    redis.eval(RELEASE, 1, name, token, channel).catch(() => {});
  }

  async function attempt(name: string, token: string): Promise<boolean> {
    if (lostAt !== undefined || Date.now() < grantFrom) return false;
    const taken = await redis.eval(
      TAKE,
      2,
      name,
      `${name}:next`,
      token,
      String(ttlMs),
      processId,
      String(WISH_MS),
    );
    return taken === 1;
  }

  return {
    get held() {
      return held;
    },
    async acquire(key, signal) {
      const name = `${options.prefix}${key}`;
      const token = randomUUID();
      let waker: Waker | undefined;
      let unlisten: (() => void) | undefined;
      try {
        for (let wait = options.firstPollMs ?? FIRST_POLL_MS; ; wait = Math.min(wait * 2, longestPollMs)) {
          signal.throwIfAborted();
          const waitForGrant = grantFrom - Date.now();
          if (waitForGrant > 0) {
            await sleep(waitForGrant, signal);
            continue;
          }
          // A release heard from now on, even before this attempt's answer, ends the next wait.
          waker?.reset();
          let granted: boolean;
          try {
            granted = await raced(attempt(name, token), signal);
          } catch (error) {
            // The SET may still land after the wait ended: give back what it would take.
            forget(name, token);
            throw error;
          }
          if (granted) return holding(name, token);
          if (!waker) [waker, unlisten] = listen(name);
          await waker.sleep(wait, signal);
        }
      } finally {
        unlisten?.();
      }
    },
    async tryAcquire(key) {
      const name = `${options.prefix}${key}`;
      const token = randomUUID();
      const gaveUp = AbortSignal.timeout(ttlMs);
      try {
        return (await raced(attempt(name, token), gaveUp)) ? holding(name, token) : undefined;
      } catch {
        forget(name, token);
        return undefined;
      }
    },
    async close() {
      closing = true;
      subscriber?.disconnect();
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}
