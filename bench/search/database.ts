// A PostgreSQL holding the search benchmark's dataset, kept between runs: generating and indexing
// 100,000 rooms takes minutes, measuring a change takes seconds. Starts the embedded PostgreSQL in
// the data folder (or adopts the one still running there), migrates, generates the dataset when the
// database is empty, writes the URL to <data dir>/url and keeps PostgreSQL up until SIGINT/SIGTERM.
// Usage: node --import tsx bench/search/database.ts [--data-dir DIR] [--rooms 100000] [--servers 5000]
//          [--setup-only] (stop once the dataset is there: generate it under the benchmark lock)
// Then: run.ts --database-url "$(cat DIR/url)", cpu-cost.ts "$(cat DIR/url)".
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { connectDatabase, startEmbeddedPostgres } from '@atlas/shared/db';
import { silentLogger } from '@atlas/shared/log';
import { freePort } from '../../test/support/ports.ts';
import { DATASET_SIZE_OPTIONS, datasetSize, prepareDataset } from './prepare.ts';

const { values } = parseArgs({
  options: {
    'data-dir': { type: 'string', default: path.join(tmpdir(), 'atlas-search-bench') },
    ...DATASET_SIZE_OPTIONS,
    'setup-only': { type: 'boolean', default: false },
  },
});
const dataDir = values['data-dir'];
const pg = await startEmbeddedPostgres({
  dataDir,
  port: await freePort(),
  log: silentLogger,
  database: 'bench',
});
const database = connectDatabase(pg.url, { max: 4 });
try {
  await prepareDataset(database, datasetSize(values));
} finally {
  await database.close();
}
if (values['setup-only']) {
  await pg.stop();
  process.exit(0);
}
await writeFile(path.join(dataDir, 'url'), `${pg.url}\n`, { mode: 0o600 });
console.error(`PostgreSQL ready: ${pg.url} (also in ${path.join(dataDir, 'url')}); Ctrl-C stops it`);
const stop = async () => {
  await pg.stop();
  process.exit(0);
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
setInterval(() => {}, 1 << 30);
