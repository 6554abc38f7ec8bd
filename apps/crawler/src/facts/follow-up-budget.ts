import { chargeFollowUp, followUpLimits } from '@atlas/shared/db';
import type { CrawlerContext } from '../context.ts';

/**
 * One job's view of its server's follow-up budget (ATLAS_FOLLOW_UP_SECONDS per directory read).
 * Work is counted per room, from the moment a room is taken up until its answers are in, less the
 * time it waited for a complexity slot (the slots are shared by every server, so waiting for one is
 * no server's doing). Counted time is written after each batch, where other jobs of the same server
 * see it; so a budget is overrun by at most the rooms in flight when it ran out.
 */
export class FollowUpBudget {
  private uncharged = 0;

  private constructor(
    private readonly ctx: CrawlerContext,
    private readonly serverName: string,
    private readonly limitMs: number,
    private spent: number,
  ) {}

  /**
   * The budget of `step`: the leads step may use part of it (so the complexity step always has some
   * left for the biggest rooms), the complexity step what remains.
   */
  static async open(
    ctx: CrawlerContext,
    serverName: string,
    step: 'leads' | 'complexity',
  ): Promise<FollowUpBudget> {
    const limits = followUpLimits(ctx.settings.directory.followUpMs);
    const spent = await chargeFollowUp(ctx.database.sql, serverName, 0);
    return new FollowUpBudget(ctx, serverName, step === 'leads' ? limits.leadsMs : limits.totalMs, spent);
  }

  get exhausted(): boolean {
    return this.spent + this.uncharged >= this.limitMs;
  }

  /**
   * Runs one room's work and counts its time. `paused` wraps what the work waits for that is not
   * its own (a complexity slot); that wait is not counted.
   */
  async time<T>(work: (paused: <P>(wait: Promise<P>) => Promise<P>) => Promise<T>): Promise<T> {
    const started = Date.now();
    let waited = 0;
    const paused = async <P>(wait: Promise<P>): Promise<P> => {
      const from = Date.now();
      try {
        return await wait;
      } finally {
        waited += Date.now() - from;
      }
    };
    try {
      return await work(paused);
    } finally {
      this.uncharged += Math.max(0, Date.now() - started - waited);
    }
  }

  /** Writes the time counted since the last charge, and learns what other jobs spent meanwhile. */
  async charge(): Promise<void> {
    const ms = this.uncharged;
    this.uncharged = 0;
    this.spent = await chargeFollowUp(this.ctx.database.sql, this.serverName, ms);
  }
}
