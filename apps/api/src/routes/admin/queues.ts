import { QUEUE_NAMES, type QueueBackend } from '@atlas/shared/queue';
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { HonoAdapter } from '@bull-board/hono';
import { serveStatic } from '@hono/node-server/serve-static';
import type { Hono } from 'hono';

/** The BullMQ dashboard (@bull-board/hono) for Atlas's queues, served under `basePath`. */
export function queueDashboard(queues: QueueBackend, basePath: string): Hono {
  const adapter = new HonoAdapter(serveStatic);
  createBullBoard({
    queues: QUEUE_NAMES.map((name) => new BullMQAdapter(queues.queue(name))),
    serverAdapter: adapter,
    options: { uiConfig: { boardTitle: 'Atlas queues' } },
  });
  adapter.setBasePath(basePath);
  return adapter.registerPlugin() as unknown as Hono;
}
