import { once } from 'node:events';
import { exportRooms, exportServers } from '@atlas/shared/db';
import { parseCommandArgs } from '../args.ts';
import { type Command, EXIT, UsageError } from '../command.ts';
import { withDatabase } from '../run-process.ts';

export const exportCommand: Command = {
  name: 'export',
  summary: 'print stored rooms or servers as NDJSON on stdout',
  usage: `Usage: atlas export rooms|servers

Prints one JSON object per line on stdout, streamed from the database.
  rooms:   room_id, name, alias, topic, members, complexity, complexity_source ("federation" or
           "estimate"), complexity_server, servers_in_room, room_type, join_rule, servers (the
           servers whose directories list it now), stale, hidden
  servers: server_name, status, software, version, registration, registration_stages, found_via,
           found_from, publishes (over federation), crawl_mode, room_count, client_base_url,
           uptime_30d, last_probe_at, last_crawl_outcome, room_cap_reached (the last read
           stopped at the room cap)`,
  async run(args, io) {
    const { values, positionals } = parseCommandArgs(args, {}, 1);
    if (values.help) {
      io.stdout.write(`${this.usage}\n`);
      return EXIT.ok;
    }
    const what = positionals[0];
    if ((what !== 'rooms' && what !== 'servers') || positionals.length > 1) {
      throw new UsageError('say what to export: `atlas export rooms` or `atlas export servers`');
    }
    return withDatabase(io, { applicationName: 'atlas-export', migrate: false }, async ({ database }) => {
      const rows = what === 'rooms' ? exportRooms(database.sql) : exportServers(database.sql);
      for await (const row of rows) {
        if (!io.stdout.write(`${JSON.stringify(row)}\n`)) await once(io.stdout, 'drain');
      }
      return EXIT.ok;
    });
  },
};
