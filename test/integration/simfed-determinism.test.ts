import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Manifest } from '../simfed/model.ts';
import { type SimFed, startSimFed } from '../simfed/simfed.ts';

/** Replaces the address block, which legitimately differs between runs (IP-literal names hold it). */
function withoutBlock(sim: SimFed, value: unknown): unknown {
  const prefix = sim.network.replace(/\.0\/24$/, '.');
  return JSON.parse(JSON.stringify(value).split(prefix).join('BLOCK.'));
}

/** The manifest without what differs between runs: the address block, ports and paths (all in env). */
function comparable(sim: SimFed): unknown {
  const { seeds, servers, totals }: Manifest = sim.manifest;
  return withoutBlock(sim, { seeds, servers, totals });
}

describe('simulated federation: determinism', () => {
  const sims: SimFed[] = [];
  let a: SimFed;
  let b: SimFed;
  let c: SimFed;
  const dirs: string[] = [];
  const start = async (seed: string) => {
    const dir = await mkdtemp(path.join(tmpdir(), 'simfed-det-'));
    dirs.push(dir);
    const sim = await startSimFed({ servers: 24, seed, dir, rooms: 600 });
    sims.push(sim);
    return sim;
  };

  afterAll(async () => {
    await Promise.all(sims.map((sim) => sim.close()));
    await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
  });

  it('gives the same federation for the same seed, and runs several at once on separate blocks', async () => {
    [a, b, c] = await Promise.all([start('same'), start('same'), start('different')]);
    expect(new Set([a.network, b.network, c.network]).size).toBe(3);
    expect(a.atlas.serverName).not.toBe(b.atlas.serverName);
    expect(comparable(a)).toEqual(comparable(b));
    expect(comparable(a)).not.toEqual(comparable(c));
    expect(a.manifest.servers).toHaveLength(24);
  });

  it('applies the same seeded changes the same way', async () => {
    const [changesA, changesB] = await Promise.all([a.applyChanges('round'), b.applyChanges('round')]);
    expect(withoutBlock(a, changesA)).toEqual(withoutBlock(b, changesB));
    expect(changesA.removedRooms.length).toBeGreaterThan(0);
    expect(comparable(a)).toEqual(comparable(b));
  });
});
