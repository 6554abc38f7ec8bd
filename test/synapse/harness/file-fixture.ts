import { afterAll, beforeAll } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../support/database.ts';
import { type SynapseCluster, type SynapseClusterOptions, startSynapseCluster } from './cluster.ts';
import { printSynapseLogsOnFailure } from './logs-on-failure.ts';

export interface SynapseFixture {
  readonly cluster: SynapseCluster;
  readonly database: TestDatabase;
}

/**
 * A Synapse cluster and a database of the file's own, shared by every test of the file. The
 * cluster starts in a beforeAll registered here, so the file's own beforeAll hooks (registered
 * after) can use it; it stops, and the database is dropped, after the file's own afterAll hooks
 * (vitest runs those last-registered first). A failing test prints the Synapse log tails.
 */
export function useSynapseCluster(databaseName: string, options: SynapseClusterOptions = {}): SynapseFixture {
  let cluster: SynapseCluster | undefined;
  let database: TestDatabase | undefined;
  printSynapseLogsOnFailure(() => cluster);
  beforeAll(async () => {
    cluster = await startSynapseCluster(options);
    database = await createTestDatabase(databaseName);
  });
  afterAll(async () => {
    await cluster?.stop();
    await database?.drop();
  });
  const notStarted = () =>
    new Error(
      'the Synapse cluster is not started: use it in a test or in a beforeAll after useSynapseCluster',
    );
  return {
    get cluster() {
      if (!cluster) throw notStarted();
      return cluster;
    },
    get database() {
      if (!database) throw notStarted();
      return database;
    },
  };
}
