import { chmod, readFile, rename, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { type ElementFeedExplained, elementServerList, explainElementFeed } from '@atlas/api';
import { mergeElementConfig } from '@atlas/shared/api';
import { parseServerName } from '@atlas/shared/matrix';
import { parseCommandArgs } from '../args.ts';
import { type Command, EXIT, UsageError } from '../command.ts';
import { withDatabase } from '../run-process.ts';

/** The explanation as an operator reads it: the feed, then every server left out and why. */
function explanationText({ servers, left_out }: ElementFeedExplained): string {
  const lines = [`listed (${servers.length}):`, ...servers.map((name) => `  ${name}`)];
  lines.push(`left out (${left_out.length}):`);
  for (const server of left_out) lines.push(`  ${server.name}: ${server.explanation}`);
  return `${lines.join('\n')}\n`;
}

function serverList(value: string | undefined, option: string): string[] | undefined {
  if (value === undefined) return undefined;
  const names = value
    .split(',')
    .map((name) => name.trim())
    .filter(Boolean);
  for (const name of names) {
    if (!parseServerName(name)) throw new UsageError(`--${option}: "${name}" is not a server name`);
  }
  return names;
}

export const elementConfigCommand: Command = {
  name: 'element-config',
  summary: "write Atlas's server list into an Element config.json (room_directory.servers)",
  usage: `Usage: atlas element-config [--merge path/to/config.json] [--explain] [options]

Lists servers as /api/v1/element/config.json does: only those Element can browse (online, with a
directory Atlas last read over federation and found rooms in, not flagged unless vouched for),
most rooms first, then uptime; Atlas's own server name first when it has one. Without --merge,
prints {"room_directory":{"servers":[...]}} on stdout. With --merge, replaces
room_directory.servers in that Element config and keeps everything else; the file is replaced
atomically.
  --explain              say why every other server is left out (on stdout instead of the JSON;
                         on stderr with --merge)
  --limit N              servers to list (default 20)
  --include a,b          list these first
  --exclude a,b          never list these
  --registration-open    only servers with open registration
  --software name,...    only these implementations (Synapse, conduwuit, ...)`,
  async run(args, io) {
    const { values } = parseCommandArgs(args, {
      merge: { type: 'string' },
      limit: { type: 'string' },
      include: { type: 'string' },
      exclude: { type: 'string' },
      'registration-open': { type: 'boolean' },
      software: { type: 'string' },
      explain: { type: 'boolean' },
    });
    if (values.help) {
      io.stdout.write(`${this.usage}\n`);
      return EXIT.ok;
    }
    const limit = values.limit === undefined ? 20 : Number(values.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > 200)
      throw new UsageError('--limit: a whole number from 1 to 200');
    const include = serverList(values.include, 'include');
    const exclude = serverList(values.exclude, 'exclude');
    const software = values.software
      ?.split(',')
      .map((s) => s.trim())
      .filter(Boolean);

    // Read and check the file before touching the database: a bad path fails fast.
    let existing: unknown;
    const file = values.merge ? path.resolve(values.merge) : undefined;
    if (file) {
      let text: string;
      try {
        text = await readFile(file, 'utf8');
      } catch (error) {
        throw new Error(`cannot read ${file}: ${(error as Error).message}`);
      }
      try {
        existing = JSON.parse(text);
      } catch {
        throw new Error(`${file} is not valid JSON; fix it or point --merge at Element's config.json`);
      }
      mergeElementConfig(existing, []);
    }

    const explained = await withDatabase(
      io,
      { applicationName: 'atlas-element-config', migrate: false },
      async ({ config, database }): Promise<ElementFeedExplained> => {
        const options = {
          limit,
          include,
          exclude,
          registrationOpen: values['registration-open'],
          software,
          self: config.serverName,
          vouched: [...config.directory.vouched.keys()],
        };
        return values.explain
          ? explainElementFeed(database.sql, { ...options, leftOutLimit: 100_000 })
          : { servers: await elementServerList(database.sql, options), left_out: [] };
      },
    );
    const servers = explained.servers;
    if (values.explain && !file) {
      io.stdout.write(explanationText(explained));
      return EXIT.ok;
    }
    if (!file) {
      io.stdout.write(`${JSON.stringify({ room_directory: { servers } }, null, 2)}\n`);
      return EXIT.ok;
    }
    const merged = mergeElementConfig(existing, servers);
    const mode = (await stat(file)).mode & 0o777;
    const temporary = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.tmp`);
    await writeFile(temporary, `${JSON.stringify(merged, null, 2)}\n`, { mode });
    await chmod(temporary, mode);
    await rename(temporary, file);
    io.stderr.write(`atlas: wrote ${servers.length} servers into ${file} (room_directory.servers)\n`);
    if (values.explain) io.stderr.write(explanationText(explained));
    return EXIT.ok;
  },
};
