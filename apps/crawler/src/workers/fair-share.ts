import type { Release } from '@atlas/shared/net';

/** A directory this big takes a read slot for minutes (ten pages and more, then the recheck). */
export const HEAVY_ROOM_COUNT = 1_000;
/** A server this slow to answer its version holds a slot for as long per page. */
export const HEAVY_LATENCY_MS = 2_000;

/** What a read's weight is judged by: what the last probe and read of the server found. */
export interface ServerWeight {
  roomCount: number | null;
  latencyMs: number | null;
}

export function isHeavy(server: ServerWeight): boolean {
  return (server.roomCount ?? 0) >= HEAVY_ROOM_COUNT || (server.latencyMs ?? 0) >= HEAVY_LATENCY_MS;
}

/**
 * A process's fair share for heavy servers (ADR 0009): at most half of its read slots (one at least)
 * read big or slow directories at once, so a few huge or slow servers never take every slot of every
 * crawler process and the many small servers keep moving. A read past the share is deferred.
 */
export class FairShare {
  private running = 0;
  readonly limit: number;

  constructor(readSlots: number) {
    this.limit = Math.max(1, Math.floor(readSlots / 2));
  }

  /** A slot for a heavy read, or undefined when the share is taken. */
  tryEnter(): Release | undefined {
    if (this.running >= this.limit) return undefined;
    this.running++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.running--;
    };
  }

  get inUse(): number {
    return this.running;
  }
}
