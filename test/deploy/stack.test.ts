import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../support/ports.ts';
import { createTestCa } from '../support/test-ca.ts';
import { type HttpAnswer, httpsRequest } from './support/https.ts';
import { withResolver } from './support/on-the-server.ts';
import { DEPLOY_DIR, renderStack, runScript } from './support/render.ts';
import { createNetwork, type Network } from './support/sandbox.ts';
import { createStack, startDns, synapseVenv, type TestStack } from './support/stack.ts';

const SERVER = 'example.test';
const ATLAS = 'directory.example.test';
const ELEMENT = `element.${SERVER}`;
// The machine's public address, as a VPS has it on an interface: it exists only inside the test's
// network namespace (on its loopback interface), where the DNS stand-in answers the stack's names
// with it. Not a private range, so coturn relays there as on a real server.
const PUBLIC_IP = '100.128.0.1';

describe('the stack, run from its rendered configs', () => {
  let stackDir: string;
  let network: Network;
  let stack: TestStack;
  let dns: ChildProcess;

  beforeAll(async () => {
    const venv = synapseVenv();
    if (!existsSync(path.join(venv, 'bin/python'))) {
      throw new Error(`Synapse is not installed in ${venv}; run sh scripts/install-synapse.sh`);
    }
    ({ dir: stackDir } = await renderStack(['--domain', SERVER, '--atlas-domain', ATLAS]));
    network = await createNetwork();
    stack = await createStack(stackDir, network);
    const address = await network.exec(['ip', 'addr', 'add', `${PUBLIC_IP}/32`, 'dev', 'lo']);
    if (address.code !== 0) throw new Error(`cannot add ${PUBLIC_IP} in the test network: ${address.stderr}`);
    dns = await startDns(network, { [SERVER]: PUBLIC_IP, [ELEMENT]: PUBLIC_IP, [ATLAS]: PUBLIC_IP });

    await stack.start('postgres');
    const init = await waitForInit(stack);
    expect(init.stdout).toContain('databases synapse and atlas are ready');

    await stack.start('redis');
    await stack.start('meilisearch');
    await stack.start('synapse');
    await runMigrate(stack);
    await stack.start('atlas-api');
    await stack.waitForHttp('Synapse', 'http://127.0.0.1:8008/health', 120_000);
    await stack.waitForHttp('Atlas', 'http://127.0.0.1:8080/healthz', 120_000);
    await stack.start('haproxy');
    // HAProxy's health checks mark a backend up after two successes.
    await waitFor('HAProxy to route to Synapse and Atlas', async () => {
      const synapse = await httpsRequest(network, stackDir, `https://${SERVER}/_matrix/client/versions`);
      const atlas = await httpsRequest(network, stackDir, `https://${ATLAS}/healthz`);
      return synapse.status === 200 && atlas.status === 200;
    });
  }, 300_000);

  afterAll(async () => {
    dns?.kill('SIGTERM');
    await stack?.close();
    await network?.close();
    if (stackDir) await rm(stackDir, { recursive: true, force: true });
  });

  const get = (url: string, options?: Parameters<typeof httpsRequest>[3]): Promise<HttpAnswer> =>
    httpsRequest(network, stackDir, url, options);

  it('answers the well-knowns as JSON that any web client may read', async () => {
    const server = await get(`https://${SERVER}/.well-known/matrix/server`);
    expect(server.status).toBe(200);
    expect(server.httpVersion).toBe('2');
    expect(server.headers['content-type']).toBe('application/json');
    expect(server.headers['access-control-allow-origin']).toBe('*');
    expect(server.json()).toEqual({ 'm.server': `${SERVER}:443` });
    const client = await get(`https://${SERVER}/.well-known/matrix/client`);
    expect(client.status).toBe(200);
    expect(client.headers['content-type']).toBe('application/json');
    expect(client.headers['access-control-allow-origin']).toBe('*');
    expect(client.json()).toEqual({ 'm.homeserver': { base_url: `https://${SERVER}` } });
  });

  it('routes the client and federation APIs to Synapse on 443 and 8448', async () => {
    const versions = await get(`https://${SERVER}/_matrix/client/versions`);
    expect(versions.status).toBe(200);
    expect(versions.json<{ versions: string[] }>().versions).toContain('v1.11');
    const federation = await get(`https://${SERVER}:8448/_matrix/federation/v1/version`);
    expect(federation.status).toBe(200);
    expect(federation.json<{ server: { name: string } }>().server.name).toBe('Synapse');
    const key = await get(`https://${SERVER}:8448/_matrix/key/v2/server`);
    expect(key.json<{ server_name: string }>().server_name).toBe(SERVER);
    // The admin API stays closed without the admin UI profile.
    const admin = await get(`https://${SERVER}/_synapse/admin/v1/server_version`);
    expect(admin.status).toBe(404);
  });

  it("routes Atlas's domain to Atlas", async () => {
    const health = await get(`https://${ATLAS}/healthz`);
    expect(health.status).toBe(200);
    expect(health.json()).toEqual({ status: 'ok' });
    const ready = await get(`https://${ATLAS}/readyz`);
    expect(ready.status).toBe(200);
    // Atlas's own Matrix identity, not Synapse's, on its domain.
    const key = await get(`https://${ATLAS}/_matrix/key/v2/server`);
    expect(key.status).toBe(200);
    expect(key.json<{ server_name: string }>().server_name).toBe(ATLAS);
    // Metrics stay inside the stack's network.
    expect((await get(`https://${ATLAS}/metrics`)).status).toBe(404);
  });

  it('searches with the Meilisearch of the stack, with PostgreSQL while it is away, and rebuilds it after an upgrade', async () => {
    const psql = (sql: string) =>
      stack.run('postgres', {
        command: ['psql', '-U', 'postgres', '-d', 'atlas', '-v', 'ON_ERROR_STOP=1', '-c', sql],
      });
    const inserted = await psql(
      "insert into rooms (room_id, name, num_joined_members) values ('!lighthouse:remote.test', 'Lighthouse keepers', 7)",
    );
    expect(inserted.code, inserted.stdout).toBe(0);
    // In production mode: nothing without the master key.
    const anonymous = await network.exec([
      'curl',
      '-s',
      '-o',
      '/dev/null',
      '-w',
      '%{http_code}',
      'http://127.0.0.1:7700/indexes',
    ]);
    expect(anonymous.stdout).toBe('401');
    const reindex = async () => {
      const result = await stack.run('atlas-api', {
        command: ['/app/deploy/atlas/entrypoint.sh', 'reindex'],
      });
      expect(result.code, result.stdout).toBe(0);
    };
    const answeredBy = async (backend: string) => {
      await waitFor(`searches answered by ${backend}`, async () => {
        const answer = await get(`https://${ATLAS}/api/v1/rooms?q=lighthouse`);
        return (
          answer.status === 200 &&
          answer.headers['x-atlas-search-backend'] === backend &&
          answer.json<{ rooms: { room_id: string }[] }>().rooms[0]?.room_id === '!lighthouse:remote.test'
        );
      });
    };

    // `atlas reindex` (the index queue, where crawlers run) builds the index with the secret key.
    await reindex();
    await answeredBy('meilisearch');
    // Away: PostgreSQL answers, and says so.
    await stack.stopService('meilisearch');
    await answeredBy('postgres; fallback');
    // An upgrade: the data folder of the older version is not opened; Meilisearch starts empty,
    // PostgreSQL answers until the index is rebuilt.
    const volume = stack.ctx.volumes['meili-data'] ?? '';
    await writeFile(path.join(volume, 'data.ms/VERSION'), '1.15.2\n');
    const meili = await stack.start('meilisearch');
    await stack.waitForHttp('Meilisearch', 'http://127.0.0.1:7700/health');
    expect(await meili.log()).toContain('was written by Meilisearch 1.15.2');
    await answeredBy('postgres; fallback');
    await reindex();
    await answeredBy('meilisearch');
  });

  it("fills Element's room directory from Atlas's feed", async () => {
    const refresh = await stack.run('element-config', {
      command: [
        '/app/deploy/atlas/entrypoint.sh',
        'node',
        '--import',
        'tsx',
        'deploy/element/refresh-config.ts',
        '--once',
      ],
    });
    expect(refresh.code, refresh.stdout).toBe(0);
    const config = JSON.parse(await readFile(path.join(stackDir, 'config/element/config.json'), 'utf8')) as {
      room_directory: { servers: string[] };
      default_server_config: unknown;
    };
    // This homeserver first, then Atlas's list, which starts with Atlas itself.
    expect(config.room_directory.servers.slice(0, 2)).toEqual([SERVER, ATLAS]);
    expect(config.default_server_config).toEqual({
      'm.homeserver': { base_url: `https://${SERVER}`, server_name: SERVER },
    });
  });

  it('creates users with adduser.sh, who can then log in through HAProxy', async () => {
    const scripts = await stack.composeEnv();
    // The script talks to Synapse's listener directly (as it does inside the container).
    const env = { ...scripts, ATLAS_DEPLOY_SYNAPSE_URL: 'http://127.0.0.1:8008' };
    const adduser = (args: string[], input: string) =>
      network.exec(['sh', path.join(stackDir, 'adduser.sh'), ...args], { env, input });

    const created = await adduser(['alice'], 'correct horse battery\n');
    expect(created.stderr).toContain(`created @alice:${SERVER}`);
    expect(created.code).toBe(0);
    const admin = await adduser(['root-admin', '--admin'], 'another long password\n');
    expect(admin.stderr).toContain(`created @root-admin:${SERVER} (server admin)`);

    const login = await get(`https://${SERVER}/_matrix/client/v3/login`, {
      method: 'POST',
      body: JSON.stringify({
        type: 'm.login.password',
        identifier: { type: 'm.id.user', user: 'alice' },
        password: 'correct horse battery',
      }),
    });
    expect(login.status).toBe(200);
    const session = login.json<{ user_id: string; access_token: string }>();
    expect(session.user_id).toBe(`@alice:${SERVER}`);
    const whoami = await get(`https://${SERVER}/_matrix/client/v3/account/whoami`, {
      headers: { Authorization: `Bearer ${session.access_token}` },
    });
    expect(whoami.json()).toMatchObject({ user_id: `@alice:${SERVER}` });

    // --admin made a server admin: the admin API (on Synapse's own listener) says so.
    const adminToken = await loginAs(get, 'root-admin', 'another long password');
    const isAdmin = await network.exec([
      'curl',
      '-sS',
      '-H',
      `Authorization: Bearer ${adminToken}`,
      `http://127.0.0.1:8008/_synapse/admin/v1/users/@root-admin:${SERVER}/admin`,
    ]);
    expect(JSON.parse(isAdmin.stdout)).toEqual({ admin: true });
    const aliceAdmin = await network.exec([
      'curl',
      '-sS',
      '-H',
      `Authorization: Bearer ${session.access_token}`,
      `http://127.0.0.1:8008/_synapse/admin/v1/users/@alice:${SERVER}/admin`,
    ]);
    expect(JSON.parse(aliceAdmin.stdout)).toMatchObject({ errcode: 'M_FORBIDDEN' });

    // Every failure says what happened and changes nothing.
    const again = await adduser(['alice'], 'correct horse battery\n');
    expect(again.code).not.toBe(0);
    expect(again.stderr).toContain('the user alice exists already');
    const badName = await adduser(['Alice Smith'], 'correct horse battery\n');
    expect(badName.code).not.toBe(0);
    expect(badName.stderr).toContain('is not a valid user name');
    const shortPassword = await adduser(['bob'], 'short\n');
    expect(shortPassword.stderr).toContain('at least 8 characters');
    const down = await network.exec(['sh', path.join(stackDir, 'adduser.sh'), 'carol'], {
      env: { ...env, ATLAS_DEPLOY_SYNAPSE_URL: 'http://127.0.0.1:9' },
      input: 'correct horse battery\n',
    });
    expect(down.code).not.toBe(0);
    expect(down.stderr).toContain('Synapse does not answer');
  });

  it('backs up, and a restore into a fresh data folder brings the users, media, keys and Atlas rooms back', async () => {
    // What the server holds before: a user (from the test above), a media file, Atlas rooms.
    const login = await loginAs(get, 'alice', 'correct horse battery');
    const upload = await get(`https://${SERVER}/_matrix/media/v3/upload?filename=hello.txt`, {
      method: 'POST',
      body: 'hello from before the backup',
      headers: { Authorization: `Bearer ${login}`, 'Content-Type': 'text/plain' },
    });
    expect(upload.status).toBe(200);
    const mxc = upload.json<{ content_uri: string }>().content_uri;
    const rooms = await stack.run('postgres', {
      command: [
        'psql',
        '-U',
        'postgres',
        '-d',
        'atlas',
        '-v',
        'ON_ERROR_STOP=1',
        '-c',
        "insert into rooms (room_id, name, num_joined_members) values ('!one:remote.test', 'First room', 12), ('!two:remote.test', 'Second room', 340)",
      ],
    });
    expect(rooms.code, rooms.stdout).toBe(0);
    const synapseKey = (await get(`https://${SERVER}:8448/_matrix/key/v2/server`)).json<KeyAnswer>()
      .verify_keys;
    const atlasKey = (await get(`https://${ATLAS}/_matrix/key/v2/server`)).json<KeyAnswer>().verify_keys;

    const backupDir = path.join(stackDir, 'backups', 'test');
    const backup = await runScript(path.join(stackDir, 'backup.sh'), ['--out', backupDir], {
      env: await stack.composeEnv(),
    });
    expect(backup.code, backup.stderr).toBe(0);
    expect(backup.stdout.trim()).toBe(backupDir);
    expect((await stat(backupDir)).mode & 0o777).toBe(0o700);

    // A new machine: a fresh copy of the deploy folder, fresh volumes, a fresh network.
    const freshDir = await mkdtemp(path.join(tmpdir(), 'atlas-restore-'));
    const freshNetwork = await createNetwork();
    const fresh = await createStack(freshDir, freshNetwork, { lazyModel: true });
    try {
      await copyDeployFolder(freshDir);
      const restore = await runScript(path.join(freshDir, 'restore.sh'), [backupDir, '--yes', '--no-start'], {
        env: await fresh.composeEnv(),
      });
      expect(restore.code, `${restore.stderr}\n${restore.stdout}`).toBe(0);
      expect(restore.stderr).toContain('restore: done');
      await fresh.reload();
      await fresh.start('redis');
      await fresh.start('synapse');
      await runMigrate(fresh);
      await fresh.start('atlas-api');
      await fresh.waitForHttp('restored Synapse', 'http://127.0.0.1:8008/health', 120_000);
      await fresh.waitForHttp('restored Atlas', 'http://127.0.0.1:8080/healthz', 120_000);
      await fresh.start('haproxy');
      const freshGet = (url: string, options?: Parameters<typeof httpsRequest>[3]) =>
        httpsRequest(freshNetwork, freshDir, url, options);
      await waitFor('HAProxy in the restored stack', async () => {
        const versions = await freshGet(`https://${SERVER}/_matrix/client/versions`);
        const atlas = await freshGet(`https://${ATLAS}/healthz`);
        return versions.status === 200 && atlas.status === 200;
      });

      // The same user logs in with the same password; the same media and keys are served.
      const token = await loginAs(freshGet, 'alice', 'correct horse battery');
      const [mediaServer, mediaId] = mxc.replace('mxc://', '').split('/');
      const media = await freshGet(
        `https://${SERVER}/_matrix/client/v1/media/download/${mediaServer}/${mediaId}`,
        {
          headers: { Authorization: `Bearer ${token}` },
        },
      );
      expect(media.status).toBe(200);
      expect(media.body).toBe('hello from before the backup');
      const restoredSynapseKey = (
        await freshGet(`https://${SERVER}:8448/_matrix/key/v2/server`)
      ).json<KeyAnswer>();
      expect(restoredSynapseKey.verify_keys).toEqual(synapseKey);
      const restoredAtlasKey = (await freshGet(`https://${ATLAS}/_matrix/key/v2/server`)).json<KeyAnswer>();
      expect(restoredAtlasKey.verify_keys).toEqual(atlasKey);
      const restoredRooms = await fresh.run('postgres', {
        command: [
          'psql',
          '-U',
          'postgres',
          '-d',
          'atlas',
          '-Atc',
          'select room_id, name, num_joined_members from rooms order by room_id',
        ],
      });
      expect(restoredRooms.stdout).toContain('!one:remote.test|First room|12');
      expect(restoredRooms.stdout).toContain('!two:remote.test|Second room|340');
      // The secrets came back as they were, 0600.
      for (const name of ['synapse_signing_key', 'turn_shared_secret', 'postgres_password']) {
        const info = await stat(path.join(freshDir, 'secrets', name));
        expect((info.mode & 0o777).toString(8)).toBe('600');
        expect(await readFile(path.join(freshDir, 'secrets', name), 'utf8')).toBe(
          await readFile(path.join(stackDir, 'secrets', name), 'utf8'),
        );
      }
    } catch (error) {
      throw new Error(`${String(error)}\n${await fresh.logs()}`);
    } finally {
      await fresh.close();
      await freshNetwork.close();
      await rm(freshDir, { recursive: true, force: true });
    }
  }, 300_000);

  it('sends the bare domain to Element and refuses unknown hosts', async () => {
    const root = await get(`https://${SERVER}/`);
    expect(root.status).toBe(302);
    expect(root.headers.location).toBe(`https://${ELEMENT}/`);
    const unknown = await get(`https://${SERVER}:8448/index.html`);
    expect(unknown.status).toBe(404);
  });

  /**
   * Runs a deploy script as the operator would on the server: its DNS resolver is the stack's DNS
   * (the test's stand-in, answering the public names with PUBLIC_IP) and it trusts the stack's
   * self-signed certificate, as it would trust a Let's Encrypt one.
   */
  async function onTheServer(script: string, args: string[]) {
    const resolvConf = path.join(stackDir, 'test-resolv.conf');
    await writeFile(resolvConf, 'nameserver 127.0.0.11\n');
    return network.exec(withResolver(resolvConf, path.join(stackDir, script), args), {
      env: { ...(await stack.composeEnv()), CURL_CA_BUNDLE: path.join(stackDir, 'certs/fullchain.pem') },
      timeoutMs: 240_000,
    });
  }

  async function startCoturn() {
    // As in coturn.test.ts, the test names the listener and relay addresses (coturn will not pick
    // them itself when every address sits on the loopback interface).
    const coturn = await stack.start('coturn', {
      extraArgs: ['--listening-ip=127.0.0.1', `--listening-ip=${PUBLIC_IP}`, `--relay-ip=${PUBLIC_IP}`],
    });
    await waitFor('coturn to listen on 3478', async () => {
      if (coturn.process.exitCode !== null) throw new Error(`coturn exited:\n${await coturn.log()}`);
      const ss = await network.exec(['ss', '-Hlun', 'sport = :3478']);
      return ss.stdout.trim().length > 0;
    });
  }

  it('doctor.sh --after-start finds the well-knowns, federation through the delegation and a TURN allocation working', async () => {
    await startCoturn();
    const doctor = await onTheServer('doctor.sh', ['--after-start']);
    const report = doctor.stdout;
    expect(report).toContain(`ok    https://${SERVER}/.well-known/matrix/server`);
    expect(report).toContain(`ok    https://${SERVER}/.well-known/matrix/client`);
    expect(report).toMatch(
      new RegExp(`ok    federation through the delegation to ${SERVER}:443: .*"Synapse"`),
    );
    expect(report).toContain('ok    port 8448 answers federation requests');
    expect(report).toContain(
      `ok    TURN allocation on ${SERVER}:3478 with credentials from the shared secret`,
    );
    // The preflight part sees the running stack: its DNS records, its ports, no NAT.
    expect(report).toContain(`ok    ${SERVER} -> ${PUBLIC_IP}, an address of this machine (no NAT)`);
    for (const port of [80, 443, 8448, 3478, 5349])
      expect(report).toContain(`ok    tcp ${port} is listening`);
    expect(report).not.toContain('PERMANENT');
    expect(report).not.toContain('FAIL');
    expect(report).toContain('doctor: no problems found');
    expect(doctor.code, `${report}\n${doctor.stderr}`).toBe(0);
  }, 120_000);

  it('upgrade.sh makes a backup first, then pulls, builds and restarts, and leaves the stack healthy', async () => {
    // doctor.sh (run at the end) makes a TURN allocation: coturn runs, as after the test above.
    if (!stack.container('coturn')) await startCoturn();
    const callsBefore = (await stack.composeCalls()).length;
    const upgrade = await onTheServer('upgrade.sh', []);
    const log = upgrade.stderr;
    expect(upgrade.code, `${log}\n${upgrade.stdout}`).toBe(0);
    const backupDir = /backup: done: (\S+)/.exec(log)?.[1] ?? '';
    expect(backupDir.startsWith(path.join(stackDir, 'backups'))).toBe(true);
    expect(log).toContain(`upgrade: done (backup: ${backupDir})`);
    // The backup is complete (its checksums hold) and was finished before anything was pulled.
    const sums = await network.exec(['sha256sum', '-c', 'SHA256SUMS'], { cwd: backupDir });
    expect(sums.code, sums.stdout + sums.stderr).toBe(0);
    expect(log.indexOf('backup: done')).toBeLessThan(log.indexOf('upgrade: pulling images'));
    const calls = (await stack.composeCalls()).slice(callsBefore);
    const firstOf = (prefix: string) => calls.findIndex((call) => call.startsWith(prefix));
    const lastOf = (prefix: string) => calls.findLastIndex((call) => call.startsWith(prefix));
    expect(firstOf('exec -T postgres pg_dump')).toBe(0);
    expect(lastOf('run --rm --no-deps -T --entrypoint tar')).toBeLessThan(firstOf('pull'));
    expect(calls.filter((call) => /^(pull|build|up)/.test(call))).toEqual([
      'pull --ignore-buildable',
      'build',
      'up -d --wait --remove-orphans',
    ]);
    // Afterwards every service of the stack runs (init and migrate ran again and exited), and
    // doctor.sh found the server working from outside.
    const env = await stack.composeEnv();
    const services = await network.exec(
      ['sh', '-c', '. "$0/lib/common.sh" && STACK=$0 && compose ps --status running --services', stackDir],
      { env },
    );
    expect(services.stdout.split('\n').filter(Boolean).sort()).toEqual(
      [
        'atlas-api',
        'coturn',
        'crawler',
        'element-config',
        'haproxy',
        'meilisearch',
        'postgres',
        'redis',
        'synapse',
      ].sort(),
    );
    expect(upgrade.stdout).toContain('doctor: no problems found');
    expect((await get(`https://${SERVER}/_matrix/client/versions`)).status).toBe(200);
    expect((await get(`https://${ATLAS}/readyz`)).status).toBe(200);
  }, 240_000);

  it('upgrade.sh stops with the way back when a service is unhealthy after the restart', async () => {
    // A hung HAProxy: the process runs, its health check gets no answer.
    const haproxy = stack.container('haproxy');
    const pid = haproxy?.process.pid;
    if (pid === undefined) throw new Error('HAProxy is not running');
    const frozen = await processTree(pid);
    for (const each of frozen) process.kill(each, 'SIGSTOP');
    try {
      const upgrade = await onTheServer('upgrade.sh', []);
      expect(upgrade.code).not.toBe(0);
      const backupDir = /backup: done: (\S+)/.exec(upgrade.stderr)?.[1] ?? '';
      expect(backupDir).not.toBe('');
      expect(upgrade.stderr).toContain('container haproxy is unhealthy');
      expect(upgrade.stderr).toContain('error: the stack is not healthy after the upgrade');
      expect(upgrade.stderr).toContain(`restore.sh ${backupDir} --yes`);
      expect(upgrade.stderr).not.toContain('upgrade: done');
    } finally {
      for (const each of frozen) process.kill(each, 'SIGCONT');
    }
  }, 240_000);

  it('doctor.sh names what is down and how to fix it', async () => {
    await stack.stopService('coturn');
    const doctor = await onTheServer('doctor.sh', ['--after-start']);
    expect(doctor.code).toBe(1);
    expect(doctor.stdout).toContain(
      'FAIL  coturn is not running, so voice and video calls cannot relay: docker compose up -d coturn; then docker compose logs coturn',
    );
    expect(doctor.stdout).toContain('FAIL  tcp 3478 is not listening');
    // The rest of the server still checks out.
    expect(doctor.stdout).toContain('ok    port 8448 answers federation requests');
    expect(doctor.stdout).toMatch(/doctor: 3 problem\(s\) found/);
  }, 120_000);

  it('serves Atlas under /atlas/ on the homeserver domain when it has no domain of its own', async () => {
    const { dir: pathDir } = await renderStack(['--domain', SERVER]);
    try {
      // Same services, the other HAProxy config: stop this one, start that one on 443/8448.
      await stack.stopService('haproxy');
      await stack.start('haproxy-path', { fromStackDir: pathDir, service: 'haproxy' });
      const pathGet = (url: string) => httpsRequest(network, pathDir, url);
      await waitFor('HAProxy (Atlas under a path) to route to Atlas', async () => {
        return (await pathGet(`https://${SERVER}/atlas/healthz`)).status === 200;
      });
      expect((await pathGet(`https://${SERVER}/atlas/healthz`)).json()).toEqual({ status: 'ok' });
      // The homeserver's own key is Synapse's; Atlas's is under /atlas/.
      const synapseKey = await pathGet(`https://${SERVER}/_matrix/key/v2/server`);
      expect(synapseKey.json<{ server_name: string }>().server_name).toBe(SERVER);
      const atlasKey = await pathGet(`https://${SERVER}/atlas/_matrix/key/v2/server`);
      expect(atlasKey.json<{ server_name: string }>().server_name).toBe(ATLAS);
      expect((await pathGet(`https://${SERVER}/atlas/metrics`)).status).toBe(404);
    } finally {
      await stack.stopService('haproxy-path');
      await rm(pathDir, { recursive: true, force: true });
    }
  });

  it('routes the admin API only with the admin UI profile, and only from the allowed addresses', async () => {
    const version = `https://${SERVER}/_synapse/admin/v1/server_version`;
    for (const [allow, expected] of [
      ['127.0.0.0/8', 200],
      ['192.0.2.0/24', 403],
    ] as const) {
      const { dir } = await renderStack([
        '--domain',
        SERVER,
        '--atlas-domain',
        ATLAS,
        '--admin-ui',
        '--admin-allow',
        allow,
      ]);
      try {
        await stack.stopService('haproxy');
        await stack.start('haproxy-admin', { fromStackDir: dir, service: 'haproxy' });
        const adminGet = (url: string) => httpsRequest(network, dir, url);
        await waitFor(
          'HAProxy with the admin UI',
          async () => (await adminGet(`https://${SERVER}/_matrix/client/versions`)).status === 200,
        );
        const answer = await adminGet(version);
        expect(answer.status, allow).toBe(expected);
        if (expected === 200)
          expect(answer.json<{ server_version: string }>().server_version).toMatch(/^\d+\.\d+/);
      } finally {
        await stack.stopService('haproxy-admin');
        await rm(dir, { recursive: true, force: true });
      }
    }
  });

  it('answers 429 to a client that sends too many requests', async () => {
    await stack.start('haproxy');
    await waitFor(
      'HAProxy',
      async () => (await get(`https://${SERVER}/_matrix/client/versions`)).status === 200,
    );
    // 700 requests from one address in one burst: more than the 600 per 10 s a client may send.
    const url = `https://${SERVER}/.well-known/matrix/server`;
    const burst = await network.exec(
      [
        'curl',
        '-sS',
        '--http2',
        '--cacert',
        path.join(stackDir, 'certs/fullchain.pem'),
        '--resolve',
        `${SERVER}:443:127.0.0.1`,
        '-w',
        '%{http_code}\\n',
        // curl applies one -o per URL.
        ...Array.from({ length: 700 }, () => ['-o', '/dev/null', url]).flat(),
      ],
      { timeoutMs: 60_000 },
    );
    const codes = burst.stdout.trim().split('\n');
    expect(codes).toHaveLength(700);
    expect(codes[0]).toBe('200');
    expect(codes).toContain('429');
  });

  it("installs a renewed certificate into the running HAProxy through the ACME service's hook", async () => {
    // What acme.sh leaves after a renewal: new PEM files in certs/; then it runs the hook.
    const ca = await createTestCa('Renewal Test CA');
    const renewed = await ca.issue([SERVER, ELEMENT, ATLAS]);
    await writeFile(path.join(stackDir, 'certs/fullchain.pem'), renewed.cert, { mode: 0o600 });
    await writeFile(path.join(stackDir, 'certs/privkey.pem'), renewed.key, { mode: 0o600 });
    const caFile = path.join(stackDir, 'renewal-ca.pem');
    await writeFile(caFile, ca.cert);
    const hook = await stack.run('acme', { command: ['sh', '/deploy/acme/renew.sh', 'install'] });
    expect(hook.code, hook.stdout).toBe(0);
    expect(hook.stdout).toContain('installed the new certificate into HAProxy');
    // The same HAProxy process now presents the new certificate (the rate limit window of the
    // test above may still be open: wait for it).
    await waitFor('the renewed certificate', async () => {
      const answer = await httpsRequest(network, stackDir, `https://${SERVER}/.well-known/matrix/server`, {
        caFile,
      });
      return answer.status === 200;
    });
    expect((await stat(path.join(stackDir, 'certs/haproxy.pem'))).mode & 0o777).toBe(0o600);
  });
});

