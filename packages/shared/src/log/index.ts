import pino, { type Logger } from 'pino';

export type { Logger } from 'pino';

export interface LogOptions {
  level: string;
  /** Human-readable output for development; JSON lines otherwise. */
  pretty?: boolean;
  /** Where lines go; stderr by default so that stdout stays free for command output (`--json`). */
  destination?: NodeJS.WritableStream;
}

export function createLogger(options: LogOptions): Logger {
  const base = { level: options.level, base: { app: 'atlas' } };
  if (options.pretty) {
    return pino({
      ...base,
      transport: { target: 'pino-pretty', options: { destination: 2, colorize: true } },
    });
  }
  return pino(base, options.destination ?? pino.destination({ dest: 2, sync: false }));
}

/** A logger that drops everything, for tests and library callers that pass none. */
export const silentLogger: Logger = pino({ level: 'silent' });
