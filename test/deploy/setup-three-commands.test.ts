import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../support/ports.ts';
import { type HttpAnswer, httpsRequest } from './support/https.ts';
import { startOnTheServer } from './support/on-the-server.ts';
import { DEPLOY_DIR } from './support/render.ts';
import { attachNetwork, createNetwork, type Network } from './support/sandbox.ts';
import { createStack, startDns, synapseVenv, type TestStack } from './support/stack.ts';

// The last of the three commands of deploy/README.md (install, clone, setup.sh --admin), on a
// fresh "VPS": a network namespace with the machine's public address, DNS records pointing there,
// and the compose stand-in running the stack's real programs (Synapse, PostgreSQL, HAProxy,
// coturn, Atlas; Element's static files served by a stand-in for its nginx). The first two
// commands (apt-get, git clone) are what this checkout already is; install.test.ts checks the
// install step's package names.

const SERVER = 'example.test';
const ATLAS = 'directory.example.test';
const ELEMENT = `element.${SERVER}`;
const ADMIN = 'alice';
// Not a private range, so coturn relays there as on a real server (see stack.test.ts).
const PUBLIC_IP = '100.128.0.1';
// Element listens on 8080 like Atlas: it gets a network of its own, as compose gives every
// container an address of its own.
const ELEMENT_IP = '10.89.0.2';

interface Vps {
  dir: string;
  network: Network;
  stack: TestStack;
  env: Record<string, string>;
  setup(args?: string[]): ReturnType<typeof startOnTheServer>;
  get(url: string, options?: Parameters<typeof httpsRequest>[3]): Promise<HttpAnswer>;
  close(): Promise<void>;
}

const SETUP_ARGS = ['--domain', SERVER, '--atlas-domain', ATLAS, '--admin', ADMIN];

