/**
 * Room owners opt out of directories by putting a tag in the room topic. Atlas honours its own
 * tag and the one the Matrix Rooms Search project (MRS) defined, so a room opted out of one
 * directory is opted out of both.
 */
export const ATLAS_NOINDEX_TAG = '(atlas-noindex)';
export const MRS_NOINDEX_TAG = '(MRS-noindex:true-MRS)';

export function hasNoindexTag(topic: string | null | undefined): boolean {
  if (!topic) return false;
  const lower = topic.toLowerCase();
  return lower.includes(ATLAS_NOINDEX_TAG) || lower.includes(MRS_NOINDEX_TAG.toLowerCase());
}
