import { FederationBuilder } from './builder.ts';
import type { Federation } from './model.ts';
import { Rng } from './prng.ts';
import { FORCED, FORCED_FOUND_VIA } from './traits.ts';

export { DOMAIN } from './traits.ts';

export interface GenerateOptions {
  servers: number;
  seed: string;
  /** Directory listings to spread over the servers on a power law (default 100 per server). */
  rooms?: number;
  /** When set, the first seed lists exactly this many rooms (the single huge directory benchmark). */
  bigServerRooms?: number;
  /** First three octets of the loopback block, e.g. `127.41.7`; only IP-literal names contain it. */
  blockPrefix: string;
  /**
   * One more seed, after every other server (so they are the same with or without it), whose
   * federation directory never ends (endless.ts); it answers every request after `delayMs`.
   */
  endlessDirectory?: { delayMs?: number } | undefined;
}

/** Seeds: two for a small federation, one per hundred servers up to ten. */
export function seedCount(servers: number): number {
  return Math.min(servers, 10, Math.max(2, Math.round(servers / 100)));
}

/** Listing counts on a Zipf curve over a seeded ranking, so a few servers list thousands of rooms. */
function listingCounts(rng: Rng, servers: number, total: number, seeds: number): number[] {
  const ranks = [
    ...Array.from({ length: seeds }, (_, i) => i),
    ...rng.shuffle(Array.from({ length: servers - seeds }, (_, i) => i + seeds)),
  ];
  let harmonic = 0;
  for (let r = 1; r <= servers; r++) harmonic += 1 / r;
  const counts = new Array<number>(servers).fill(0);
  ranks.forEach((serverIndex, rank) => {
    counts[serverIndex] = Math.max(1, Math.round(total / harmonic / (rank + 1)));
  });
  return counts;
}

/** Generates the whole federation for a seed. Same options, same federation. */
export function generateFederation(options: GenerateOptions): {
  federation: Federation;
  builder: FederationBuilder;
} {
  if (!Number.isInteger(options.servers) || options.servers < 1)
    throw new Error('servers must be a positive integer');
  const builder = new FederationBuilder(options.seed, options.blockPrefix);
  const seeds = seedCount(options.servers);
  const counts = listingCounts(
    new Rng(`${options.seed}/counts`),
    options.servers,
    options.rooms ?? options.servers * 100,
    seeds,
  );
  if (options.bigServerRooms !== undefined) counts[0] = options.bigServerRooms;
  let forcedFoundVia = 0;
  for (let i = 0; i < options.servers; i++) {
    const isSeed = i < seeds;
    const traits = isSeed ? undefined : FORCED[i - seeds];
    // A path that needs the new server to be reachable is fine either way: finding a server does
    // not need it to answer.
    const foundVia = isSeed ? undefined : FORCED_FOUND_VIA[forcedFoundVia++];
    builder.addServer({
      listings: counts[i] ?? 1,
      seed: isSeed,
      ...(traits ? { traits } : {}),
      ...(foundVia ? { foundVia } : {}),
    });
  }
  if (options.endlessDirectory) {
    const server = builder.addServer({
      listings: 0,
      seed: true,
      traits: { placement: 'default_port', publishes: true, clientDirectory: false, malformed: 0 },
    });
    server.endless = { delayMs: options.endlessDirectory.delayMs ?? 0 };
  }
  return { federation: builder.federation, builder };
}
