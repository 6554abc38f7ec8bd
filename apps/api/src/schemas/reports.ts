import { z } from '@hono/zod-openapi';

/** A report, from the JSON API or the pages' report forms (the same rules for both). */
export const ReportBodySchema = z
  .object({
    room_id: z.string().min(2).max(255).regex(/^!/, 'a room id starts with "!"').optional(),
    server_name: z
      .string()
      .min(1)
      .max(255)
      .regex(/^[A-Za-z0-9.:[\]-]+$/)
      .optional(),
    reason: z.string().trim().min(3).max(2000),
  })
  .openapi('ReportRequest');
