import { parseArgs } from 'node:util';
import { startSimFed } from './simfed.ts';

const USAGE = `Usage: npm run simfed -- --servers N --seed S --out DIR [options]

Starts a simulated Matrix federation on loopback and writes DIR/manifest.json.

Options:
  --servers N             simulated homeservers (required)
  --seed S                same seed, same federation (required)
  --out DIR               where manifest.json, ca.pem, atlas.crt and atlas.key go (required)
  --rooms R               directory listings over all servers (default 100 x N)
  --big-server-rooms R    the first seed lists exactly R rooms
  --atlas-port P          Atlas's federation TLS port (default: a free one)
  --atlas-host A          address Atlas's federation listener is reached at (default 127.0.0.1)
  --slow-ms MS            delay of slow servers (default 1000)

Prints "simfed ready <manifest path>" on stdout once serving; SIGUSR2 applies a seeded round of
changes, rewrites the manifest and prints "simfed changed <summary JSON>"; SIGINT/SIGTERM stop it
after printing "simfed totals <JSON>" (requests per endpoint, TLS handshakes, key fetches).`;

function positiveInt(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value) || Number(value) < 1)
    throw new Error(`--${name} must be a positive integer, got "${value}"`);
  return Number(value);
}

async function main(): Promise<number> {
  let values: ReturnType<typeof parse>['values'];
  function parse() {
    return parseArgs({
      options: {
        servers: { type: 'string' },
        seed: { type: 'string' },
        out: { type: 'string' },
        rooms: { type: 'string' },
        'big-server-rooms': { type: 'string' },
        'atlas-port': { type: 'string' },
        'atlas-host': { type: 'string' },
        'slow-ms': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    });
  }
  try {
    values = parse().values;
  } catch (error) {
    process.stderr.write(`simfed: ${error instanceof Error ? error.message : String(error)}\n\n${USAGE}\n`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (!values.servers || values.seed === undefined || !values.out) {
    process.stderr.write(`simfed: --servers, --seed and --out are required\n\n${USAGE}\n`);
    return 2;
  }
  let sim: Awaited<ReturnType<typeof startSimFed>>;
  try {
    const servers = positiveInt('servers', values.servers) ?? 0;
    const rooms = positiveInt('rooms', values.rooms);
    const big = positiveInt('big-server-rooms', values['big-server-rooms']);
    const atlasPort = positiveInt('atlas-port', values['atlas-port']);
    const slow = positiveInt('slow-ms', values['slow-ms']);
    sim = await startSimFed({
      servers,
      seed: values.seed,
      dir: values.out,
      ...(rooms !== undefined ? { rooms } : {}),
      ...(big !== undefined ? { bigServerRooms: big } : {}),
      ...(slow !== undefined ? { slowDelayMs: slow } : {}),
      atlas: {
        ...(atlasPort !== undefined ? { federationPort: atlasPort } : {}),
        ...(values['atlas-host'] ? { host: values['atlas-host'] } : {}),
      },
    });
  } catch (error) {
    process.stderr.write(`simfed: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
  const t = sim.manifest.totals;
  process.stderr.write(
    `simfed: ${t.servers} servers (${t.reachable} reachable, ${t.publishing} publishing), ${t.indexable_rooms} indexable rooms, ` +
      `network ${sim.network}, DNS ${sim.dns.address}, Atlas is ${sim.atlas.serverName}\n`,
  );
  process.stdout.write(`simfed ready ${sim.manifestPath}\n`);

  let busy = false;
  process.on('SIGUSR2', () => {
    if (busy) return;
    busy = true;
    sim
      .applyChanges()
      .then((summary) => process.stdout.write(`simfed changed ${JSON.stringify(summary)}\n`))
      .catch((error: unknown) => process.stderr.write(`simfed: changes failed: ${String(error)}\n`))
      .finally(() => {
        busy = false;
      });
  });
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  // What the federation served (requests per endpoint, TLS handshakes), for benchmarks.
  process.stdout.write(`simfed totals ${JSON.stringify(sim.totals())}\n`);
  await sim.close();
  return 0;
}

process.exitCode = await main();
