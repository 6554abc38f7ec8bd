import { complexityPayload } from '@atlas/shared/queue';
import { z } from 'zod';

/**
 * The crawler's form of a complexity job: one step for the rooms queued for one server in
 * `pending_room_facts` (that server listed them, so it is in them and is asked first): `leads`
 * (servers in the room, space children; the default, which jobs queued before steps existed get)
 * or `complexity`. The single-room form of `@atlas/shared/queue` (`{roomId, servers}`) is accepted
 * too, for requests from elsewhere in Atlas: it queues the room and measures it the same way.
 */
export const roomFactsPayload = z.object({
  listingServer: z.string().min(1).max(255),
  step: z.enum(['leads', 'complexity']).default('leads'),
});
export type RoomFactsPayload = z.infer<typeof roomFactsPayload>;

export const complexityJobPayload = z.union([roomFactsPayload, complexityPayload]);
export type ComplexityJobPayload = z.infer<typeof complexityJobPayload>;
