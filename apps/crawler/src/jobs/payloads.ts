import { z } from 'zod';

/**
 * The crawler's form of a complexity job: one step for the rooms queued for one server in
 * `pending_room_facts` (that server listed them, so it is in them and is asked first): `leads`
 * (servers in the room, space children) or `complexity`.
 */
export const roomFactsPayload = z.object({
  listingServer: z.string().min(1).max(255),
  step: z.enum(['leads', 'complexity']),
});
export type RoomFactsPayload = z.infer<typeof roomFactsPayload>;
