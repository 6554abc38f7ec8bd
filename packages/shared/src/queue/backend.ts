import {
  type BackendFactory,
  createPostgresBackend,
  DEFAULT_SCHEMA,
  type IQueueBackend,
  type Job,
  Queue,
  type QueueOptions,
  runMigrations,
  Worker,
  type WorkerOptions,
} from 'bullmq';
import { Redis } from 'ioredis';
import pg from 'pg';
import { QUEUES, type QueueName, WORKER_LOCK } from './definitions.ts';

/** Thrown by a job that can never succeed: it fails at once, without retries. */
export { UnrecoverableError } from 'bullmq';

/** A worker's processor; `token` is the job's lock token (to move the job, e.g. back to delayed). */
export type Processor<T> = (job: Job<T>, token?: string) => Promise<unknown>;

/**
 * Per-worker settings a process may tune: how many jobs at once (the queue's definition says how
 * many for a crawler process), and how fast a job whose process died (its lock not renewed) is
 * handed to another worker (`WORKER_LOCK` by default).
 */
export type WorkerTuning = Pick<
  WorkerOptions,
  'concurrency' | 'lockDuration' | 'stalledInterval' | 'maxStalledCount'
>;

/**
 * The one place that knows whether jobs live in Redis or in PostgreSQL. Job code only sees
 * `queue()` and `worker()`, so it runs unchanged on either.
 */
export interface QueueBackend {
  kind: 'redis' | 'postgres';
  queue<T = unknown>(name: QueueName): Queue<T>;
  worker<T = unknown>(name: QueueName, processor: Processor<T>, options?: WorkerTuning): Worker<T>;
  /** Closes every queue and worker this backend made, then its connections. */
  close(): Promise<void>;
}

export interface QueueBackendOptions {
  /** With a Redis URL, BullMQ runs on Redis; without, on PostgreSQL at `databaseUrl`. */
  redisUrl: string | undefined;
  databaseUrl: string;
  /**
   * The Redis key prefix, isolating one deployment's (or one test's) jobs on a shared Redis. On
   * PostgreSQL the jobs live in the `bullmq` schema of Atlas's own database, which isolates them.
   */
  namespace?: string;
}

const DEFAULT_NAMESPACE = 'atlas';

export async function createQueueBackend(options: QueueBackendOptions): Promise<QueueBackend> {
  const namespace = options.namespace ?? DEFAULT_NAMESPACE;
  if (!/^[a-z][a-z0-9_]{0,40}$/.test(namespace)) {
    throw new Error(`queue namespace "${namespace}" must be lowercase letters, digits and _`);
  }
  return options.redisUrl
    ? createRedisBackend(options.redisUrl, namespace)
    : createPostgresQueueBackend(options.databaseUrl);
}

interface Built {
  queueOptions: QueueOptions;
  workerOptions: Omit<WorkerOptions, 'concurrency'>;
  factory: BackendFactory<IQueueBackend, unknown> | undefined;
}

function makeBackend(
  kind: QueueBackend['kind'],
  built: Built,
  closeConnections: () => Promise<void>,
): QueueBackend {
  const queues = new Map<QueueName, Queue>();
  const workers: Worker[] = [];
  // BullMQ's constructors take the backend factory as an optional last argument; the Redis
  // backend is the default when it is absent.
  const extra = built.factory ? [built.factory] : [];
  return {
    kind,
    queue<T>(name: QueueName): Queue<T> {
      let queue = queues.get(name);
      if (!queue) {
        queue = new (Queue as unknown as new (...args: unknown[]) => Queue)(
          name,
          { ...built.queueOptions, defaultJobOptions: QUEUES[name].jobOptions },
          ...extra,
        );
        queues.set(name, queue);
      }
      return queue as unknown as Queue<T>;
    },
    worker<T>(name: QueueName, processor: Processor<T>, opts: WorkerTuning = {}): Worker<T> {
      const worker = new (Worker as unknown as new (...args: unknown[]) => Worker)(
        name,
        processor,
        { ...built.workerOptions, ...WORKER_LOCK, ...opts, concurrency: opts.concurrency ?? 1 },
        ...extra,
      );
      workers.push(worker);
      return worker as unknown as Worker<T>;
    },
    async close() {
      await Promise.all(workers.map((w) => w.close()));
      await Promise.all([...queues.values()].map((q) => q.close()));
      await closeConnections();
    },
  };
}

function createRedisBackend(redisUrl: string, prefix: string): QueueBackend {
  // Workers block on their connection and must never give up on a command (BullMQ's advice).
  const connection = new Redis(redisUrl, { maxRetriesPerRequest: null, lazyConnect: false });
  return makeBackend(
    'redis',
    {
      queueOptions: { connection, prefix },
      workerOptions: { connection, prefix },
      factory: undefined,
    },
    async () => {
      connection.disconnect();
    },
  );
}

async function createPostgresQueueBackend(databaseUrl: string): Promise<QueueBackend> {
  // One pool for every queue and worker of this process (BullMQ would build one per instance).
  // A shared pool always uses BullMQ's default schema, and BullMQ only pins search_path on pools
  // it builds itself, so it is pinned here.
  const pool = new pg.Pool({
    connectionString: databaseUrl,
    max: 24,
    application_name: 'atlas-queue',
    options: `-c search_path=${DEFAULT_SCHEMA}`,
  });
  pool.on('error', () => {
    // An idle client lost its connection; the pool replaces it on next use.
  });
  // Every queue and worker of the process listens on this one pool; more than ten is expected.
  pool.setMaxListeners(0);
  await runMigrations(pool, DEFAULT_SCHEMA);
  const connection = pool as unknown as QueueOptions['connection'];
  return makeBackend(
    'postgres',
    {
      queueOptions: { connection },
      workerOptions: { connection },
      factory: createPostgresBackend as unknown as BackendFactory<IQueueBackend, unknown>,
    },
    () => pool.end(),
  );
}
