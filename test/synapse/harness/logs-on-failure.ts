import { beforeEach } from 'vitest';
import type { SynapseCluster } from './cluster.ts';

/**
 * Prints the tail of every Synapse log when a test of the file fails (once per file: the later
 * failures point back to it), and keeps the logs on disk. `cluster` is read lazily because the
 * cluster starts in beforeAll.
 */
export function printSynapseLogsOnFailure(cluster: () => SynapseCluster | undefined, lines = 60): void {
  let printed = false;
  beforeEach(({ onTestFailed }) => {
    onTestFailed(async () => {
      const current = cluster();
      if (!current) return;
      current.keepLogs();
      if (printed) {
        process.stderr.write(`\n(Synapse log tails printed above; logs kept in ${current.dir})\n`);
        return;
      }
      printed = true;
      process.stderr.write(`\n${await current.logTails(lines)}\n`);
    });
  });
}

/** Runs a setup step; when it throws, the error carries the Synapse log tails and the logs are kept. */
export async function withSynapseLogs<T>(
  cluster: SynapseCluster,
  what: string,
  step: () => Promise<T>,
): Promise<T> {
  try {
    return await step();
  } catch (error) {
    cluster.keepLogs();
    const message = error instanceof Error ? error.message : String(error);
    throw new Error(`${what} failed: ${message}\n${await cluster.logTails(40)}`, { cause: error });
  }
}
