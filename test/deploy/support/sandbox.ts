import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { waitFor } from '../../support/ports.ts';

/**
 * Containers without a container engine, for running the programs of the compose stack the way
 * compose would: each one gets
 *  - a root filesystem of its own: an overlay of the host's `/` (so the host's programs are
 *    there) with the service's volumes, bind mounts and secrets mounted at the paths the compose
 *    file gives them, and its own /etc/hosts and /etc/resolv.conf. Writes outside the mounts land
 *    in a tmpfs and vanish with it; the host's files are never touched;
 *  - the network namespace of the test's "compose network", where only a loopback interface
 *    exists and every service name resolves to 127.0.0.1. So the fixed ports of the rendered
 *    configs (8008, 5432, 443, 8448, 3478...) are used as they are: nothing else listens there.
 * It needs root (mount and network namespaces), which the test machine and CI have.
 */

export interface Network {
  /** `/proc/<pid>/ns/net` of the namespace, for nsenter. */
  nsPath: string;
  /** Runs a program on the host's filesystem inside the namespace (curl, the deploy scripts). */
  exec(command: string[], options?: ExecOptions): Promise<ExecResult>;
  close(): Promise<void>;
}

export interface ExecOptions {
  env?: Record<string, string>;
  input?: string | Buffer;
  cwd?: string;
  timeoutMs?: number;
}

export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface Mount {
  source: string;
  target: string;
  readOnly?: boolean;
}

export interface ContainerSpec {
  /** Label for logs and error messages. */
  name: string;
  network: Network;
  mounts: Mount[];
  tmpfs?: string[];
  /** `uid:gid`, numeric; default root. */
  user?: string;
  env: Record<string, string>;
  cwd?: string;
  command: string[];
  /** Lines added to /etc/passwd and /etc/group inside (users an image would have). */
  passwd?: string[];
  group?: string[];
  /** /etc/hosts entries; default: every compose service name at 127.0.0.1. */
  hosts?: string[];
  /** Outlives the process that starts it (the compose stand-in's `up -d`). */
  detached?: boolean;
  /** Nameserver for /etc/resolv.conf (Docker's embedded DNS is 127.0.0.11). */
  nameserver?: string;
}

