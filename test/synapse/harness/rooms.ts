import type { SynapseClient } from './client.ts';

/** Runs `task` over `items` with at most `limit` at a time; results keep the items' order. */
export async function mapConcurrent<T, R>(
  items: readonly T[],
  limit: number,
  task: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const index = next;
      next += 1;
      results[index] = await task(items[index] as T, index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

export interface BulkRoomsOptions {
  count: number;
  /** Names are `<prefix> <n>`; aliases (when asked for) `#<prefix>-<n>:<server>`. */
  prefix: string;
  aliases?: boolean;
  /**
   * Requests in flight. Synapse runs one Python thread, and SQLite serialises writes, so a few in
   * flight keep it busy without queueing work it cannot do anyway.
   */
  concurrency?: number;
}

/**
 * Creates `count` rooms published in the creator's server directory, enough for a directory of
 * several pages (Synapse answers at most 100 rooms a page, so paging runs on real `since` tokens).
 */
export function createPublishedRooms(client: SynapseClient, options: BulkRoomsOptions): Promise<string[]> {
  const slug = options.prefix.toLowerCase().replace(/[^a-z0-9]+/g, '-');
  const indexes = Array.from({ length: options.count }, (_, index) => index + 1);
  return mapConcurrent(indexes, options.concurrency ?? 4, (n) =>
    // No topic: one event less per room, and hundreds of rooms add up.
    client.createRoom({
      name: `${options.prefix} ${n}`,
      ...(options.aliases ? { alias: `${slug}-${n}` } : {}),
    }),
  );
}

export interface SpaceOptions {
  name: string;
  alias?: string;
  topic?: string;
  publish?: boolean;
  /** Children as `m.space.child` state with `via` (the servers to join them through). */
  children: { roomId: string; via: string[] }[];
}

/** A space (`m.space` room) whose children are listed with `m.space.child` state events. */
export function createSpace(client: SynapseClient, options: SpaceOptions): Promise<string> {
  return client.createRoom({
    name: options.name,
    roomType: 'm.space',
    ...(options.alias === undefined ? {} : { alias: options.alias }),
    ...(options.topic === undefined ? {} : { topic: options.topic }),
    ...(options.publish === undefined ? {} : { publish: options.publish }),
    initialState: options.children.map((child) => ({
      type: 'm.space.child',
      state_key: child.roomId,
      content: { via: child.via },
    })),
  });
}

/** Polls `check` until it holds: Synapse updates its directory's room stats a moment after an event. */
export async function eventually<T>(
  what: string,
  read: () => Promise<T>,
  check: (value: T) => boolean,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  for (;;) {
    last = await read();
    if (check(last)) return last;
    if (Date.now() > deadline) {
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}; last value: ${JSON.stringify(last)}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}
