import { startKeyServer } from '@atlas/api/key-server';
import { type CrawlSummaryJson, crawlOnce, startCrawlOnceWorkers, summaryJson } from '@atlas/crawler';
import { directoryTotals } from '@atlas/shared/db';
import { parseServerName } from '@atlas/shared/matrix';
import { parseCommandArgs } from '../args.ts';
import { type Command, EXIT, UsageError } from '../command.ts';
import { openCrawlerRuntime } from '../crawler-runtime.ts';
import { type ProcessOptions, runProcess } from '../run-process.ts';

const CRAWL_PROCESS: ProcessOptions = { role: 'crawl', applicationName: 'atlas-crawl', migrate: true };

export const crawlCommand: Command = {
  name: 'crawl',
  summary: 'crawl once: discover, probe, crawl and measure until the queues drain, then exit',
  usage: `Usage: atlas crawl --once [--seeds a.example,b.example] [--json]

  --once      required: one pass, then exit 0 (\`atlas start\` or \`atlas crawler\` crawl continuously)
  --seeds     comma-separated server names to start from (default: ATLAS_SEEDS, else the built-in list)
  --json      print a summary object on stdout when done

Every server Atlas knows becomes due, and the seeds are added. Atlas probes them, reads every
directory it can, follows the servers they name, measures room complexity (within each server's
follow-up budget, ATLAS_FOLLOW_UP_SECONDS), and puts the rooms in the search index, until the
probe, crawl, room-facts and index queues are empty: when it ends, \`atlas api\` finds
every room it stored. Progress goes to stderr about once a second. While it runs, Atlas serves its key over TLS on ATLAS_FEDERATION_PORT when
ATLAS_TLS_CERT_FILE and ATLAS_TLS_KEY_FILE are set, so remote servers can verify its requests.`,
  async run(args, io) {
    const { values } = parseCommandArgs(args, {
      once: { type: 'boolean' },
      seeds: { type: 'string' },
      json: { type: 'boolean' },
    });
    if (values.help) {
      io.stdout.write(`${this.usage}\n`);
      return EXIT.ok;
    }
    if (!values.once) {
      throw new UsageError(
        '`atlas crawl` needs --once (to crawl continuously, run `atlas start` or `atlas crawler`)',
      );
    }
    const config = io.config();
    let seeds = config.seeds;
    if (values.seeds !== undefined) {
      seeds = values.seeds
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s.length > 0);
      const bad = seeds.filter((s) => parseServerName(s) === null);
      if (bad.length > 0 || seeds.length === 0) {
        throw new UsageError(
          `--seeds needs Matrix server names separated by commas; not valid: ${bad.join(', ') || '(empty)'}`,
        );
      }
    }
    const started = Date.now();
    return runProcess(io, CRAWL_PROCESS, async (boot) => {
      const { database, log, plan, parts } = boot;
      let interrupted = false;
      const stopSignal = boot.stopped.then(() => {
        interrupted = true;
        parts.runtime?.abort();
      });
      // A one-off pass measures every room it lists, and so finds servers that joined rooms since.
      const runtime = await openCrawlerRuntime(boot, { factsMeasuredSince: new Date(started) });
      if (plan.servesKeyOverTls && plan.identity && config.federation) {
        const keyServer = await startKeyServer({
          identity: plan.identity,
          host: config.http.host,
          ...config.federation,
        });
        parts.extra = [keyServer];
        log.info({ federationPort: keyServer.port }, 'serving the federation key over TLS while crawling');
      }
      parts.crawler = await startCrawlOnceWorkers(runtime);
      const pass = await Promise.race([
        crawlOnce(runtime, { seeds, onProgress: (line) => io.stderr.write(`atlas: ${line}\n`) }),
        stopSignal,
      ]);
      if (interrupted || !pass) {
        io.stderr.write('atlas: interrupted; what was read so far is stored\n');
        return EXIT.interrupted;
      }
      const summary: CrawlSummaryJson = summaryJson({
        startedAt: started,
        seeds,
        serverName: plan.identity?.serverName ?? null,
        servesKeyOverTls: plan.servesKeyOverTls,
        modes: pass.modes,
        queueBackend: runtime.ctx.queues.kind,
        stats: runtime.ctx.stats,
        totals: await directoryTotals(database.sql),
        searchable: pass.searchable,
      });
      io.stderr.write(
        `atlas: done in ${Math.round(summary.durationMs / 1000)}s: ${summary.run.probed} servers probed, ` +
          `${summary.run.crawled} directories read, ${summary.run.roomsStored} rooms stored ` +
          `(${summary.totals.rooms.total} rooms known, ${summary.totals.rooms.searchable} searchable; ` +
          `${summary.totals.servers.total} servers known)\n`,
      );
      if (values.json) io.stdout.write(`${JSON.stringify(summary)}\n`);
      return EXIT.ok;
    });
  },
};
