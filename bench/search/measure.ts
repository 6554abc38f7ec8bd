import { readdirSync, readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { Sql } from 'postgres';

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

/**
 * CPU milliseconds of a local PostgreSQL: the postmaster, its children alive now (backends,
 * checkpointer, WAL writer...) and those it has reaped (a connection closed by an idle pool).
 */
export function postgresCpuMs(postmaster: number): number {
  const fields = readFileSync(`/proc/${postmaster}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  // utime, stime, and cutime, cstime: the CPU of its children that have ended.
  let total = [11, 12, 13, 14].reduce((sum, i) => sum + Number(fields[i]), 0) * 10;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const child = readFileSync(`/proc/${entry}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
      if (Number(child[1]) === postmaster) total += (Number(child[11]) + Number(child[12])) * 10;
    } catch {
      // The process ended between the listing and the read.
    }
  }
  return total;
}

/** The pid of the PostgreSQL server `sql` is connected to (it must run on this machine). */
export async function postmasterPid(sql: Sql): Promise<number> {
  const [row] = await sql<{ pid: number }[]>`select pg_backend_pid() as pid`;
  const fields = readFileSync(`/proc/${row?.pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return Number(fields[1]);
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
 * Waits until the whole machine has used less than `cores` of CPU over `windowMs` (at most
 * `timeoutMs`), so that a measurement starts on a quiet machine; the 1-minute load average lags a
 * burst of other work by minutes. Returns how long it waited and the last window's figure.
 */
export async function quietMachine(
  cores: number,
  windowMs = 5_000,
  timeoutMs = 30 * 60_000,
): Promise<{ waitedS: number; cores: number }> {
  const started = Date.now();
  for (;;) {
    const before = machineCpuMs();
    await new Promise((resolve) => setTimeout(resolve, windowMs));
    const busy = (machineCpuMs() - before) / windowMs;
    if (busy < cores || Date.now() - started > timeoutMs) {
      return { waitedS: Math.round((Date.now() - started) / 1000), cores: round(busy) };
    }
  }
}

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

/** What a load generator reports: answers, failures and the latency of each successful answer. */
export interface LoadResult {
  /** Requests answered (any status). */
  requests: number;
  /** Answers other than 200, connection errors and timeouts. */
  errors: number;
  /** Latency of each 200 answer in ms. */
  latencies: number[];
}

/** One measurement at a fixed rate. */
export interface Measure {
  rate: number;
  requests: number;
  errors: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  /** 1-minute load average before and after. */
  load: [number, number];
  /** CPU time per request: the API process, the whole machine, this (load) process. */
  apiCpuMs: number;
  machineCpuMs: number;
  clientCpuMs: number;
  /** PostgreSQL's CPU time per request, when its postmaster's pid was given. */
  postgresCpuMs?: number;
  /**
   * With PostgreSQL's: the cores busy with anything but the API, PostgreSQL and this process during
   * the run (other work on a shared machine, the kernel's own).
   */
  otherCores?: number;
  /** How late this (load) process's event loop ran, p99 and max in ms: lateness it adds to latencies. */
  loadLoopDelayMs: [number, number];
}

/**
 * Runs one load against the API process `pids.api` and measures it: latency percentiles, the load
 * average around it, and the CPU time per request of the API process, of the whole machine, of
 * this process and, when `pids.postgres` (its postmaster) is given, of PostgreSQL.
 */
export async function measureLoad(
  rate: number,
  pids: { api: number; postgres?: number | undefined },
  run: () => Promise<LoadResult>,
): Promise<Measure> {
  const { api, postgres } = pids;
  const loopDelay = monitorEventLoopDelay({ resolution: 5 });
  loopDelay.enable();
  const before = {
    at: performance.now(),
    load: loadavg()[0] ?? 0,
    api: processCpuMs(api),
    machine: machineCpuMs(),
    postgres: postgres ? postgresCpuMs(postgres) : 0,
    client: process.cpuUsage(),
  };
  const { requests, errors, latencies } = await run();
  const clientUsage = process.cpuUsage(before.client);
  loopDelay.disable();
  const spent = {
    wall: performance.now() - before.at,
    api: processCpuMs(api) - before.api,
    machine: machineCpuMs() - before.machine,
    postgres: postgres ? postgresCpuMs(postgres) - before.postgres : 0,
    client: (clientUsage.user + clientUsage.system) / 1000,
  };
  const answered = Math.max(1, requests);
  const sorted = [...latencies].sort((a, b) => a - b);
  return {
    rate,
    requests,
    errors,
    p50: round(percentile(sorted, 50)),
    p90: round(percentile(sorted, 90)),
    p99: round(percentile(sorted, 99)),
    max: round(sorted[sorted.length - 1] ?? Number.NaN),
    load: [round(before.load, 1), round(loadavg()[0] ?? 0, 1)],
    apiCpuMs: round(spent.api / answered),
    machineCpuMs: round(spent.machine / answered),
    clientCpuMs: round(spent.client / answered),
    ...(postgres
      ? {
          postgresCpuMs: round(spent.postgres / answered),
          otherCores: round(
            Math.max(0, spent.machine - spent.api - spent.postgres - spent.client) / spent.wall,
          ),
        }
      : {}),
    loadLoopDelayMs: [round(loopDelay.percentile(99) / 1e6), round(loopDelay.max / 1e6)],
  };
}

/** A configuration's runs: the medians of each run's figures, but these. */
export interface RunsSummary extends Omit<Measure, 'load' | 'otherCores' | 'loadLoopDelayMs'> {
  label: string;
  runs: number;
  /** Each run's. */
  otherCores?: number[];
  /** Each run's, before and after. */
  load: [number, number][];
  loadLoopDelayP99Ms: number;
}

/** The medians of a configuration's runs (errors summed, max the largest, each run's load average). */
export function summariseRuns(label: string, measures: Measure[]): RunsSummary {
  const mid = (pick: (m: Measure) => number) => round(median(measures.map(pick)));
  return {
    label,
    rate: measures[0]?.rate ?? 0,
    runs: measures.length,
    requests: mid((m) => m.requests),
    errors: measures.reduce((sum, m) => sum + m.errors, 0),
    p50: mid((m) => m.p50),
    p90: mid((m) => m.p90),
    p99: mid((m) => m.p99),
    max: round(Math.max(...measures.map((m) => m.max))),
    apiCpuMs: mid((m) => m.apiCpuMs),
    machineCpuMs: mid((m) => m.machineCpuMs),
    ...(measures.some((m) => m.postgresCpuMs !== undefined)
      ? {
          postgresCpuMs: mid((m) => m.postgresCpuMs ?? Number.NaN),
          otherCores: measures.map((m) => m.otherCores ?? Number.NaN),
        }
      : {}),
    clientCpuMs: mid((m) => m.clientCpuMs),
    load: measures.map((m) => m.load),
    loadLoopDelayP99Ms: mid((m) => m.loadLoopDelayMs[0]),
  };
}
