import { z } from 'zod';

/** How a server name reached Atlas. */
export const FOUND_VIA = [
  'seed',
  'alias',
  'room_id',
  'query_directory',
  'hierarchy',
  'inbound',
  'submission',
  'admin',
  'via_server',
] as const;
export type FoundVia = (typeof FOUND_VIA)[number];

export const probePayload = z.object({ serverName: z.string().min(1).max(255) });
export type ProbePayload = z.infer<typeof probePayload>;

export const crawlPayload = z.object({ serverName: z.string().min(1).max(255) });
export type CrawlPayload = z.infer<typeof crawlPayload>;

export const indexPayload = z.object({ full: z.boolean().default(false) });
export type IndexPayload = z.infer<typeof indexPayload>;

export const sweepPayload = z.object({});
