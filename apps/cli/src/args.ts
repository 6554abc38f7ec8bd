import { parseArgs } from 'node:util';
import { UsageError } from './command.ts';

type Options = NonNullable<Parameters<typeof parseArgs>[0]>['options'];

function parse<O extends Options>(args: string[], options: O) {
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

/**
 * node:util parseArgs, with errors turned into usage errors. A command takes no positional
 * arguments unless it says how many (`atlas export rooms` takes one); an extra one is a mistake to
 * point out, not to ignore.
 */
export function parseCommandArgs<O extends Options>(args: string[], options: O, maxPositionals = 0) {
  const parsed = parse(args, options);
  const extra = parsed.positionals[maxPositionals];
  if (extra !== undefined && !args.includes('--help') && !args.includes('-h')) {
    throw new UsageError(`unexpected argument "${extra}"`);
  }
  return parsed;
}
