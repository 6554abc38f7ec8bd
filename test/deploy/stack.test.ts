import type { ChildProcess } from 'node:child_process';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../support/ports.ts';
import { type HttpAnswer, httpsRequest } from './support/https.ts';
import { REPO_ROOT, renderStack } from './support/render.ts';
import { createNetwork, type Network } from './support/sandbox.ts';
import { createStack, startDns, synapseVenv, type TestStack } from './support/stack.ts';

const SERVER = 'example.test';
const ATLAS = 'directory.example.test';
const ELEMENT = `element.${SERVER}`;

/** The Atlas command for a compose role, while the CLI does not have every role yet. */
function atlasCommandFor(role: string): string[] | undefined {
  const help = spawnSync(process.execPath, [path.join(REPO_ROOT, 'apps/crawler/bin/atlas.mjs'), '--help'], {
    encoding: 'utf8',
  });
  // `atlas start` serves the same HTTP app as `atlas api` (plus the crawler): used until the CLI
  // lists `api`. Remove this once it does.
  return new RegExp(`^\\s+${role}\\b`, 'm').test(help.stdout)
    ? undefined
    : ['/app/deploy/atlas/entrypoint.sh', 'start'];
}

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
    dns = await startDns(network);

    await stack.start('postgres');
    const init = await waitForInit(stack);
    expect(init.stdout).toContain('databases synapse and atlas are ready');

    await stack.start('redis');
    await stack.start('synapse');
    await stack.start('atlas-api', { command: atlasCommandFor('api') });
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

  it('sends the bare domain to Element and refuses unknown hosts', async () => {
    const root = await get(`https://${SERVER}/`);
    expect(root.status).toBe(302);
    expect(root.headers.location).toBe(`https://${ELEMENT}/`);
    const unknown = await get(`https://${SERVER}:8448/index.html`);
    expect(unknown.status).toBe(404);
  });
});

async function waitForInit(stack: TestStack) {
  // The init service waits for PostgreSQL itself (up to a minute), as it does under compose.
  const result = await stack.run('init');
  if (result.code !== 0) throw new Error(`init failed:\n${result.stdout}\n${await stack.logs()}`);
  return result;
}
