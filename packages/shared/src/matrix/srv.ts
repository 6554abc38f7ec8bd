import type { SrvRecord } from '../net/index.ts';

export interface SrvTarget {
  host: string;
  port: number;
}

/**
 * The order in which to try SRV targets (RFC 2782): lowest priority first; within a priority,
 * a weighted random order. A lone record whose target is "." means the service is not offered,
 * returned as null.
 */
export function orderSrvTargets(
  records: readonly SrvRecord[],
  random: () => number = Math.random,
): SrvTarget[] | null {
  const usable = records
    .map((record) => ({ ...record, name: record.name.replace(/\.$/, '').toLowerCase() }))
    .filter((record) => record.name.length > 0 && record.port > 0);
  if (records.length > 0 && usable.length === 0) return null;
  const priorities = [...new Set(usable.map((r) => r.priority))].sort((a, b) => a - b);
  const ordered: SrvTarget[] = [];
  for (const priority of priorities) {
    const pool = usable.filter((r) => r.priority === priority);
    while (pool.length > 0) {
      const total = pool.reduce((sum, r) => sum + r.weight, 0);
      let pick = 0;
      if (total > 0) {
        let threshold = random() * total;
        pick = pool.findIndex((r) => {
          threshold -= r.weight;
          return threshold < 0;
        });
        if (pick < 0) pick = pool.length - 1;
      }
      const [chosen] = pool.splice(pick, 1);
      if (chosen) ordered.push({ host: chosen.name, port: chosen.port });
    }
  }
  return ordered;
}
