import { parseArgs } from 'node:util';
import { UsageError } from './command.ts';

type Options = NonNullable<Parameters<typeof parseArgs>[0]>['options'];

/** node:util parseArgs, with errors turned into usage errors. */
export function parseCommandArgs<O extends Options>(args: string[], options: O) {
  try {
    return parseArgs({
      args,
      options: { ...options, help: { type: 'boolean', short: 'h' } },
      allowPositionals: true,
      strict: true,
    });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}
