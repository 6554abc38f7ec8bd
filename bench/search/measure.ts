import { readFileSync } from 'node:fs';

/** What the benchmarks read from /proc and how they reduce their samples. */

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

export const round = (value: number, digits = 2) => Number(value.toFixed(digits));

/** CPU milliseconds a process has used (utime + stime from /proc). */
export function processCpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/** Busy CPU milliseconds of the whole machine (every core, idle and iowait left out). */
export function machineCpuMs(): number {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
  const ticks = line.split(/\s+/).slice(1).map(Number);
  const total = ticks.reduce((sum, t) => sum + t, 0);
  return (total - (ticks[3] ?? 0) - (ticks[4] ?? 0)) * 10;
}

/** The load averages and process counts, as `uptime` shows them. */
export const loadAverages = () => readFileSync('/proc/loadavg', 'utf8').trim();

/**
 * Waits until the API process is idle (under 10 % of a core for half a second, at most two
 * minutes): after an overload it is still answering requests whose clients gave up, which would
 * otherwise be charged to the next measurement.
 */
export async function settle(api: number): Promise<void> {
  const deadline = Date.now() + 120_000;
  let last = processCpuMs(api);
  while (Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 500));
    const now = processCpuMs(api);
    if (now - last < 50) return;
    last = now;
  }
}
