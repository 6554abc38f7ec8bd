import { type Config, ConfigError, loadConfig } from '@atlas/shared/config';
import { type Command, type CommandIo, EXIT, UsageError } from './command.ts';
import { COMMANDS, type CommandEntry } from './commands/index.ts';

function usage(commands: readonly Command[]): string {
  const width = Math.max(...commands.map((c) => c.name.length)) + 2;
  const lines = commands.map((c) => `  ${c.name.padEnd(width)}${c.summary}`);
  return `Usage: atlas <command> [options]

Commands:
${lines.join('\n')}

\`atlas <command> --help\` describes a command. Settings come from the environment: see README.md
("Configuration").`;
}

export interface MainOptions {
  env?: Record<string, string | undefined>;
  stdout?: NodeJS.WritableStream;
  stderr?: NodeJS.WritableStream;
  commands?: readonly CommandEntry[];
}

/** Runs one CLI command and returns the process exit code. */
export async function main(argv: string[], options: MainOptions = {}): Promise<number> {
  const stdout = options.stdout ?? process.stdout;
  const stderr = options.stderr ?? process.stderr;
  const commands = options.commands ?? COMMANDS;
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    (name ? stdout : stderr).write(`${usage(await Promise.all(commands.map((c) => c.load())))}\n`);
    return name ? EXIT.ok : EXIT.usage;
  }
  const entry = commands.find((c) => c.name === name);
  if (!entry) {
    stderr.write(
      `atlas: unknown command "${name}"\n\n${usage(await Promise.all(commands.map((c) => c.load())))}\n`,
    );
    return EXIT.usage;
  }
  const command = await entry.load();
  let config: Config | undefined;
  const io: CommandIo = {
    stdout,
    stderr,
    config: () => {
      // Config is parsed once, at boot; nothing else reads the environment.
      config ??= loadConfig(options.env ?? process.env);
      return config;
    },
  };
  try {
    return await command.run(rest, io);
  } catch (error) {
    if (error instanceof UsageError) {
      stderr.write(`atlas ${name}: ${error.message}\n\n${command.usage}\n`);
      return EXIT.usage;
    }
    if (error instanceof ConfigError) {
      stderr.write(`atlas: ${error.message}\n`);
      return EXIT.config;
    }
    stderr.write(`atlas ${name}: ${error instanceof Error ? error.message : String(error)}\n`);
    return EXIT.failure;
  }
}
