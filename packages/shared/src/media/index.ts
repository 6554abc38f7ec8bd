export * from './avatars.ts';
export * from './errors.ts';
export {
  AVATAR_CONTENT_TYPE,
  AVATAR_VARIANTS,
  type AvatarVariant,
  checkImageType,
  type ImageType,
  MAX_INPUT_PIXELS,
  renderAvatar,
  sniffImageType,
} from './image.ts';
export { type FederationMediaAnswer, multipartBoundary, parseFederationMedia } from './multipart.ts';
export { fetchThumbnail, MAX_MEDIA_BYTES, MEDIA_TIMEOUTS } from './remote.ts';
export { AvatarStore, type StoredAvatar } from './store.ts';
