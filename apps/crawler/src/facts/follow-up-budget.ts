import { chargeFollowUp, followUpLimits } from '@atlas/shared/db';
import type { CrawlerContext } from '../context.ts';

/**
 * One job's view of its server's follow-up budget (ATLAS_FOLLOW_UP_SECONDS per directory read).
 * What counts is the job's busy time: the wall time while at least one of its rooms is being
 * worked on, less the time all of them wait for complexity slots (the slots are shared by every
 * server, so waiting for one is no server's doing). Rooms worked on side by side count once, and
 * waiting for the server's own answers counts: a slow server spends its budget faster. Counted
 * time is written after each batch, where other jobs of the same server see it; a budget is overrun
 * by at most the rooms in flight when it ran out.
 */
export class FollowUpBudget {
  /** Busy time counted and not written yet. */
  private uncharged = 0;
  /** Rooms being worked on now, not waiting for a slot. */
  private working = 0;
  private busySince = 0;

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
    const running = this.working > 0 ? Date.now() - this.busySince : 0;
    return this.spent + this.uncharged + running >= this.limitMs;
  }

  private start(): void {
    if (this.working++ === 0) this.busySince = Date.now();
  }

  private stop(): void {
    if (--this.working === 0) this.uncharged += Date.now() - this.busySince;
  }

  /**
   * Runs one room's work and counts its time. `paused` wraps what the work waits for that is not
   * its own (a complexity slot).
   */
  async time<T>(work: (paused: <P>(wait: Promise<P>) => Promise<P>) => Promise<T>): Promise<T> {
    const paused = async <P>(wait: Promise<P>): Promise<P> => {
      this.stop();
      try {
        return await wait;
      } finally {
        this.start();
      }
    };
    this.start();
    try {
      return await work(paused);
    } finally {
      this.stop();
    }
  }

  /** Writes the time counted since the last charge, and learns what other jobs spent meanwhile. */
  async charge(): Promise<void> {
    let ms = this.uncharged;
    this.uncharged = 0;
    if (this.working > 0) {
      const now = Date.now();
      ms += now - this.busySince;
      this.busySince = now;
    }
    this.spent = await chargeFollowUp(this.ctx.database.sql, this.serverName, ms);
  }
}
