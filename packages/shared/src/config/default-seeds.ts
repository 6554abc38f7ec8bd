/**
 * Where a crawl starts when ATLAS_SEEDS is unset: large, long-lived public servers whose room
 * directories name many other servers through aliases and room ids.
 */
export const DEFAULT_SEEDS: readonly string[] = [
  'matrix.org',
  'mozilla.org',
  'kde.org',
  'gnome.org',
  'fedora.im',
  'opensuse.org',
  'tchncs.de',
  'envs.net',
  'nitro.chat',
  'converser.eu',
  'matrix.im',
  'chat.mozilla.org',
];
