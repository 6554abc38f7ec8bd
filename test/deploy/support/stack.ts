import { type ChildProcess, spawn } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { meilisearchBinary } from '../../support/meilisearch.ts';
import { loadCompose } from './compose-model.ts';
import { REPO_ROOT } from './render.ts';
import { type Container, type ExecResult, type Network, runContainer, startContainer } from './sandbox.ts';
import { type SpecOptions, type StackContext, serviceSpec, stopSignal, TEST_VOLUMES } from './services.ts';

export interface TestStack {
  ctx: StackContext;
  /** Starts a long-running service. */
  start(
    name: string,
    options?: SpecOptions & { extraArgs?: string[]; fromStackDir?: string; service?: string },
  ): Promise<Container>;
  /** Runs a one-shot service (or a command in a service's container) to completion. */
  run(name: string, options?: SpecOptions): Promise<ExecResult>;
  /** Polls a URL from inside the network until it answers 2xx. */
  waitForHttp(what: string, url: string, timeoutMs?: number): Promise<void>;
  /** Writes the state file the compose stand-in reads (scripts run `docker compose` through it). */
  composeEnv(): Promise<Record<string, string>>;
  /** The compose stand-in's calls so far, one line each ("pull --ignore-buildable"). */
  composeCalls(): Promise<string[]>;
  /** The services running for the compose stand-in, with their process ids. */
  runningServices(): Promise<Map<string, number>>;
  /** Reads compose.yaml and .env again. */
  reload(): Promise<void>;
  /** Everything the running containers printed, for failure messages. */
  logs(): Promise<string>;
  stopService(name: string): Promise<void>;
  /** A running container started by start(), by its label. */
  container(label: string): Container | undefined;
  close(): Promise<void>;
}

export function synapseVenv(): string {
  const venv = process.env.ATLAS_SYNAPSE_VENV ?? path.join(REPO_ROOT, '.cache/synapse-venv');
  return venv;
}

/** Docker's embedded DNS stand-in (HAProxy's resolvers ask it). */
export async function startDns(
  network: Network,
  records: Record<string, string> = {},
): Promise<ChildProcess> {
  const child = spawn(
    'nsenter',
    [
      `--net=${network.nsPath}`,
      '--',
      process.execPath,
      '--import',
      'tsx',
      path.join(REPO_ROOT, 'test/deploy/support/dns-stub.ts'),
      ...Object.entries(records).map(([name, address]) => `${name}=${address}`),
    ],
    { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  await new Promise<void>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`the DNS stand-in exited (${code})`)));
    child.stdout?.once('data', () => resolve());
  });
  return child;
}

export interface StackOptions {
  /** The folder gets its compose.yaml and .env later (a restore, a setup.sh run); call reload() then. */
  lazyModel?: boolean;
  /** Arguments the compose stand-in adds to a service's command (coturn's addresses). */
  serviceArgs?: Record<string, string[]>;
  /** Services the compose stand-in runs in a network of their own (see attachNetwork). */
  serviceNetworks?: Record<string, { nsPath: string; address: string }>;
}