async function freshVps(): Promise<Vps> {
  const venv = synapseVenv();
  if (!existsSync(path.join(venv, 'bin/python'))) {
    throw new Error(`Synapse is not installed in ${venv}; run sh scripts/install-synapse.sh`);
  }
  const dir = await mkdtemp(path.join(tmpdir(), 'atlas-vps-'));
  const network = await createNetwork();
  const address = await network.exec(['ip', 'addr', 'add', `${PUBLIC_IP}/32`, 'dev', 'lo']);
  if (address.code !== 0) throw new Error(`cannot add ${PUBLIC_IP} in the test network: ${address.stderr}`);
  const element = await attachNetwork(network, 'elem', ELEMENT_IP);
  const dns = await startDns(network, {
    [SERVER]: PUBLIC_IP,
    [ELEMENT]: PUBLIC_IP,
    [ATLAS]: PUBLIC_IP,
    element: ELEMENT_IP,
  });
  const stack = await createStack(dir, network, {
    lazyModel: true,
    // coturn will not pick listener and relay addresses itself when every address sits on the
    // loopback interface (see coturn.test.ts).
    serviceArgs: {
      coturn: ['--listening-ip=127.0.0.1', `--listening-ip=${PUBLIC_IP}`, `--relay-ip=${PUBLIC_IP}`],
    },
    serviceNetworks: { element: { nsPath: element.nsPath, address: ELEMENT_IP } },
  });
  const env = await stack.composeEnv();
  return {
    dir,
    network,
    stack,
    env,
    setup: (args = SETUP_ARGS) =>
      startOnTheServer(network, path.join(DEPLOY_DIR, 'setup.sh'), [...args, '--dir', dir], env),
    get: (url, options) => httpsRequest(network, dir, url, options),
    async close() {
      dns.kill('SIGTERM');
      await stack.close();
      await element.close();
      await network.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Logs in with Matrix's password login through HAProxy, then asks /whoami with the token. */
async function logIn(vps: Vps, user: string, password: string): Promise<string> {
  const login = await vps.get(`https://${SERVER}/_matrix/client/v3/login`, {
    method: 'POST',
    body: JSON.stringify({ type: 'm.login.password', identifier: { type: 'm.id.user', user }, password }),
  });
  if (login.status !== 200) throw new Error(`login as ${user}: ${login.status} ${login.body}`);
  const token = login.json<{ access_token: string }>().access_token;
  const whoami = await vps.get(`https://${SERVER}/_matrix/client/v3/account/whoami`, {
    headers: { Authorization: `Bearer ${token}` },
  });
  if (whoami.status !== 200) throw new Error(`whoami: ${whoami.status} ${whoami.body}`);
  return whoami.json<{ user_id: string }>().user_id;
}

const passwordFile = (vps: Vps) => path.join(vps.dir, 'secrets', `admin-${ADMIN}.password`);

/** Every file of the stack folder: content, mode, owner and modification time. */
async function snapshot(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const walk = async (folder: string) => {
    for (const entry of await readdir(folder, { withFileTypes: true })) {
      const file = path.join(folder, entry.name);
      if (entry.isDirectory()) await walk(file);
      else if (entry.isFile()) {
        const info = await stat(file);
        const hash = createHash('sha256')
          .update(await readFile(file))
          .digest('hex');
        out[path.relative(dir, file)] =
          `${hash} ${info.mode.toString(8)} ${info.uid}:${info.gid} ${info.mtimeMs}`;
      }
    }
  };
  await walk(dir);
  return out;
}

const output = (result: { stdout: string; stderr: string }) => `${result.stderr}\n${result.stdout}`;

describe('setup.sh --admin on a fresh machine', () => {
  let vps: Vps;

  beforeAll(async () => {
    vps = await freshVps();
  }, 120_000);

  afterAll(async () => {
    await vps?.close();
  });

  it("ends with the admin logging in through HAProxy, Element's config served with Atlas's feed and doctor.sh --after-start clean", async ({
    annotate,
  }) => {
    const started = Date.now();
    const setup = await (await vps.setup()).done;
    const log = output(setup);
    expect(setup.code, log).toBe(0);
    const password = (await readFile(passwordFile(vps), 'utf8')).trim();
    expect(await logIn(vps, ADMIN, password)).toBe(`@${ADMIN}:${SERVER}`);
    await annotate(
      `from setup.sh to the admin's /whoami: ${((Date.now() - started) / 1000).toFixed(0)} s (no image pulls in the stand-in)`,
    );
    // Where the time went, as setup.sh reports it.
    await annotate(setup.stderr.match(/^setup: \S+ is up \(\d+ s\)$/gm)?.join('; ') ?? 'no service times');

    // It said which service it waited for, one after the other.
    for (const service of ['postgres', 'synapse', 'atlas-api', 'element', 'haproxy', 'coturn'])
      expect(setup.stderr).toContain(`setup: starting ${service}, waiting up to 300 s until it is healthy`);
    expect(setup.stderr.indexOf('setup: starting postgres')).toBeLessThan(
      setup.stderr.indexOf('setup: starting synapse'),
    );
    // The pre-flight checks ran before anything started, and doctor.sh --after-start found nothing.
    expect(setup.stdout).toContain('ok    tcp 443 is free');
    expect(setup.stdout).toContain(
      `ok    TURN allocation on ${SERVER}:3478 with credentials from the shared secret`,
    );
    expect(setup.stdout).toContain('ok    port 8448 answers federation requests');
    expect(setup.stdout).toContain('doctor: no problems found');
    expect(setup.stdout).not.toContain('FAIL');
    // The end says where everything is; the password stays in its file.
    expect(setup.stdout).toContain(`Element:        https://${ELEMENT}/`);
    expect(setup.stdout).toContain(`Admin:          @${ADMIN}:${SERVER}`);
    expect(setup.stdout).toContain(`Password:       in ${passwordFile(vps)}`);
    expect(setup.stdout).toContain(`More users:     sh ${vps.dir}/adduser.sh NAME`);
    expect(log).not.toContain(password);
    expect(((await stat(passwordFile(vps))).mode & 0o777).toString(8)).toBe('600');

    // The admin is a server admin (the admin API on Synapse's own listener says so).
    const login = await vps.get(`https://${SERVER}/_matrix/client/v3/login`, {
      method: 'POST',
      body: JSON.stringify({
        type: 'm.login.password',
        identifier: { type: 'm.id.user', user: ADMIN },
        password,
      }),
    });
    const token = login.json<{ access_token: string }>().access_token;
    const isAdmin = await vps.network.exec([
      'curl',
      '-sS',
      '-H',
      `Authorization: Bearer ${token}`,
      `http://127.0.0.1:8008/_synapse/admin/v1/users/@${ADMIN}:${SERVER}/admin`,
    ]);
    expect(JSON.parse(isAdmin.stdout)).toEqual({ admin: true });

    // Element, on its own domain through HAProxy, with this server first and Atlas's list after.
    await waitFor(
      "Element's config with Atlas's feed",
      async () => {
        const config = await vps.get(`https://${ELEMENT}/config.json`);
        if (config.status !== 200) return false;
        const servers = config.json<{ room_directory?: { servers?: string[] } }>().room_directory?.servers;
        return servers?.[0] === SERVER && servers[1] === ATLAS;
      },
      60_000,
      1000,
    );
    const config = (await vps.get(`https://${ELEMENT}/config.json`)).json<{
      default_server_config: unknown;
    }>();
    expect(config.default_server_config).toEqual({
      'm.homeserver': { base_url: `https://${SERVER}`, server_name: SERVER },
    });
  }, 600_000);

  it('changes nothing when run again: files, secrets, running services and the admin stay as they are', async ({
    annotate,
  }) => {
    const files = await snapshot(vps.dir);
    const services = await vps.stack.runningServices();
    const callsBefore = (await vps.stack.composeCalls()).length;
    const started = Date.now();
    const again = await (await vps.setup()).done;
    expect(again.code, output(again)).toBe(0);
    await annotate(`setup.sh again, nothing to change: ${((Date.now() - started) / 1000).toFixed(0)} s`);
    expect(again.stderr).toContain('setup: nothing to change');
    expect(again.stderr).toContain(`@${ADMIN} exists already; left as it is`);
    expect(again.stdout).toContain('doctor: no problems found');
    expect(await snapshot(vps.dir)).toEqual(files);
    // The same processes: nothing restarted or started again.
    expect(await vps.stack.runningServices()).toEqual(services);
    const calls = (await vps.stack.composeCalls()).slice(callsBefore);
    expect(calls.filter((call) => call.startsWith('restart'))).toEqual([]);
    const password = (await readFile(passwordFile(vps), 'utf8')).trim();
    expect(await logIn(vps, ADMIN, password)).toBe(`@${ADMIN}:${SERVER}`);
  }, 600_000);

  it('restarts only the services that read what a changed answer rendered', async () => {
    const before = await vps.stack.runningServices();
    const callsBefore = (await vps.stack.composeCalls()).length;
    // Only Synapse's config holds report_stats.
    const changed = await (await vps.setup([...SETUP_ARGS, '--report-stats', 'yes'])).done;
    expect(changed.code, output(changed)).toBe(0);
    expect(changed.stderr).toContain('setup: restarting synapse (what it reads has changed)');
    const calls = (await vps.stack.composeCalls()).slice(callsBefore);
    expect(calls.filter((call) => call.startsWith('restart'))).toEqual(['restart synapse']);
    const after = await vps.stack.runningServices();
    expect(after.get('synapse')).not.toBe(before.get('synapse'));
    for (const [service, pid] of before)
      if (service !== 'synapse') expect(after.get(service), service).toBe(pid);
    const password = (await readFile(passwordFile(vps), 'utf8')).trim();
    expect(await logIn(vps, ADMIN, password)).toBe(`@${ADMIN}:${SERVER}`);
  }, 600_000);
  it('stops with the log of a service that does not come up, and a second run finishes once it is fixed', async () => {
    // HAProxy stopped, and its certificate file broken: it exits as it starts.
    const pid = (await vps.stack.runningServices()).get('haproxy');
    if (pid === undefined) throw new Error('HAProxy is not running');
    process.kill(pid, 'SIGTERM');
    await waitFor('HAProxy to stop', async () => !(await vps.stack.runningServices()).has('haproxy'), 20_000);
    const pem = path.join(vps.dir, 'certs/haproxy.pem');
    const certificate = await readFile(pem);
    await writeFile(pem, 'not a certificate\n');

    const failed = await (await vps.setup()).done;
    expect(failed.code).not.toBe(0);
    expect(failed.stderr).toContain('setup: haproxy did not come up; the last lines it printed:');
    // HAProxy's own words about the file, from `docker compose logs`.
    expect(failed.stderr).toMatch(/^haproxy +\| .*haproxy\.pem/m);
    expect(failed.stderr).toMatch(/error: haproxy is not healthy after \d+ s: the log above says why/);
    expect(failed.stdout).not.toContain('More users:');

    await writeFile(pem, certificate);
    // Asked for, the password is printed (once more, the same one).
    const fixed = await (await vps.setup([...SETUP_ARGS, '--show-password'])).done;
    expect(fixed.code, output(fixed)).toBe(0);
    expect(fixed.stdout).toContain('doctor: no problems found');
    const password = (await readFile(passwordFile(vps), 'utf8')).trim();
    expect(fixed.stdout).toContain(`Password:       ${password} (also in ${passwordFile(vps)})`);
    expect(await logIn(vps, ADMIN, password)).toBe(`@${ADMIN}:${SERVER}`);
  }, 600_000);
  it('takes a new --email: HAProxy restarts to serve the new contact, and the acme service is started', async () => {
    const before = await vps.stack.runningServices();
    const callsBefore = (await vps.stack.composeCalls()).length;
    const result = await (await vps.setup([...SETUP_ARGS, '--email', 'admin@example.test'])).done;
    expect(result.code, output(result)).toBe(0);
    const calls = (await vps.stack.composeCalls()).slice(callsBefore);
    // The well-known support file is the only rendered file that changed; HAProxy serves it.
    expect(calls.filter((call) => call.startsWith('restart'))).toEqual(['restart haproxy']);
    expect(calls).toContain('up -d --wait --wait-timeout 300 acme');
    const after = await vps.stack.runningServices();
    for (const [service, pid] of before)
      if (service !== 'haproxy') expect(after.get(service), service).toBe(pid);
    const support = await vps.get(`https://${SERVER}/.well-known/matrix/support`);
    expect(support.json()).toEqual({
      contacts: [
        { matrix_id: `@${ADMIN}:${SERVER}`, email_address: 'admin@example.test', role: 'm.role.admin' },
      ],
    });
    // acme.sh is not run here (Let's Encrypt cannot be reached): setup says the certificate stays.
    expect(result.stderr).toContain(
      'warning: the acme service is not running, so the certificate stays self-signed',
    );
    expect(result.stdout).toContain('doctor: no problems found');
    const password = (await readFile(passwordFile(vps), 'utf8')).trim();
    expect(await logIn(vps, ADMIN, password)).toBe(`@${ADMIN}:${SERVER}`);
  }, 600_000);
});

describe('setup.sh --admin, stopped and interrupted', () => {
  let vps: Vps;

  beforeAll(async () => {
    vps = await freshVps();
  }, 120_000);

  afterAll(async () => {
    await vps?.close();
  });

  it('stops before anything starts when a port is taken, naming the port and the program holding it', async () => {
    // Another web server on the federation port.
    const squatter: ChildProcess = spawn(
      'nsenter',
      [`--net=${vps.network.nsPath}`, 'python3', '-m', 'http.server', '8448', '--bind', '0.0.0.0'],
      { stdio: 'ignore' },
    );
    try {
      await waitFor('the other program to listen on 8448', async () => {
        const ss = await vps.network.exec(['ss', '-Hltn', 'sport = :8448']);
        return ss.stdout.trim().length > 0;
      });
      const setup = await (await vps.setup()).done;
      expect(setup.code).not.toBe(0);
      // nsenter executes python3 in its own process.
      expect(setup.stdout).toContain(
        `FAIL  tcp 8448 is taken by python3 (pid ${squatter.pid}), and the stack's haproxy needs it`,
      );
      expect(setup.stderr).toContain('Nothing was started');
      expect(await vps.stack.runningServices()).toEqual(new Map());
      const calls = await vps.stack.composeCalls();
      expect(calls.filter((call) => /^(up|restart|exec|run)\b/.test(call))).toEqual([]);
      expect(existsSync(passwordFile(vps))).toBe(false);
    } finally {
      squatter.kill('SIGTERM');
    }
    await waitFor('8448 to be free', async () => {
      const ss = await vps.network.exec(['ss', '-Hltn', 'sport = :8448']);
      return ss.stdout.trim().length === 0;
    });
  }, 300_000);

  it('finishes, when run again, what a setup killed in the middle of the start left', async ({
    annotate,
  }) => {
    // Killed (the terminal closed) while it starts Atlas, with the databases and Synapse up.
    const first = await vps.setup();
    await waitFor(
      'setup.sh to start atlas-api',
      () => first.stderr().includes('setup: starting atlas-api') || first.child.exitCode !== null,
      400_000,
      200,
    );
    await first.kill();
    expect(first.stderr(), output({ stdout: first.stdout(), stderr: first.stderr() })).toContain(
      'setup: synapse is up',
    );
    // It did not get to the end: no admin yet, HAProxy not started.
    expect(first.stdout()).not.toContain('is up (');
    expect(existsSync(passwordFile(vps))).toBe(false);
    const left = await vps.stack.runningServices();
    expect(left.has('synapse')).toBe(true);
    expect(left.has('haproxy')).toBe(false);

    const callsBefore = (await vps.stack.composeCalls()).length;
    const started = Date.now();
    const second = await (await vps.setup()).done;
    expect(second.code, output(second)).toBe(0);
    await annotate(`setup.sh after the killed one: ${((Date.now() - started) / 1000).toFixed(0)} s`);
    expect(second.stderr).toContain(`created @${ADMIN}:${SERVER} (server admin)`);
    expect(second.stdout).toContain('doctor: no problems found');
    // What was up stayed up: nothing to restart, nothing started twice.
    const calls = (await vps.stack.composeCalls()).slice(callsBefore);
    expect(calls.filter((call) => call.startsWith('restart'))).toEqual([]);
    const now = await vps.stack.runningServices();
    for (const service of ['postgres', 'redis', 'meilisearch', 'synapse'])
      expect(now.get(service), service).toBe(left.get(service));
    const password = (await readFile(passwordFile(vps), 'utf8')).trim();
    expect(await logIn(vps, ADMIN, password)).toBe(`@${ADMIN}:${SERVER}`);
  }, 900_000);
});
