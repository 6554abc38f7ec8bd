/** Element's `room_directory.servers` as Atlas serves it (`/api/v1/element/config.json`). */
export interface ElementConfigFeed {
  room_directory: { servers: string[] };
}

export class ElementConfigError extends Error {
  override name = 'ElementConfigError';
}

/**
 * An Element config.json with `room_directory.servers` replaced and everything else kept as it
 * was (`atlas element-config --merge`, and the compose stack's element-config service). Refuses
 * anything that is not a JSON object, rather than overwrite a file it misread.
 */
export function mergeElementConfig(config: unknown, servers: string[]): Record<string, unknown> {
  if (typeof config !== 'object' || config === null || Array.isArray(config)) {
    throw new ElementConfigError('the Element config is not a JSON object');
  }
  const existing = (config as Record<string, unknown>).room_directory;
  if (
    existing !== undefined &&
    (typeof existing !== 'object' || existing === null || Array.isArray(existing))
  ) {
    throw new ElementConfigError('"room_directory" in the Element config is not an object');
  }
  return {
    ...(config as Record<string, unknown>),
    room_directory: { ...((existing as Record<string, unknown> | undefined) ?? {}), servers },
  };
}
