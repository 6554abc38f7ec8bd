/**
 * An estimate of Synapse's complexity v1 (current state events / 500) for rooms no resident server
 * answers for. A room's current state holds one membership event per member who ever joined, left
 * or was invited, plus a handful of room-wide events (create, power levels, join rules, history
 * visibility, name, topic, alias, guest access, encryption...). Joined members are what directories
 * publish; past members are guessed at a fifth of them. Estimates are stored as such.
 */
const ROOM_STATE_EVENTS = 10;
const PAST_MEMBER_RATIO = 0.2;

export function estimateComplexity(joinedMembers: number): number {
  const members = Math.max(0, Math.floor(joinedMembers));
  const stateEvents = ROOM_STATE_EVENTS + members * (1 + PAST_MEMBER_RATIO);
  return Math.round((stateEvents / 500) * 100) / 100;
}