export async function createStack(
  stackDir: string,
  network: Network,
  options: StackOptions = {},
): Promise<TestStack> {
  const model = options.lazyModel ? { services: {} } : (await loadCompose(stackDir)).model;
  const volumeRoot = await mkdtemp(path.join(tmpdir(), 'atlas-volumes-'));
  const volumes: Record<string, string> = {};
  for (const name of TEST_VOLUMES) {
    volumes[name] = path.join(volumeRoot, name);
    await mkdir(volumes[name], { recursive: true });
  }
  const ctx: StackContext = {
    stackDir,
    model,
    network,
    volumes,
    synapseVenv: synapseVenv(),
    meilisearch: meilisearchBinary(),
  };
  const running = new Map<string, Container>();
  let composeState: string | undefined;
  // Services the compose stand-in started (`up -d`), as <service>.<pid>.pid files.
  const runDir = path.join(volumeRoot, 'compose-run');
  const callLog = path.join(volumeRoot, 'compose-calls.log');
  // The test's own containers count as the project's running services for the stand-in's
  // `ps` and `exec` (in Docker they would be the same containers).
  const pidFiles = new Map<string, string>();
  const stopContainer = async (label: string, container: Container) => {
    running.delete(label);
    await container.stop(stopSignal(label));
    const file = pidFiles.get(label);
    pidFiles.delete(label);
    if (file) await rm(file, { force: true });
  };

  const stack: TestStack = {
    ctx,
    async start(name, options = {}) {
      // fromStackDir: the same service from another rendered stack (another HAProxy config).
      const from = options.fromStackDir
        ? { ...ctx, stackDir: options.fromStackDir, model: (await loadCompose(options.fromStackDir)).model }
        : ctx;
      const spec = serviceSpec(from, options.service ?? name, { ...options, label: options.label ?? name });
      if (options.extraArgs) spec.command = [...spec.command, ...options.extraArgs];
      const container = await startContainer(spec);
      const label = options.label ?? name;
      running.set(label, container);
      if (!options.fromStackDir && container.process.pid !== undefined) {
        await mkdir(runDir, { recursive: true });
        const file = path.join(runDir, `${options.service ?? name}.${container.process.pid}.pid`);
        // No work folder: the test removes it itself when it stops the container.
        await writeFile(file, `${container.process.pid}\n`);
        pidFiles.set(label, file);
      }
      void container.exited.then(() => undefined);
      return container;
    },
    async run(name, options = {}) {
      return runContainer(serviceSpec(ctx, name, options));
    },
    async waitForHttp(what, url, timeoutMs = 90_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        // A service that died will not come up: fail now, with its output.
        for (const container of running.values()) {
          if (container.process.exitCode !== null || container.process.signalCode !== null) {
            throw new Error(
              `${container.name} exited while waiting for ${what}:\n${(await container.log()).slice(-5000)}`,
            );
          }
        }
        const result = await network.exec(['curl', '-fsS', '-o', '/dev/null', '--max-time', '3', url], {
          timeoutMs: 5000,
        });
        if (result.code === 0) return;
        if (Date.now() > deadline) {
          throw new Error(
            `timed out waiting for ${what} (${url}: ${result.stderr.trim()})\n${await stack.logs()}`,
          );
        }
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    },
    async composeEnv() {
      composeState ??= path.join(volumeRoot, 'compose-state.json');
      await mkdir(runDir, { recursive: true });
      await writeFile(
        composeState,
        JSON.stringify({
          stackDir,
          nsPath: network.nsPath,
          volumes,
          synapseVenv: ctx.synapseVenv,
          meilisearch: ctx.meilisearch,
          runDir,
          callLog,
          serviceArgs: options.serviceArgs ?? {},
          serviceNetworks: options.serviceNetworks ?? {},
        }),
      );
      return {
        ATLAS_DEPLOY_COMPOSE: `${process.execPath} --import tsx ${path.join(REPO_ROOT, 'test/deploy/support/compose-standin.ts')}`,
        ATLAS_TEST_COMPOSE_STATE: composeState,
        NODE_PATH: path.join(REPO_ROOT, 'node_modules'),
      };
    },
    async composeCalls() {
      const text = await readFile(callLog, 'utf8').catch(() => '');
      return text.split('\n').filter(Boolean);
    },
    async runningServices() {
      const out = new Map<string, number>();
      for (const file of await readdir(runDir).catch(() => [] as string[])) {
        const match = /^(.+)\.(\d+)\.pid$/.exec(file);
        if (!match?.[1]) continue;
        try {
          process.kill(Number(match[2]), 0);
          out.set(match[1], Number(match[2]));
        } catch {
          // Gone.
        }
      }
      return out;
    },
    async reload() {
      ctx.model = (await loadCompose(stackDir)).model;
    },
    async logs() {
      const parts: string[] = [];
      for (const container of running.values())
        parts.push(`--- ${container.name}\n${(await container.log()).slice(-6000)}`);
      return parts.join('\n');
    },
    container(label) {
      return running.get(label);
    },
    async stopService(name) {
      const container = running.get(name);
      if (!container) return;
      await stopContainer(name, container);
    },
    async close() {
      // What the stand-in started (crawlers, element-config) uses what the test started: stop it
      // first, as compose stops dependents before what they depend on.
      await stopDetached(runDir);
      for (const [name, container] of [...running.entries()].reverse()) await stopContainer(name, container);
      await rm(volumeRoot, { recursive: true, force: true });
    },
  };
  return stack;
}

/** Stops what the compose stand-in started with `up -d`, and removes its container folders. */
async function stopDetached(runDir: string): Promise<void> {
  let files: string[] = [];
  try {
    files = await readdir(runDir);
  } catch {
    return;
  }
  for (const file of files) {
    const [pidLine = '', work = ''] = (await readFile(path.join(runDir, file), 'utf8')).split('\n');
    const pid = Number(pidLine);
    // Files without a work folder are the test's own containers: it stops those itself.
    if (!work || !Number.isInteger(pid) || pid <= 0) continue;
    try {
      process.kill(pid, stopSignal(file.split('.')[0] ?? ''));
    } catch {
      // Already gone.
    }
    let gone = false;
    for (let i = 0; i < 100 && !gone; i++) {
      try {
        process.kill(pid, 0);
        await new Promise((resolve) => setTimeout(resolve, 100));
      } catch {
        gone = true;
      }
    }
    // Still there after 10 s: killed, as `docker stop` does after its grace period.
    if (!gone) process.kill(pid, 'SIGKILL');
    await rm(work, { recursive: true, force: true });
  }
}
