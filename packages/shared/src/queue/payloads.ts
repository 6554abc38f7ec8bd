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

export const discoverPayload = z.object({
  candidates: z
    .array(
      z.object({
        name: z.string().min(1).max(255),
        via: z.enum(FOUND_VIA),
        from: z.string().max(512).optional(),
      }),
    )
    .min(1)
    .max(10_000),
});
export type DiscoverPayload = z.infer<typeof discoverPayload>;

export const probePayload = z.object({ serverName: z.string().min(1).max(255) });
export type ProbePayload = z.infer<typeof probePayload>;

export const crawlPayload = z.object({ serverName: z.string().min(1).max(255) });
export type CrawlPayload = z.infer<typeof crawlPayload>;

export const complexityPayload = z.object({
  roomId: z.string().min(1).max(255),
  /** Servers known to be in the room, tried in order. */
  servers: z.array(z.string().max(255)).max(50).default([]),
});
export type ComplexityPayload = z.infer<typeof complexityPayload>;

export const indexPayload = z.object({ full: z.boolean().default(false) });
export type IndexPayload = z.infer<typeof indexPayload>;

export const sweepPayload = z.object({});
