// `docker compose` for the deploy scripts in tests, where no Docker engine exists: the same
// subcommands the scripts use, carried out by running each service's program in its container
// stand-in (see sandbox.ts and services.ts) in the test's network namespace.
//   exec -T SERVICE CMD...                            a command in the service's container
//   run --rm [--no-deps] [-T] [--entrypoint X] SERVICE [ARGS...]
//   up -d [--wait] SERVICE...                          starts services, detached; --wait runs
//                                                      their health check until it passes
// The scripts find it through ATLAS_DEPLOY_COMPOSE; ATLAS_TEST_COMPOSE_STATE names the JSON file
// that says where the test's stack, network and volumes are. Anything else exits 2.
import { spawn } from 'node:child_process';
import { openSync, writeFileSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { loadCompose, service } from './compose-model.ts';
import { joinNetwork, prepareContainer } from './sandbox.ts';
import { type StackContext, serviceSpec } from './services.ts';

const stateSchema = z.object({
  stackDir: z.string(),
  nsPath: z.string(),
  volumes: z.record(z.string(), z.string()),
  synapseVenv: z.string(),
  runDir: z.string(),
});

function fail(message: string): never {
  process.stderr.write(`compose (test stand-in): ${message}\n`);
  process.exit(2);
}

const statePath = process.env.ATLAS_TEST_COMPOSE_STATE ?? fail('ATLAS_TEST_COMPOSE_STATE is not set');
const state = stateSchema.parse(JSON.parse(await readFile(statePath, 'utf8')));
const { model } = await loadCompose(state.stackDir);
const network = joinNetwork(state.nsPath);
const ctx: StackContext = {
  stackDir: state.stackDir,
  model,
  network,
  volumes: state.volumes,
  synapseVenv: state.synapseVenv,
};

// Global options the scripts pass first.
const argv = process.argv.slice(2);
while (argv[0]?.startsWith('-')) {
  const option = argv.shift();
  if (option === '--project-directory' || option === '-f' || option === '--env-file') argv.shift();
  else fail(`unsupported global option ${option}`);
}
const subcommand = argv.shift();

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

async function healthy(name: string): Promise<boolean> {
  const check = (service(model, name) as { healthcheck?: { test?: string[] } }).healthcheck?.test;
  if (!check) return true;
  const [kind, ...rest] = check;
  const command = kind === 'CMD-SHELL' ? ['sh', '-c', rest.join(' ')] : rest;
  const spec = serviceSpec(ctx, name, { command, label: `${name}-health` });
  const { work, argv: args, env } = await prepareContainer(spec);
  const [program = 'nsenter', ...restArgs] = args;
  const child = spawn(program, restArgs, { env, stdio: 'ignore' });
  const code = await new Promise<number>((resolve) => child.once('exit', (c) => resolve(c ?? 1)));
  await rm(work, { recursive: true, force: true });
  return code === 0;
}

switch (subcommand) {
  case 'exec': {
    if (argv[0] === '-T') argv.shift();
    const [name, ...command] = argv;
    if (!name || command.length === 0) fail('exec needs a service and a command');
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
  case 'up': {
    let wait = false;
    while (argv[0]?.startsWith('-')) {
      const option = argv.shift();
      if (option === '--wait') wait = true;
      else if (option !== '-d') fail(`up: unsupported option ${option}`);
    }
    if (argv.length === 0)
      fail("up without service names is not supported here (use the script's --no-start)");
    const logs = new Map<string, string>();
    for (const name of argv) {
      const spec = { ...serviceSpec(ctx, name), detached: true };
      const { work, argv: args, env } = await prepareContainer(spec);
      logs.set(name, path.join(work, 'log'));
      const log = openSync(path.join(work, 'log'), 'a');
      const [program = 'nsenter', ...rest] = args;
      const child = spawn(program, rest, { env, stdio: ['ignore', log, log], detached: true });
      child.unref();
      // The test stops what was started here (see stack.ts, close()).
      writeFileSync(path.join(state.runDir, `${name}.${child.pid}.pid`), `${child.pid}\n${work}\n`);
    }
    if (wait) {
      for (const name of argv) {
        const deadline = Date.now() + 90_000;
        while (!(await healthy(name))) {
          if (Date.now() > deadline) {
            const log = await readFile(logs.get(name) ?? '', 'utf8').catch(() => '');
            fail(`${name} did not become healthy:\n${log.slice(-3000)}`);
          }
          await new Promise((resolve) => setTimeout(resolve, 500));
        }
      }
    }
    break;
  }
  default:
    fail(`unsupported subcommand ${subcommand ?? '(none)'}`);
}