/** A process and all its descendants (HAProxy's master and workers). */
async function processTree(root: number): Promise<number[]> {
  const parents = new Map<number, number>();
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '');
    // pid (comm) state ppid ...: comm may hold spaces, so read after the last ')'.
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    parents.set(Number(entry), ppid);
  }
  const tree = [root];
  for (let i = 0; i < tree.length; i++) {
    for (const [pid, ppid] of parents) if (ppid === tree[i] && !tree.includes(pid)) tree.push(pid);
  }
  return tree;
}

interface KeyAnswer {
  verify_keys: Record<string, { key: string }>;
}

async function loginAs(
  request: (url: string, options?: Parameters<typeof httpsRequest>[3]) => Promise<HttpAnswer>,
  user: string,
  password: string,
): Promise<string> {
  const login = await request(`https://${SERVER}/_matrix/client/v3/login`, {
    method: 'POST',
    body: JSON.stringify({ type: 'm.login.password', identifier: { type: 'm.id.user', user }, password }),
  });
  if (login.status !== 200) throw new Error(`login as ${user} failed: ${login.status} ${login.body}`);
  return login.json<{ access_token: string }>().access_token;
}

/** What a fresh clone of the repository has in deploy/: the compose file and the scripts. */
async function copyDeployFolder(target: string): Promise<void> {
  for (const file of [
    'compose.yaml',
    'restore.sh',
    'backup.sh',
    'adduser.sh',
    'lib/common.sh',
    'lib/hmac.sh',
    'postgres/init.sh',
    'coturn/entrypoint.sh',
    'acme/renew.sh',
    'meilisearch/entrypoint.sh',
  ]) {
    await mkdir(path.dirname(path.join(target, file)), { recursive: true });
    await copyFile(path.join(DEPLOY_DIR, file), path.join(target, file));
  }
}

/** The one-shot `migrate` service, as compose runs it before atlas-api and the crawlers. */
async function runMigrate(stack: TestStack) {
  const result = await stack.run('migrate');
  if (result.code !== 0) throw new Error(`migrate failed (${result.code}):\n${result.stdout}`);
}

async function waitForInit(stack: TestStack) {
  // The init service waits for PostgreSQL itself (up to a minute), as it does under compose.
  const result = await stack.run('init');
  if (result.code !== 0) throw new Error(`init failed:\n${result.stdout}\n${await stack.logs()}`);
  return result;
}
