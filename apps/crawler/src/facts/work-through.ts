import { enqueue } from '@atlas/shared/queue';
import type { CrawlerContext } from '../context.ts';
import { nextTurn } from '../policy/follow-up.ts';
import { FollowUpBudget } from './follow-up-budget.ts';
import { ServerGate } from './server-gate.ts';

/**
 * Rooms of a batch asked about at once. Requests to one host still go one at a time (the HTTP
 * client's per-host lock); this lets rooms whose alias lives on another server go in parallel.
 */
const PARALLEL_ROOMS = 4;

/**
 * Runs `work` over `items`, at most `limit` at a time, keeping the results in order. Once `stop()`
 * says so, no further item is begun: the results are those of the items begun before.
 */
async function inParallel<T, R>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<R>,
  stop: () => boolean,
): Promise<R[]> {
  const results = new Array<R | undefined>(items.length);
  const done = new Array<boolean>(items.length).fill(false);
  let next = 0;
  const lane = async () => {
    while (next < items.length && !stop()) {
      const index = next++;
      results[index] = await work(items[index] as T);
      done[index] = true;
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  return results.filter((_, index) => done[index]) as R[];
}

/** One step of a server's follow-up: how it takes its rooms, works on one, and records a batch. */
export interface FollowUpStep<Room, Result> {
  step: 'leads' | 'complexity';
  /** The job that takes over when this one hands its worker back. */
  job: 'room-leads' | 'room-complexity';
  batch: number;
  take(listingServer: string, limit: number): Promise<Room[]>;
  /** Servers a batch may ask besides the listing server (their stored status is read first). */
  serversOf(rooms: readonly Room[]): string[];
  /** `paused` wraps a wait that is not this server's time (a complexity slot). */
  work(gate: ServerGate, room: Room, paused: <P>(wait: Promise<P>) => Promise<P>): Promise<Result>;
  record(results: Result[]): Promise<void>;
}

/**
 * Works through one step of the rooms queued for a server, batch by batch, within the server's
 * follow-up budget and one turn (`nextTurn`). Returns how many rooms it handled, and whether it
 * handed its worker back (a job for the rest is queued behind other servers').
 */
export async function workThrough<Room, Result>(
  ctx: CrawlerContext,
  listingServer: string,
  step: FollowUpStep<Room, Result>,
): Promise<{ handled: number; handedBack: boolean }> {
  const budget = await FollowUpBudget.open(ctx, listingServer, step.step);
  const startedAt = Date.now();
  let handled = 0;
  let gate: ServerGate | undefined;
  for (;;) {
    const turn = nextTurn({
      aborted: ctx.signal.aborted,
      budgetSpent: budget.exhausted,
      handled,
      elapsedMs: Date.now() - startedAt,
    });
    if (turn === 'stop') break;
    if (turn === 'hand-back') {
      await enqueue(ctx.queues, step.job, [{ listingServer }]);
      return { handled, handedBack: true };
    }
    const rooms = await step.take(listingServer, step.batch);
    if (rooms.length === 0) break;
    gate = await ServerGate.load(ctx, [listingServer, ...step.serversOf(rooms)], gate);
    const active = gate;
    const results = await inParallel(
      rooms,
      PARALLEL_ROOMS,
      (room) => budget.time((paused) => step.work(active, room, paused)),
      () => budget.exhausted || ctx.signal.aborted,
    );
    if (ctx.signal.aborted) break;
    await step.record(results);
    await budget.charge();
    handled += results.length;
  }
  return { handled, handedBack: false };
}
