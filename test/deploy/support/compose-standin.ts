// `docker compose` for the deploy scripts in tests, where no Docker engine exists: the same
// subcommands the scripts use, carried out by running each service's program in its container
// stand-in (see sandbox.ts and services.ts) in the test's network namespace.
//   exec -T SERVICE CMD...                            a command in the service's container
//   run --rm [--no-deps] [-T] [--entrypoint X] SERVICE [ARGS...]
//   up -d [--wait] [--wait-timeout S] [--remove-orphans] [SERVICE...]
//                                                      starts services and what they depend on,
//                                                      detached; without names, every service of
//                                                      the active profiles (one-shots run to
//                                                      completion, running ones are left as they
//                                                      are: nothing changed); --wait runs their
//                                                      health checks until they pass, and fails on
//                                                      an unhealthy or exited one, or after S s
//   restart SERVICE...                                 stops and starts running services again
//   logs [--no-color] [--tail N] SERVICE...            what the services printed
//   ps --status running --services                     the running services
//   pull [--ignore-buildable], build                   no images here: nothing to do
// Running services are the <service>.<pid>.pid files in the run folder (written here and by the
// test's stack.start). Every call is appended to the call log, for tests to read the order.
// Health is what Docker's daemon would report: failures within start_period (counted from the
// container's start, whichever call started it) do not count, then `retries` failures, one per
// `interval`, make a service unhealthy. Checks run every second, so a service is found healthy
// as soon as it is.
// The scripts find it through ATLAS_DEPLOY_COMPOSE; ATLAS_TEST_COMPOSE_STATE names the JSON file
// that says where the test's stack, network and volumes are. Anything else exits 2.
import { spawn } from 'node:child_process';
import { appendFileSync, openSync, writeFileSync } from 'node:fs';
import { readdir, readFile, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { loadCompose, readEnvFile, service } from './compose-model.ts';
import { type ContainerSpec, joinNetwork, prepareContainer, SERVICE_NAMES } from './sandbox.ts';
import { NOT_RUN_HERE, type SpecOptions, type StackContext, serviceSpec, stopSignal } from './services.ts';

const stateSchema = z.object({
  stackDir: z.string(),
  nsPath: z.string(),
  volumes: z.record(z.string(), z.string()),
  synapseVenv: z.string(),
  meilisearch: z.string(),
  runDir: z.string(),
  callLog: z.string(),
  // What the host's network would give a service (see services.ts): arguments naming addresses
  // (coturn on the host network), or a network of its own with its address there.
  serviceArgs: z.record(z.string(), z.array(z.string())).default({}),
  serviceNetworks: z.record(z.string(), z.object({ nsPath: z.string(), address: z.string() })).default({}),
});

function fail(message: string): never {
  process.stderr.write(`compose (test stand-in): ${message}\n`);
  process.exit(2);
}

const statePath = process.env.ATLAS_TEST_COMPOSE_STATE ?? fail('ATLAS_TEST_COMPOSE_STATE is not set');
const state = stateSchema.parse(JSON.parse(await readFile(statePath, 'utf8')));
const { model } = await loadCompose(state.stackDir);
const envFile = await readEnvFile(path.join(state.stackDir, '.env'));
const network = joinNetwork(state.nsPath);
const ctx: StackContext = {
  stackDir: state.stackDir,
  model,
  network,
  volumes: state.volumes,
  synapseVenv: state.synapseVenv,
  meilisearch: state.meilisearch,
};

// Global options the scripts pass first.
const argv = process.argv.slice(2);
while (argv[0]?.startsWith('-')) {
  const option = argv.shift();
  if (option === '--project-directory' || option === '-f' || option === '--env-file') argv.shift();
  else fail(`unsupported global option ${option}`);
}
const subcommand = argv.shift();
appendFileSync(state.callLog, `${[subcommand ?? '', ...argv].join(' ')}\n`);

/** The service's container as compose would make it on this test's networks. */
function spec(name: string, options: SpecOptions = {}): ContainerSpec {
  const out = serviceSpec(ctx, name, options);
  const extra = state.serviceArgs[name];
  if (extra && !options.command) out.command = [...out.command, ...extra];
  const own = state.serviceNetworks[name];
  if (own) out.network = joinNetwork(own.nsPath);
  // Every service name resolves to where that service listens, as on a compose network.
  const elsewhere = Object.entries(state.serviceNetworks);
  if (elsewhere.length > 0) {
    const shared = SERVICE_NAMES.filter((service) => !state.serviceNetworks[service]);
    out.hosts = [
      `127.0.0.1 localhost ${shared.join(' ')}`,
      ...elsewhere.map(([service, { address }]) => `${address} ${service}`),
      '::1 localhost',
    ];
  }
  return out;
}

/** Runs a command in a container with this process's stdin and stdout, and exits with its code. */
async function foreground(name: string, command: string[] | undefined): Promise<never> {
  const spec_ = spec(name, command ? { command, label: `${name}-run` } : { label: `${name}-run` });
  const { work, argv: args, env } = await prepareContainer(spec_);
  const [program = 'nsenter', ...rest] = args;
  const child = spawn(program, rest, { env, stdio: 'inherit' });
  const code = await new Promise<number>((resolve) => child.once('exit', (c) => resolve(c ?? 1)));
  await rm(work, { recursive: true, force: true });
  process.exit(code);
}

const healthcheckSchema = z.looseObject({
  test: z.array(z.string()).optional(),
  interval: z.string().optional(),
  timeout: z.string().optional(),
  retries: z.number().optional(),
  start_period: z.string().optional(),
});

/** Compose durations as the compose file uses them: "5s", "1m30s". */
function seconds(duration: string | undefined, fallback: number): number {
  if (!duration) return fallback;
  let total = 0;
  for (const [, value, unit] of duration.matchAll(/(\d+)(ms|s|m|h)/g)) {
    total += Number(value) * ({ ms: 0.001, s: 1, m: 60, h: 3600 }[unit as 'ms' | 's' | 'm' | 'h'] ?? 1);
  }
  return total;
}

function healthcheckOf(name: string) {
  return healthcheckSchema.optional().parse((service(model, name) as { healthcheck?: unknown }).healthcheck);
}

/** One run of the service's health check, killed after its timeout as Docker does. */
async function healthy(name: string): Promise<boolean> {
  const check = healthcheckOf(name);
  if (!check?.test) return true;
  const [kind, ...rest] = check.test;
  const command = kind === 'CMD-SHELL' ? ['sh', '-c', rest.join(' ')] : rest;
  const { work, argv: args, env } = await prepareContainer(spec(name, { command, label: `${name}-health` }));
  const [program = 'nsenter', ...restArgs] = args;
  const child = spawn(program, restArgs, { env, stdio: 'ignore' });
  const timer = setTimeout(() => child.kill('SIGKILL'), seconds(check.timeout, 30) * 1000);
  const code = await new Promise<number>((resolve) => child.once('exit', (c) => resolve(c ?? 1)));
  clearTimeout(timer);
  await rm(work, { recursive: true, force: true });
  return code === 0;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

interface Running {
  pid: number;
  /** When the container started (its pid file's time), for the health check's start period. */
  startedAt: number;
  /** Its work folder with its log; none for the test's own containers. */
  work: string;
  pidFile: string;
}

/**
 * Running services: their pid files whose process lives. With `exited`, also the containers that
 * exited (the latest of each service), as `docker compose logs` still shows an exited container.
 */
async function running(options: { exited?: boolean } = {}): Promise<Map<string, Running>> {
  const out = new Map<string, Running>();
  for (const file of await readdir(state.runDir).catch(() => [] as string[])) {
    const match = /^(.+)\.(\d+)\.pid$/.exec(file);
    if (!match?.[1] || (!options.exited && !alive(Number(match[2])))) continue;
    const pidFile = path.join(state.runDir, file);
    const [, work = ''] = (await readFile(pidFile, 'utf8')).split('\n');
    const startedAt = (await stat(pidFile)).mtimeMs;
    const seen = out.get(match[1]);
    if (seen && seen.startedAt > startedAt) continue;
    out.set(match[1], { pid: Number(match[2]), startedAt, work, pidFile });
  }
  return out;
}

function dependenciesOf(name: string): string[] {
  return Object.keys((service(model, name) as { depends_on?: Record<string, unknown> }).depends_on ?? {});
}

/** The services and everything they depend on, as compose brings them up. */
function withDependencies(names: string[]): string[] {
  const out = new Set<string>();
  const visit = (name: string) => {
    if (out.has(name)) return;
    out.add(name);
    for (const dep of dependenciesOf(name)) visit(dep);
  };
  for (const name of names) visit(name);
  return [...out];
}

function activeServices(): string[] {
  const profiles = (process.env.COMPOSE_PROFILES ?? envFile.COMPOSE_PROFILES ?? '')
    .split(',')
    .filter(Boolean);
  return Object.entries(model.services)
    .filter(([, svc]) => !svc.profiles || svc.profiles.some((profile) => profiles.includes(profile)))
    .map(([name]) => name);
}

/** Services in an order that starts each after what it depends on. */
function dependencyOrder(names: string[]): string[] {
  const order: string[] = [];
  const visit = (name: string) => {
    if (order.includes(name) || !names.includes(name)) return;
    for (const dep of dependenciesOf(name)) visit(dep);
    order.push(name);
  };
  for (const name of names) visit(name);
  return order;
}

/** Starts a service detached and records it as running. */
async function startDetached(name: string): Promise<{ pid: number; log: string }> {
  const { work, argv: args, env } = await prepareContainer({ ...spec(name), detached: true });
  const log = path.join(work, 'log');
  const fd = openSync(log, 'a');
  const [program = 'nsenter', ...rest] = args;
  const child = spawn(program, rest, { env, stdio: ['ignore', fd, fd], detached: true });
  child.unref();
  const pid = child.pid ?? fail(`could not start ${name}`);
  // The test stops what was started here (see stack.ts, close()).
  writeFileSync(path.join(state.runDir, `${name}.${pid}.pid`), `${pid}\n${work}\n`);
  return { pid, log };
}

/** Where a one-shot service's output is kept for `logs` (an exited container keeps its log). */
const oneShotLog = (name: string) => path.join(state.runDir, `${name}.log`);

/** Runs a one-shot service to completion, its output on stderr (compose shows it in its log). */
async function runOnce(name: string): Promise<number> {
  const { work, argv: args, env } = await prepareContainer(spec(name));
  const [program = 'nsenter', ...rest] = args;
  const child = spawn(program, rest, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  writeFileSync(oneShotLog(name), '');
  for (const stream of [child.stdout, child.stderr]) {
    stream.on('data', (chunk: Buffer) => {
      process.stderr.write(chunk);
      appendFileSync(oneShotLog(name), chunk);
    });
  }
  const code = await new Promise<number>((resolve) => child.once('close', (c) => resolve(c ?? 1)));
  await rm(work, { recursive: true, force: true });
  return code;
}

/** Stops a service the stand-in started, as `docker stop` does: its stop signal, then SIGKILL. */
async function stopRunning(name: string, entry: Running): Promise<void> {
  if (!entry.work) fail(`${name} was started by the test itself, not through compose: cannot restart it`);
  process.kill(entry.pid, stopSignal(name));
  for (let i = 0; i < 100 && alive(entry.pid); i++) await new Promise((resolve) => setTimeout(resolve, 100));
  if (alive(entry.pid)) process.kill(entry.pid, 'SIGKILL');
  await rm(entry.pidFile, { force: true });
  await rm(entry.work, { recursive: true, force: true });
}

/**
 * Waits until the service's health check passes, as `up --wait` does: failures within start_period
 * of the container's start do not count, then `retries` failures (at most one per `interval`, as
 * Docker probes) make it unhealthy; a container that exits fails at once.
 */
async function waitHealthy(name: string, pid: number, startedAt: number, log: string, deadline: number) {
  const check = healthcheckOf(name);
  const graceUntil = startedAt + seconds(check?.start_period, 0) * 1000;
  const interval = seconds(check?.interval, 30) * 1000;
  const retries = check?.retries ?? 3;
  let failures = 0;
  let lastCounted = 0;
  for (;;) {
    if (!alive(pid)) {
      const output = log ? await readFile(log, 'utf8').catch(() => '') : '';
      process.stderr.write(`compose (test stand-in): container ${name} exited\n${output.slice(-3000)}\n`);
      process.exit(1);
    }
    if (await healthy(name)) return;
    const now = Date.now();
    if (now >= graceUntil && now - lastCounted >= interval) {
      failures += 1;
      lastCounted = now;
    }
    if (failures >= retries) {
      process.stderr.write(`compose (test stand-in): container ${name} is unhealthy\n`);
      process.exit(1);
    }
    if (now > deadline) {
      process.stderr.write(`compose (test stand-in): timed out waiting for ${name} to be healthy\n`);
      process.exit(1);
    }
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}

switch (subcommand) {
  case 'exec': {
    if (argv[0] === '-T') argv.shift();
    const [name, ...command] = argv;
    if (!name || command.length === 0) fail('exec needs a service and a command');
    if (!(await running()).has(name)) {
      process.stderr.write(`service "${name}" is not running\n`);
      process.exit(1);
    }
    await foreground(name, command);
    break;
  }
  case 'run': {
    let entrypoint: string | undefined;
    while (argv[0]?.startsWith('-')) {
      const option = argv.shift();
      if (option === '--entrypoint') entrypoint = argv.shift();
      else if (!['--rm', '--no-deps', '-T'].includes(option ?? '')) fail(`run: unsupported option ${option}`);
    }
    const [name, ...args] = argv;
    if (!name) fail('run needs a service');
    await foreground(name, entrypoint ? [entrypoint, ...args] : args.length > 0 ? args : undefined);
    break;
  }
  case 'ps': {
    if (argv.join(' ') !== '--status running --services') fail(`ps: unsupported options ${argv.join(' ')}`);
    for (const name of (await running()).keys()) process.stdout.write(`${name}\n`);
    break;
  }
  case 'pull':
  case 'build': {
    // The stand-in's images are this machine's programs and this checkout: nothing to fetch.
    while (argv.length > 0) {
      const option = argv.shift();
      if (option === '--policy' && argv[0] === 'missing') argv.shift();
      else if (option !== '--ignore-buildable') fail(`${subcommand}: unsupported option ${option}`);
    }
    break;
  }
  case 'up': {
    let wait = false;
    let waitSeconds = 600;
    while (argv[0]?.startsWith('-')) {
      const option = argv.shift();
      if (option === '--wait') wait = true;
      else if (option === '--wait-timeout') waitSeconds = Number(argv.shift());
      else if (option !== '-d' && option !== '--remove-orphans') fail(`up: unsupported option ${option}`);
    }
    const names = dependencyOrder(withDependencies(argv.length > 0 ? argv : activeServices()));
    const up = await running();
    const started = new Map<string, { pid: number; startedAt: number; log: string }>();
    // The health wait's limit counts from the start of `up`, like --wait-timeout.
    const deadline = Date.now() + waitSeconds * 1000;
    for (const name of names) {
      const reason = NOT_RUN_HERE[name];
      if (reason && !state.serviceNetworks[name]) {
        process.stderr.write(`compose (test stand-in): ${name} is not run here: ${reason}\n`);
        continue;
      }
      const svc = service(model, name) as { restart?: string };
      if (svc.restart === 'no') {
        const code = await runOnce(name);
        if (code !== 0) {
          process.stderr.write(`service "${name}" didn't complete successfully: exit ${code}\n`);
          process.exit(1);
        }
        continue;
      }
      const current = up.get(name);
      if (current !== undefined) {
        started.set(name, {
          pid: current.pid,
          startedAt: current.startedAt,
          log: current.work ? path.join(current.work, 'log') : '',
        });
        continue;
      }
      // What this one waits for (depends_on: service_healthy) must be healthy first.
      const deps = (service(model, name) as { depends_on?: Record<string, { condition?: string }> })
        .depends_on;
      for (const [dep, { condition }] of Object.entries(deps ?? {})) {
        const depState = started.get(dep);
        if (condition === 'service_healthy' && depState)
          await waitHealthy(dep, depState.pid, depState.startedAt, depState.log, deadline);
      }
      const { pid, log } = await startDetached(name);
      started.set(name, { pid, startedAt: Date.now(), log });
    }
    if (wait) {
      for (const [name, { pid, startedAt, log }] of started)
        await waitHealthy(name, pid, startedAt, log, deadline);
    }
    break;
  }
  case 'restart': {
    const up = await running();
    for (const name of argv) {
      if (name.startsWith('-')) fail(`restart: unsupported option ${name}`);
      const current = up.get(name);
      // compose restarts only containers that exist; a service never started stays so.
      if (!current) continue;
      await stopRunning(name, current);
      await startDetached(name);
    }
    break;
  }
  case 'logs': {
    let tail = Number.POSITIVE_INFINITY;
    while (argv[0]?.startsWith('-')) {
      const option = argv.shift();
      if (option === '--tail') tail = Number(argv.shift());
      else if (option !== '--no-color') fail(`logs: unsupported option ${option}`);
    }
    const containers = await running({ exited: true });
    for (const name of argv) {
      const latest = containers.get(name);
      const file = latest?.work ? path.join(latest.work, 'log') : oneShotLog(name);
      const lines = (await readFile(file, 'utf8').catch(() => '')).split('\n').filter(Boolean);
      const shown = Number.isFinite(tail) ? lines.slice(-tail) : lines;
      for (const line of shown) process.stdout.write(`${name}  | ${line}\n`);
    }
    break;
  }
  default:
    fail(`unsupported subcommand ${subcommand ?? '(none)'}`);
}
