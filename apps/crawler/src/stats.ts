/** Counters of what this process did, for progress lines and the `crawl --once --json` summary. */
export class CrawlStats {
  readonly startedAt = Date.now();
  discovered = 0;
  probed = 0;
  probes: Record<'online' | 'offline' | 'invalid', number> = { online: 0, offline: 0, invalid: 0 };
  crawled = 0;
  crawls: Record<string, number> = {};
  stopReasons: Record<string, number> = {};
  modes: Record<string, number> = {};
  roomsStored = 0;
  roomsMalformed = 0;
  roomsNoindex = 0;
  roomsMeasured = 0;
  /** Rooms whose servers (query/directory) and space children were asked for. */
  roomsLeads = 0;
  /** Rooms a complete read did not list that its directory's search found listed after all. */
  roomsRecovered = 0;
  complexity: Record<'federation' | 'estimate', number> = { federation: 0, estimate: 0 };
  jobFailures = 0;
  /** Jobs put back for a while because another crawler process worked on their server (ADR 0009). */
  jobsDeferred = 0;

  count(map: Record<string, number>, key: string, by = 1): void {
    map[key] = (map[key] ?? 0) + by;
  }

  toJSON() {
    return {
      discovered: this.discovered,
      probed: this.probed,
      probes: this.probes,
      crawled: this.crawled,
      crawls: this.crawls,
      stopReasons: this.stopReasons,
      modes: this.modes,
      roomsStored: this.roomsStored,
      roomsMalformed: this.roomsMalformed,
      roomsNoindex: this.roomsNoindex,
      roomsMeasured: this.roomsMeasured,
      roomsLeads: this.roomsLeads,
      roomsRecovered: this.roomsRecovered,
      complexity: this.complexity,
      jobFailures: this.jobFailures,
      jobsDeferred: this.jobsDeferred,
    };
  }
}
