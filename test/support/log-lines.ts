import { Writable } from 'node:stream';
import { createLogger, type Logger } from '@atlas/shared/log';

export interface LogLine {
  level: number;
  msg: string;
  [field: string]: unknown;
}

/** A logger whose lines a test can read back: what an operator would see in the log. */
export function capturedLogger(level = 'debug'): { log: Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (const text of chunk.toString('utf8').split('\n')) {
        if (text.trim()) lines.push(JSON.parse(text) as LogLine);
      }
      callback();
    },
  });
  return { log: createLogger({ level, destination }), lines };
}