export interface Container {
  name: string;
  process: ChildProcess;
  /** Everything the container printed, for failure messages. */
  log(): Promise<string>;
  /** Resolves with the exit code. */
  exited: Promise<number | null>;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

const q = (value: string) => `'${value.replace(/'/g, `'\\''`)}'`;

function requireRoot(): void {
  if (process.getuid?.() !== 0) {
    throw new Error(
      'the deploy tests run the stack in mount and network namespaces and need root (CI runs as root)',
    );
  }
  for (const program of ['unshare', 'nsenter', 'setpriv', 'ip']) {
    if (spawnSync('which', [program]).status !== 0) {
      throw new Error(
        `${program} is missing; install util-linux and iproute2 (apt-get install util-linux iproute2)`,
      );
    }
  }
}

function run(command: string[], options: ExecOptions = {}): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    const [program, ...args] = command;
    if (!program) throw new Error('empty command');
    const child = spawn(program, args, {
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...options.env },
      cwd: options.cwd,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({
        code: code ?? -1,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
      });
    });
    // A program that exits without reading its input must not fail the test with EPIPE.
    child.stdin.on('error', () => {});
    child.stdin.end(options.input ?? '');
  });
}

/** A new network namespace with `lo` up, held open as long as the test process lives. */
async function holdNamespace(): Promise<{ nsPath: string; holder: ChildProcess }> {
  requireRoot();
  // The holder lives as long as the test process (its parent), even when the test is killed.
  const holder = spawn(
    'unshare',
    ['--net', '--', 'sh', '-c', 'ip link set lo up && while kill -0 $PPID 2>/dev/null; do sleep 2; done'],
    {
      stdio: 'ignore',
    },
  );
  const pid = holder.pid;
  if (pid === undefined) throw new Error('could not start the network namespace holder');
  const nsPath = `/proc/${pid}/ns/net`;
  await waitFor('the test network namespace', async () => {
    const result = await run(['nsenter', `--net=${nsPath}`, 'ip', '-o', 'link', 'show', 'lo']);
    return result.code === 0 && /state UNKNOWN|UP/.test(result.stdout);
  });
  return { nsPath, holder };
}

function networkOf(nsPath: string, holder: ChildProcess): Network {
  return {
    nsPath,
    exec: (command, options) => run(['nsenter', `--net=${nsPath}`, '--', ...command], options),
    async close() {
      holder.kill('SIGKILL');
      await new Promise((resolve) =>
        holder.exitCode !== null ? resolve(null) : holder.once('exit', resolve),
      );
    },
  };
}

/** A network namespace with only `lo`, up: the test's stand-in for the compose networks. */
export async function createNetwork(): Promise<Network> {
  const { nsPath, holder } = await holdNamespace();
  return networkOf(nsPath, holder);
}

/**
 * A network of its own for one service, joined to `shared` by a veth pair (a /30: `address` for
 * the service, the one below it on the shared side), as a compose network gives every container
 * its own address. For a service whose fixed port another service already holds in `shared`.
 */
export async function attachNetwork(
  shared: Network,
  link: string,
  address: string,
): Promise<Network & { address: string }> {
  const { nsPath, holder } = await holdNamespace();
  const own = networkOf(nsPath, holder);
  const octets = address.split('.').map(Number);
  const gateway = [...octets.slice(0, 3), (octets[3] ?? 1) - 1].join('.');
  const steps: [Network, string[]][] = [
    [shared, ['ip', 'link', 'add', `${link}0`, 'type', 'veth', 'peer', 'name', `${link}1`]],
    [shared, ['ip', 'link', 'set', `${link}1`, 'netns', String(holder.pid)]],
    [shared, ['ip', 'addr', 'add', `${gateway}/30`, 'dev', `${link}0`]],
    [shared, ['ip', 'link', 'set', `${link}0`, 'up']],
    [own, ['ip', 'addr', 'add', `${address}/30`, 'dev', `${link}1`]],
    [own, ['ip', 'link', 'set', `${link}1`, 'up']],
  ];
  for (const [where, command] of steps) {
    const result = await where.exec(command);
    if (result.code !== 0) throw new Error(`${command.join(' ')}: ${result.stderr}`);
  }
  return { ...own, address };
}

/** The network of a namespace made by createNetwork in another process (the compose stand-in). */
export function joinNetwork(nsPath: string): Network {
  return {
    nsPath,
    exec: (command, options) => run(['nsenter', `--net=${nsPath}`, '--', ...command], options),
    close: async () => {},
  };
}

export const SERVICE_NAMES = [
  'postgres',
  'init',
  'synapse',
  'redis',
  'meilisearch',
  'migrate',
  'atlas-api',
  'crawler',
  'element-config',
  'element',
  'synapse-admin',
  'haproxy',
  'acme',
];

/** The shell script that builds the container's root and then becomes the service's program. */
function containerScript(spec: ContainerSpec, work: string): string {
  const root = `${work}/root`;
  const upper = `${work}/upper`;
  const lines = [
    'set -eu',
    // A container starts with umask 022 whoever starts it (restore.sh runs with 077).
    'umask 022',
    `mount -t tmpfs tmpfs ${q(upper)}`,
    `mkdir -p ${q(`${upper}/u`)} ${q(`${upper}/w`)}`,
    `mount -t overlay overlay -o ${q(`lowerdir=/,upperdir=${upper}/u,workdir=${upper}/w`)} ${q(root)}`,
    ...['proc', 'dev', 'sys'].map((dir) => `mount --rbind /${dir} ${q(`${root}/${dir}`)}`),
    // Writes to /tmp and /run stay inside the container, as in an image.
    `mount -t tmpfs tmpfs ${q(`${root}/tmp`)}`,
    `mount -t tmpfs tmpfs ${q(`${root}/run`)}`,
    `chmod 1777 ${q(`${root}/tmp`)}`,
  ];
  // Mount points are made and resolved inside the new root (chroot), so that a symlink such as
  // /var/run -> /run leads to the container's /run, never to the host's.
  lines.push(
    'inside() { chroot "$ROOT" sh -c \'if [ "$2" = dir ]; then mkdir -p "$1"; else mkdir -p "$(dirname "$1")"; [ -e "$1" ] || : > "$1"; fi; readlink -f "$1"\' sh "$1" "$2"; }',
  );
  lines.unshift(`ROOT=${q(root)}`);
  for (const dir of spec.tmpfs ?? []) {
    lines.push(`mount -t tmpfs tmpfs "$ROOT$(inside ${q(dir)} dir)"`);
  }
  for (const mount of spec.mounts) {
    lines.push(
      `if [ -d ${q(mount.source)} ]; then kind=dir; else kind=file; fi`,
      `target="$ROOT$(inside ${q(mount.target)} "$kind")"`,
      `mount --bind ${q(mount.source)} "$target"`,
    );
    if (mount.readOnly) lines.push('mount -o remount,bind,ro "$target"');
  }
  const hosts = spec.hosts ?? [`127.0.0.1 localhost ${SERVICE_NAMES.join(' ')}`, '::1 localhost'];
  lines.push(
    `rm -f ${q(`${root}/etc/hosts`)} ${q(`${root}/etc/resolv.conf`)}`,
    `printf '%s\\n' ${hosts.map(q).join(' ')} > ${q(`${root}/etc/hosts`)}`,
    `printf 'nameserver %s\\n' ${q(spec.nameserver ?? '127.0.0.11')} > ${q(`${root}/etc/resolv.conf`)}`,
  );
  for (const line of spec.passwd ?? []) lines.push(`printf '%s\\n' ${q(line)} >> ${q(`${root}/etc/passwd`)}`);
  for (const line of spec.group ?? []) lines.push(`printf '%s\\n' ${q(line)} >> ${q(`${root}/etc/group`)}`);
  // The host's Python lives under /root (pyenv); an unprivileged service must reach it.
  lines.push(`chmod o+x ${q(`${root}/root`)}`);
  const [uid, gid] = (spec.user ?? '0:0').split(':');
  // Killed with the test process unless detached (`compose up -d` in the stand-in).
  const pdeathsig = spec.detached ? '' : '--pdeathsig SIGKILL ';
  const drop =
    uid === '0'
      ? `setpriv ${pdeathsig}-- `
      : `setpriv ${pdeathsig}--reuid=${q(uid ?? '0')} --regid=${q(gid ?? uid ?? '0')} --clear-groups -- `;
  const cwd = spec.cwd ?? '/';
  lines.push(
    `exec chroot ${q(root)} ${drop}sh -c 'cd "$1" && shift && exec "$@"' sh ${q(cwd)} ${spec.command.map(q).join(' ')}`,
  );
  return `${lines.join('\n')}\n`;
}

/** The nsenter command line that runs the container, and its work folder (delete it afterwards). */
export async function prepareContainer(
  spec: ContainerSpec,
): Promise<{ work: string; argv: string[]; env: Record<string, string> }> {
  requireRoot();
  const work = await mkdtemp(path.join(tmpdir(), `atlas-ctr-${spec.name}-`));
  await mkdir(`${work}/root`);
  await mkdir(`${work}/upper`);
  const script = `${work}/start.sh`;
  await writeFile(script, containerScript(spec, work));
  return {
    work,
    argv: [
      'nsenter',
      `--net=${spec.network.nsPath}`,
      '--',
      'unshare',
      '--mount',
      '--propagation',
      'private',
      '--',
      'sh',
      script,
    ],
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: '/root', ...spec.env },
  };
}

/** Starts one service in its own root, in the test network. */
export async function startContainer(spec: ContainerSpec): Promise<Container> {
  const { work, argv, env } = await prepareContainer(spec);
  const logFile = `${work}/log`;
  const logStream = createWriteStream(logFile);
  const [program = 'nsenter', ...args] = argv;
  const child = spawn(program, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  // What the service printed is kept in memory as well as in its log file: a read right after the
  // process exits must not depend on the file stream having flushed.
  const printed: Buffer[] = [];
  let printedBytes = 0;
  const keep = (chunk: Buffer) => {
    printed.push(chunk);
    printedBytes += chunk.length;
    while (printedBytes > 4 * 1024 * 1024 && printed.length > 1) printedBytes -= printed.shift()?.length ?? 0;
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  child.stdout?.pipe(logStream, { end: false });
  child.stderr?.pipe(logStream, { end: false });
  // 'exit' can come before the last output is read; 'close' comes after it, unless something the
  // service left running still holds its output open, so wait for it only briefly.
  const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => {
      const timer = setTimeout(() => resolve(code), 2000);
      void closed.then(() => {
        clearTimeout(timer);
        resolve(code);
      });
    }),
  );
  const log = async () => Buffer.concat(printed).toString('utf8');
  return {
    name: spec.name,
    process: child,
    log,
    exited,
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill(signal);
        const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
        await exited;
        clearTimeout(timer);
      }
      logStream.end();
      // The mounts died with the namespace; only the empty mount points are left.
      await rm(work, { recursive: true, force: true });
    },
  };
}

/** Runs a one-shot service to completion and returns what it printed. */
export async function runContainer(spec: ContainerSpec, timeoutMs = 120_000): Promise<ExecResult> {
  const container = await startContainer(spec);
  const timer = setTimeout(() => container.process.kill('SIGKILL'), timeoutMs);
  const code = await container.exited;
  clearTimeout(timer);
  const output = await container.log();
  await container.stop();
  return { code: code ?? -1, stdout: output, stderr: '' };
}
