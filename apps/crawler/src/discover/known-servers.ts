/** Names remembered at most; past it the memory starts over (a few megabytes at most). */
const MAX_NAMES = 50_000;
/** How long a name is remembered. */
const FORGET_AFTER_MS = 10 * 60 * 1000;

/**
 * Server names this process knows to be recorded. Every room's leads and every directory page name
 * mostly the same few servers again; recording names the `servers` table already holds changes
 * nothing (its insert keeps how a server was first found), so they are left out before any write.
 * A name counts once it was recorded or read back. Servers are never deleted, so forgetting is
 * only a bound on memory.
 */
export class KnownServers {
  private names = new Set<string>();
  private since: number;

  constructor(private readonly now: () => number = Date.now) {
    this.since = now();
  }

  has(name: string): boolean {
    this.expire();
    return this.names.has(name);
  }

  add(name: string): void {
    this.expire();
    if (this.names.size >= MAX_NAMES) this.forget();
    this.names.add(name);
  }

  private expire(): void {
    if (this.now() - this.since >= FORGET_AFTER_MS) this.forget();
  }

  private forget(): void {
    this.names = new Set();
    this.since = this.now();
  }
}
