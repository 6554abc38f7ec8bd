// `docker compose` for the deploy scripts in tests, where no Docker engine exists: the same
// subcommands the scripts use, carried out by running each service's program in its container
// stand-in (see sandbox.ts and services.ts) in the test's network namespace.
//   exec -T SERVICE CMD...                            a command in the service's container
//   run --rm [--no-deps] [-T] [--entrypoint X] SERVICE [ARGS...]
//   up -d [--wait] [--remove-orphans] [SERVICE...]     starts services, detached; without names,
//                                                      every service of the active profiles
//                                                      (one-shots run to completion, running ones
//                                                      are left as they are: nothing changed);
//                                                      --wait runs their health checks until they
//                                                      pass, and fails on an unhealthy or exited one
//   ps --status running --services                     the running services
//   pull [--ignore-buildable], build                   no images here: nothing to do
// Running services are the <service>.<pid>.pid files in the run folder (written here and by the
// test's stack.start). Every call is appended to the call log, for tests to read the order.
// The scripts find it through ATLAS_DEPLOY_COMPOSE; ATLAS_TEST_COMPOSE_STATE names the JSON file
// that says where the test's stack, network and volumes are. Anything else exits 2.
import { spawn } from 'node:child_process';
import { appendFileSync, openSync, writeFileSync } from 'node:fs';
import { readdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { loadCompose, readEnvFile, service } from './compose-model.ts';
import { joinNetwork, prepareContainer } from './sandbox.ts';
import { NOT_RUN_HERE, type StackContext, serviceSpec } from './services.ts';

const stateSchema = z.object({
  stackDir: z.string(),
  nsPath: z.string(),
  volumes: z.record(z.string(), z.string()),
  synapseVenv: z.string(),
  meilisearch: z.string(),
  runDir: z.string(),
  callLog: z.string(),
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

/** Runs a command in a container with this process's stdin and stdout, and exits with its code. */
async function foreground(name: string, command: string[] | undefined): Promise<never> {
  const spec = serviceSpec(ctx, name, command ? { command, label: `${name}-run` } : { label: `${name}-run` });
  const { work, argv: args, env } = await prepareContainer(spec);
  const [program = 'nsenter', ...rest] = args;
  const child = spawn(program, rest, { env, stdio: 'inherit' });
  const code = await new Promise<number>((resolve) => child.once('exit', (c) => resolve(c ?? 1)));
  await rm(work, { recursive: true, force: true });
  process.exit(code);
}

const healthcheckSchema = z.looseObject({
  test: z.array(z.string()).optional(),
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
  const spec = serviceSpec(ctx, name, { command, label: `${name}-health` });
  const { work, argv: args, env } = await prepareContainer(spec);
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

/** Running services: their pid files whose process lives. */
async function running(): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const file of await readdir(state.runDir).catch(() => [] as string[])) {
    const match = /^(.+)\.(\d+)\.pid$/.exec(file);
    if (match?.[1] && alive(Number(match[2]))) out.set(match[1], Number(match[2]));
  }
  return out;
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
    const deps = (service(model, name) as { depends_on?: Record<string, unknown> }).depends_on ?? {};
    for (const dep of Object.keys(deps)) visit(dep);
    order.push(name);
  };
  for (const name of names) visit(name);
  return order;
}

/** Starts a service detached and records it as running. */
async function startDetached(name: string): Promise<{ pid: number; log: string }> {
  const spec = { ...serviceSpec(ctx, name), detached: true };
  const { work, argv: args, env } = await prepareContainer(spec);
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

/** Runs a one-shot service to completion, its output on stderr (compose shows it in its log). */
async function runOnce(name: string): Promise<number> {
  const { work, argv: args, env } = await prepareContainer(serviceSpec(ctx, name));
  const [program = 'nsenter', ...rest] = args;
  const child = spawn(program, rest, { env, stdio: ['ignore', process.stderr, process.stderr] });
  const code = await new Promise<number>((resolve) => child.once('exit', (c) => resolve(c ?? 1)));
  await rm(work, { recursive: true, force: true });
  return code;
}

/**
 * Waits until the service's health check passes. Like Docker: failures during start_period do not
 * count, then `retries` failures in a row make it unhealthy; a container that exits fails at once.
 * The checks run one after the other (not every `interval`).
 */
async function waitHealthy(name: string, pid: number, log: string | undefined, startedNow: boolean) {
  const check = healthcheckOf(name);
  const graceUntil = startedNow ? Date.now() + seconds(check?.start_period, 0) * 1000 : 0;
  const retries = check?.retries ?? 3;
  let failures = 0;
  const deadline = Date.now() + 180_000;
  for (;;) {
    if (!alive(pid)) {
      const output = log ? await readFile(log, 'utf8').catch(() => '') : '';
      fail(`container ${name} exited\n${output.slice(-3000)}`);
    }
    if (await healthy(name)) return;
    if (Date.now() >= graceUntil) failures += 1;
    if (failures >= retries || Date.now() > deadline) {
      process.stderr.write(`compose (test stand-in): container ${name} is unhealthy\n`);
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
    if (argv.some((option) => option !== '--ignore-buildable')) fail(`${subcommand}: unsupported ${argv}`);
    break;
  }
  case 'up': {
    let wait = false;
    while (argv[0]?.startsWith('-')) {
      const option = argv.shift();
      if (option === '--wait') wait = true;
      else if (option !== '-d' && option !== '--remove-orphans') fail(`up: unsupported option ${option}`);
    }
    const names = dependencyOrder(argv.length > 0 ? argv : activeServices());
    const up = await running();
    const started = new Map<string, { pid: number; log?: string; now: boolean }>();
    for (const name of names) {
      const reason = NOT_RUN_HERE[name];
      if (reason) {
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
      const pid = up.get(name);
      if (pid !== undefined) {
        started.set(name, { pid, now: false });
        continue;
      }
      // What this one waits for (depends_on: service_healthy) must be healthy first.
      const deps = (service(model, name) as { depends_on?: Record<string, { condition?: string }> })
        .depends_on;
      for (const [dep, { condition }] of Object.entries(deps ?? {})) {
        const depState = started.get(dep);
        if (condition === 'service_healthy' && depState)
          await waitHealthy(dep, depState.pid, depState.log, depState.now);
      }
      const { pid: newPid, log } = await startDetached(name);
      started.set(name, { pid: newPid, log, now: true });
    }
    if (wait) {
      for (const [name, { pid, log, now }] of started) await waitHealthy(name, pid, log, now);
    }
    break;
  }
  default:
    fail(`unsupported subcommand ${subcommand ?? '(none)'}`);
}
