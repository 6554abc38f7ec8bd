/** Gives a slot back; calling it more than once is harmless. */
export type Release = () => void;

interface Waiter {
  grant: (release: Release) => void;
}

/**
 * A FIFO counting semaphore whose waits end when `signal` aborts (rejecting with its reason),
 * so time spent queueing counts against the caller's timeout.
 */
export class Semaphore {
  private available: number;
  private readonly waiters: Waiter[] = [];

  constructor(readonly limit: number) {
    if (!Number.isInteger(limit) || limit < 1) throw new Error(`a limit of ${limit} slots makes no sense`);
    this.available = limit;
  }

  get waiting(): number {
    return this.waiters.length;
  }

  get inUse(): number {
    return this.limit - this.available;
  }

  acquire(signal?: AbortSignal): Promise<Release> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (this.available > 0 && this.waiters.length === 0) {
      this.available--;
      return Promise.resolve(this.releaser());
    }
    return new Promise<Release>((resolve, reject) => {
      const onAbort = () => {
        const index = this.waiters.indexOf(waiter);
        if (index >= 0) this.waiters.splice(index, 1);
        reject(signal?.reason);
      };
      const waiter: Waiter = {
        grant: (release) => {
          signal?.removeEventListener('abort', onAbort);
          resolve(release);
        },
      };
      this.waiters.push(waiter);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  private releaser(): Release {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiters.shift();
      if (next) next.grant(this.releaser());
      else this.available++;
    };
  }
}

/**
 * One holder at a time per key (politeness: one request at a time per remote server). Keys with
 * nobody holding or waiting take no memory.
 */
export class KeyedMutex {
  private readonly locks = new Map<string, Semaphore>();

  acquire(key: string, signal?: AbortSignal): Promise<Release> {
    let lock = this.locks.get(key);
    if (!lock) {
      lock = new Semaphore(1);
      this.locks.set(key, lock);
    }
    const current = lock;
    const forget = () => {
      if (current.inUse === 0 && current.waiting === 0 && this.locks.get(key) === current) {
        this.locks.delete(key);
      }
    };
    return current.acquire(signal).then(
      (release) => () => {
        release();
        forget();
      },
      (error: unknown) => {
        forget();
        throw error;
      },
    );
  }

  /** Keys currently held or waited for. */
  get size(): number {
    return this.locks.size;
  }
}
