import type { Config } from '@atlas/shared/config';

/** Where a command writes: stdout for its output (JSON, NDJSON), stderr for people. */
export interface CommandIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  /** The configuration, parsed on first use (commands like `help` never need it). */
  config(): Config;
}

/** One `atlas <name>` command. Add a command with a file in commands/ and a line in commands/index.ts. */
export interface Command {
  name: string;
  /** One line for `atlas --help`. */
  summary: string;
  /** Full usage, for `atlas <name> --help`. */
  usage: string;
  run(args: string[], io: CommandIo): Promise<number>;
}

/** Exit codes. 78 is EX_CONFIG from sysexits.h, used for configuration errors. */
export const EXIT = { ok: 0, failure: 1, usage: 2, config: 78, interrupted: 130 } as const;

export class UsageError extends Error {
  override name = 'UsageError';
}
