/** Sets V8's flags for an `atlas` command (see v8-flags.mjs). */
export function applyV8Flags(command: string | undefined): void;
