import { ConfigError, loadConfig } from '@atlas/shared/config';
import { runStart } from './start.ts';

const USAGE = `Usage: atlas <command> [options]

Commands:
  start                 migrate, then run the crawler and the HTTP API (the embedded default)

Environment: see README.md ("Configuration").`;

/** Runs one CLI command and returns the process exit code. */
export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return command ? 0 : 2;
  }
  try {
    const config = loadConfig(process.env);
    switch (command) {
      case 'start':
        return await runStart(config, rest);
      default:
        process.stderr.write(`atlas: unknown command "${command}"\n\n${USAGE}\n`);
        return 2;
    }
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`atlas: ${error.message}\n`);
      return 78;
    }
    process.stderr.write(`atlas: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
}
