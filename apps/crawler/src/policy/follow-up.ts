/**
 * How a job works through the follow-up of one server's rooms (the leads step, then the complexity
 * step), in turns, so that one server with thousands of rooms neither holds a worker for the whole
 * crawl nor holds up the servers found after it.
 */

/**
 * Rooms one job handles before it hands its worker back: the rest of the server's rooms go to a job
 * queued behind every other server's.
 */
export const ROOMS_PER_TURN = 500;
/** Time after which a job hands its worker back the same way, however few rooms it handled. */
export const TURN_MS = 30_000;
/** Resident servers asked for a room's complexity before falling back to an estimate. */
export const MAX_COMPLEXITY_TRIES = 3;

export interface TurnState {
  /** Atlas is shutting down. */
  aborted: boolean;
  /** The server's follow-up budget for this step is spent (the rest waits for its next read). */
  budgetSpent: boolean;
  /** Rooms this job has handled. */
  handled: number;
  /** Time since the job began. */
  elapsedMs: number;
}

/**
 * What a job does next, before each batch: `stop` (shutdown, or the budget is spent), `hand-back`
 * (queue a job for the rest behind other servers' and end), or `continue` with the next batch.
 */
export function nextTurn(state: TurnState): 'stop' | 'hand-back' | 'continue' {
  if (state.aborted || state.budgetSpent) return 'stop';
  if (state.handled >= ROOMS_PER_TURN || state.elapsedMs >= TURN_MS) return 'hand-back';
  return 'continue';
}

/**
 * The residents worth keeping for the complexity step: servers in the room besides the listing
 * server (always asked first), as many as are asked at most.
 */
export function residentsToKeep(listingServer: string, servers: readonly string[]): string[] {
  return servers.filter((name) => name !== listingServer).slice(0, MAX_COMPLEXITY_TRIES - 1);
}

/** The servers asked for a room's complexity, in order: the listing server, then residents. */
export function complexityTries(listingServer: string, residents: readonly string[]): string[] {
  return [listingServer, ...residents.filter((name) => name !== listingServer)].slice(
    0,
    MAX_COMPLEXITY_TRIES,
  );
}
