/**
 * Slots for complexity requests. Measuring yields to finding: while any directory read, probe or
 * leads step runs in this process, one complexity request at a time goes out; when none does, up to
 * `limit`. So measuring never slows the work that stores rooms and finds servers, yet never stops.
 */
export class MeasureSlots {
  private inUse = 0;
  private finding = 0;
  private readonly waiters: (() => void)[] = [];

  constructor(readonly limit: number) {
    if (!Number.isInteger(limit) || limit < 1) throw new Error(`a limit of ${limit} slots makes no sense`);
  }

  /** Slots open right now. */
  get open(): number {
    return this.finding > 0 ? 1 : this.limit;
  }

  /** Runs `work` as finding work: measuring holds back until it ends. */
  async whileFinding<T>(work: () => Promise<T>): Promise<T> {
    this.finding++;
    try {
      return await work();
    } finally {
      this.finding--;
      this.wake();
    }
  }

  /** Waits for a slot; the returned function gives it back (more than once is harmless). */
  acquire(signal?: AbortSignal): Promise<() => void> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise((resolve, reject) => {
      const grant = () => {
        signal?.removeEventListener('abort', onAbort);
        this.inUse++;
        let released = false;
        resolve(() => {
          if (released) return;
          released = true;
          this.inUse--;
          this.wake();
        });
      };
      const onAbort = () => {
        const index = this.waiters.indexOf(grant);
        if (index >= 0) this.waiters.splice(index, 1);
        reject(signal?.reason);
      };
      if (this.inUse < this.open && this.waiters.length === 0) {
        grant();
        return;
      }
      this.waiters.push(grant);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  private wake(): void {
    while (this.inUse < this.open) {
      const next = this.waiters.shift();
      if (!next) return;
      next();
    }
  }
}
