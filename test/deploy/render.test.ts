import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { BlockList, isIP } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadConfig } from '@atlas/shared/config';
import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { meilisearchBinary } from '../support/meilisearch.ts';
import { environmentOf, loadCompose, mountsOf, readEnvFile, service } from './support/compose-model.ts';
import { DEPLOY_DIR, REPO_ROOT, renderStack, runScript } from './support/render.ts';
import { createNetwork, type Network, runContainer } from './support/sandbox.ts';

const require = createRequire(import.meta.url);

async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await filesUnder(full)));
    else out.push(full);
  }
  return out;
}

/** Every file of the stack with its content hash, mode, owner and mtime. */
async function snapshot(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const file of await filesUnder(dir)) {
    const info = await stat(file);
    const hash = createHash('sha256')
      .update(await readFile(file))
      .digest('hex');
    out[path.relative(dir, file)] =
      `${hash} ${info.mode.toString(8)} ${info.uid}:${info.gid} ${info.mtimeMs}`;
  }
  return out;
}

/** The secret values themselves (the password of the pgpass line, the seed of the signing key). */
async function secretValues(dir: string): Promise<Map<string, string>> {
  const values = new Map<string, string>();
  for (const file of await filesUnder(path.join(dir, 'secrets'))) {
    const text = (await readFile(file, 'utf8')).trim();
    const value = text.split(/[ :]/).at(-1) ?? '';
    values.set(path.basename(file), value);
  }
  return values;
}

describe('setup.sh renders the stack', () => {
  let stack: string;
  let pathStack: string;
  let network: Network;

  beforeAll(async () => {
    ({ dir: stack } = await renderStack([
      '--domain',
      'example.test',
      '--atlas-domain',
      'directory.example.test',
      '--email',
      'ops@example.test',
      '--admin-ui',
      '--public-ip',
      '203.0.113.7',
    ]));
    ({ dir: pathStack } = await renderStack(['--domain', 'small.test']));
    network = await createNetwork();
  });

  afterAll(async () => {
    await network?.close();
    for (const dir of [stack, pathStack]) if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('writes a compose file that the Compose Specification schema accepts', async () => {
    // dclint ships the Compose Specification's JSON schema (compose-spec/compose-spec,
    // schema/compose-spec.json); ajv checks the file as compose sees it, merge keys resolved.
    const schema = JSON.parse(
      await readFile(
        path.join(path.dirname(require.resolve('dclint/package.json')), 'schemas/compose.schema.json'),
        'utf8',
      ),
    ) as Record<string, unknown>;
    // The schema names the draft-07 meta-schema by its https address, which ajv knows by http.
    const ajv = new Ajv({ allErrors: true, strict: false, validateSchema: false });
    addFormats.default(ajv);
    const validate = ajv.compile(schema);
    for (const dir of [stack, pathStack]) {
      const { raw } = await loadCompose(dir);
      const valid = validate(raw);
      expect(validate.errors ?? [], JSON.stringify(validate.errors, null, 2)).toEqual([]);
      expect(valid).toBe(true);
    }
    // The schema is strict enough to catch a misspelt key.
    const { raw } = await loadCompose(stack);
    const broken = structuredClone(raw) as { services: Record<string, Record<string, unknown>> };
    const synapse = broken.services.synapse;
    if (synapse) synapse.helthcheck = { test: ['CMD', 'true'] };
    expect(validate(broken)).toBe(false);
  });

  it('exposes only HAProxy, pins every image, and lets the crawler scale', async () => {
    const { model } = await loadCompose(stack);
    const published = Object.entries(model.services)
      .filter(([, svc]) => (svc.ports ?? []).length > 0)
      .map(([name]) => name);
    expect(published).toEqual(['haproxy']);
    expect(service(model, 'haproxy').ports).toEqual(['80:80', '443:443', '8448:8448']);
    expect(service(model, 'coturn').network_mode).toBe('host');
    for (const [name, svc] of Object.entries(model.services)) {
      const image = svc.image ?? '';
      // A tag with a version number, never a moving one (atlas:local is built from this repo).
      expect(image, name).toMatch(/:(v?\d+\.\d+(\.\d+)?[-\w.]*|local)$/);
      expect(image, name).not.toMatch(/:latest$/);
    }
    const crawler = service(model, 'crawler') as Record<string, unknown>;
    expect(crawler.container_name).toBeUndefined();
    expect(crawler.ports).toBeUndefined();
    expect(crawler.command).toEqual(['crawler']);
    expect(service(model, 'atlas-api').command).toEqual(['api']);
    expect(service(model, 'migrate').command).toEqual(['migrate']);
    expect((service(model, 'migrate') as Record<string, unknown>).restart).toBe('no');
    expect(service(model, 'synapse-admin').profiles).toEqual(['admin']);
    expect(service(model, 'acme').profiles).toEqual(['acme']);
    for (const name of ['postgres', 'synapse', 'redis', 'meilisearch', 'atlas-api', 'haproxy']) {
      const svc = service(model, name) as Record<string, unknown>;
      expect(svc.healthcheck, name).toBeDefined();
      expect(svc.restart, name).toBe('unless-stopped');
    }
    const env = await readEnvFile(path.join(stack, '.env'));
    expect(env.COMPOSE_PROFILES).toBe('acme,admin');
    const pathEnv = await readEnvFile(path.join(pathStack, '.env'));
    expect(pathEnv.COMPOSE_PROFILES).toBe('');
  });

  it('runs the Meilisearch the tests use, in production mode, with its key from a secret file and a volume', async () => {
    const { model } = await loadCompose(stack);
    const meili = service(model, 'meilisearch');
    // The same version as the server the search tests run against.
    const version = spawnSync(meilisearchBinary(), ['--version'], { encoding: 'utf8' }).stdout.trim();
    expect(version).toMatch(/^meilisearch \d+\.\d+\.\d+$/);
    expect(meili.image).toBe(`getmeili/meilisearch:v${version.replace('meilisearch ', '')}`);
    expect(meili.entrypoint).toEqual(['/sbin/tini', '--', 'sh', '/deploy/meilisearch/entrypoint.sh']);
    expect(meili.command).toEqual(['--env', 'production']);
    expect(meili.secrets).toEqual(['meili_master_key']);
    const env = environmentOf(meili);
    expect(env.MEILI_MASTER_KEY).toBeUndefined();
    expect(env.MEILI_DB_PATH).toBe('/meili_data/data.ms');
    expect(mountsOf(model, meili, stack, { 'meili-data': '/volumes/meili' })).toEqual(
      expect.arrayContaining([
        { source: '/volumes/meili', target: '/meili_data', readOnly: false },
        {
          source: path.join(stack, 'meilisearch/entrypoint.sh'),
          target: '/deploy/meilisearch/entrypoint.sh',
          readOnly: true,
        },
      ]),
    );
    expect((meili as Record<string, unknown>).healthcheck).toMatchObject({
      test: ['CMD', 'curl', '-fsS', 'http://localhost:7700/health'],
    });
    // Atlas reaches it on the internal network with the same key, and starts without it.
    for (const role of ['atlas-api', 'crawler']) {
      const atlas = service(model, role);
      expect(environmentOf(atlas)).toMatchObject({
        MEILI_URL: 'http://meilisearch:7700',
        MEILI_KEY_FILE: '/run/secrets/meili_master_key',
      });
      expect(atlas.secrets).toContain('meili_master_key');
      expect((atlas as { depends_on?: Record<string, unknown> }).depends_on?.meilisearch).toEqual({
        condition: 'service_started',
      });
    }
    expect(meili.networks).toEqual(['backend']);
  });

  it("has Atlas trust HAProxy's X-Forwarded-For from any network Docker makes, and from no public address", async () => {
    const { model } = await loadCompose(stack);
    const value = environmentOf(service(model, 'atlas-api')).ATLAS_TRUSTED_PROXIES ?? '';
    // Parsed as `atlas api` parses it at boot, IPv6 ranges included.
    const ranges = loadConfig({ ATLAS_TRUSTED_PROXIES: value }).api.trustedProxies;
    expect(ranges.length).toBeGreaterThan(0);
    const trusted = new BlockList();
    for (const range of ranges) {
      const [address = '', bits] = range.split('/');
      trusted.addSubnet(address, Number(bits), isIP(address) === 6 ? 'ipv6' : 'ipv4');
    }
    const isTrusted = (address: string) => trusted.check(address, isIP(address) === 6 ? 'ipv6' : 'ipv4');
    // The first and last address of each of Docker's default pools (172.17.0.0/16 to 172.31.0.0/16,
    // then 192.168.0.0/16 in /20s), of 10.0.0.0/8 (pools some daemons are given), and of the unique
    // local range Docker takes IPv6 subnets from.
    const pools = [
      ...Array.from({ length: 15 }, (_, i) => [`172.${17 + i}.0.1`, `172.${17 + i}.255.254`]),
      ...Array.from({ length: 16 }, (_, i) => [`192.168.${16 * i}.1`, `192.168.${16 * i + 15}.254`]),
      ['10.0.0.1', '10.255.255.254'],
      ['fd00::1', 'fdff:ffff:ffff:ffff:ffff:ffff:ffff:fffe'],
    ].flat();
    for (const address of pools) expect(isTrusted(address), address).toBe(true);
    // A client on the internet is never a proxy: its own X-Forwarded-For is never read.
    for (const address of ['203.0.113.7', '8.8.8.8', '100.64.0.1', '2001:db8::7', '2606:4700::1111'])
      expect(isTrusted(address), address).toBe(false);
  });

  it('renders a HAProxy config that haproxy -c accepts, at the paths compose mounts', async () => {
    const { model } = await loadCompose(stack);
    for (const dir of [stack, pathStack]) {
      const haproxy = service(model, 'haproxy');
      const result = await runContainer({
        name: 'haproxy-check',
        network,
        mounts: mountsOf(model, haproxy, dir, { 'haproxy-run': path.join(dir, 'certs') }),
        env: {},
        command: ['haproxy', '-c', '-f', '/usr/local/etc/haproxy/haproxy.cfg'],
      });
      expect(result.stdout).toContain('Configuration file is valid');
      expect(result.code).toBe(0);
    }
  });

  it('puts every secret in its own 0600 file and in no other file', async () => {
    const { model } = await loadCompose(stack);
    const declared = Object.keys(model.secrets ?? {}).sort();
    const secretsDir = path.join(stack, 'secrets');
    expect((await readdir(secretsDir)).sort()).toEqual(declared);
    expect((await stat(secretsDir)).mode & 0o777).toBe(0o700);
    for (const name of declared) {
      const info = await stat(path.join(secretsDir, name));
      expect((info.mode & 0o777).toString(8), name).toBe('600');
      expect(info.size, name).toBeGreaterThan(20);
    }
    // Synapse reads its secrets as UID 991 (the image switches to it before starting Synapse).
    expect((await stat(path.join(secretsDir, 'synapse_signing_key'))).uid).toBe(991);
    expect((await stat(path.join(secretsDir, 'postgres_password'))).uid).toBe(0);
    for (const name of ['haproxy.pem', 'privkey.pem']) {
      expect(((await stat(path.join(stack, 'certs', name))).mode & 0o777).toString(8)).toBe('600');
    }

    const values = await secretValues(stack);
    const privateKey = (await readFile(path.join(stack, 'certs/privkey.pem'), 'utf8')).split('\n')[1] ?? '';
    const rendered = (await filesUnder(stack)).filter(
      (file) => !file.startsWith(`${secretsDir}/`) && !file.startsWith(path.join(stack, 'certs/')),
    );
    expect(rendered.length).toBeGreaterThan(20);
    for (const file of rendered) {
      const text = await readFile(file, 'utf8');
      for (const [name, value] of values) {
        expect(value.length, name).toBeGreaterThan(20);
        expect(text.includes(value), `${name} appears in ${path.relative(stack, file)}`).toBe(false);
      }
      expect(text.includes(privateKey), `the TLS key appears in ${file}`).toBe(false);
    }
    // The signing key is Synapse's format: algorithm, key id, unpadded base64 of a 32-byte seed.
    const signingKey = await readFile(path.join(secretsDir, 'synapse_signing_key'), 'utf8');
    expect(signingKey).toMatch(/^ed25519 a_[A-Za-z0-9]{4} [A-Za-z0-9+/]{43}\n$/);
  });

  it('serves the well-knowns from the setup answers and wires TURN, rooms and registration', async () => {
    const wellKnown = (name: string) =>
      readFile(path.join(stack, 'config/haproxy/well-known', `${name}.json`), 'utf8').then(
        (text) => JSON.parse(text) as unknown,
      );
    expect(await wellKnown('server')).toEqual({ 'm.server': 'example.test:443' });
    expect(await wellKnown('client')).toEqual({ 'm.homeserver': { base_url: 'https://example.test' } });
    expect(await wellKnown('support')).toEqual({
      contacts: [
        { matrix_id: '@admin:example.test', email_address: 'ops@example.test', role: 'm.role.admin' },
      ],
    });
    const confd = path.join(stack, 'config/synapse/conf.d');
    const conf = async (file: string) => readFile(path.join(confd, file), 'utf8');
    expect(await conf('40-rooms.yaml')).toMatch(
      /limit_remote_rooms:\n {2}enabled: true\n {2}complexity: 1\.0/,
    );
    expect(await conf('40-rooms.yaml')).toContain('allow_public_rooms_over_federation: true');
    expect(await conf('60-turn.yaml')).toContain('turns:example.test:5349?transport=tcp');
    expect(await conf('50-registration.yaml')).toContain('enable_registration: false');
    const turn = await readFile(path.join(stack, 'config/coturn/turnserver.conf'), 'utf8');
    expect(turn).toContain('external-ip=203.0.113.7');
    expect(turn).toContain('denied-peer-ip=10.0.0.0-10.255.255.255');
    expect(turn).toContain('no-multicast-peers');
    const element = JSON.parse(await readFile(path.join(stack, 'config/element/config.json'), 'utf8')) as {
      default_server_config: { 'm.homeserver': { base_url: string } };
    };
    expect(element.default_server_config['m.homeserver'].base_url).toBe('https://example.test');
    const haproxy = await readFile(path.join(stack, 'config/haproxy/haproxy.cfg'), 'utf8');
    expect(haproxy).toContain('acl host_atlas var(txn.host) -m str directory.example.test');
    expect(haproxy).toContain('use_backend admin_ui if host_admin');
    const small = await readFile(path.join(pathStack, 'config/haproxy/haproxy.cfg'), 'utf8');
    expect(small).toContain('regsub(^/atlas/?,/)');
    expect(small).toContain('http-request deny deny_status 404 if synapse_admin_api');
  });

  it('changes nothing and keeps the secrets when run again', async () => {
    const before = await snapshot(stack);
    const again = await runScript(path.join(DEPLOY_DIR, 'setup.sh'), ['--no-start', '--dir', stack]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toContain('nothing to change');
    expect(await snapshot(stack)).toEqual(before);
    const same = await runScript(path.join(DEPLOY_DIR, 'setup.sh'), [
      '--domain',
      'example.test',
      '--no-start',
      '--dir',
      stack,
    ]);
    expect(same.code, same.stderr).toBe(0);
    expect(await snapshot(stack)).toEqual(before);
  });

  it('keeps the settings added to .env by hand when run again', async () => {
    const envFile = path.join(pathStack, '.env');
    const added = ['ATLAS_TRUSTED_PROXIES=10.99.0.0/16', 'ATLAS_MEDIA_CACHE_MB=256', 'ATLAS_LOG_LEVEL=debug'];
    await writeFile(envFile, `${await readFile(envFile, 'utf8')}${added.join('\n')}\n`);
    const again = await runScript(path.join(DEPLOY_DIR, 'setup.sh'), ['--no-start', '--dir', pathStack]);
    expect(again.code, again.stderr).toBe(0);
    const env = await readFile(envFile, 'utf8');
    for (const line of added) expect(env.split('\n')).toContain(line);
    // Once each, and what setup.sh writes itself is still there.
    expect(env.match(/^ATLAS_TRUSTED_PROXIES=/gm)).toHaveLength(1);
    expect(env).toMatch(/^SERVER_NAME=small\.test$/m);
    // Compose hands the kept values to Atlas.
    const { model } = await loadCompose(pathStack);
    expect(environmentOf(service(model, 'atlas-api')).ATLAS_TRUSTED_PROXIES).toBe('10.99.0.0/16');
    const after = await snapshot(pathStack);
    const third = await runScript(path.join(DEPLOY_DIR, 'setup.sh'), ['--no-start', '--dir', pathStack]);
    expect(third.code, third.stderr).toBe(0);
    expect(third.stderr).toContain('nothing to change');
    expect(await snapshot(pathStack)).toEqual(after);
  });

  it('refuses to change server_name, and explains why', async () => {
    const result = await runScript(path.join(DEPLOY_DIR, 'setup.sh'), [
      '--domain',
      'other.test',
      '--no-start',
      '--dir',
      stack,
    ]);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('server_name is permanent');
    const bad = await runScript(path.join(DEPLOY_DIR, 'setup.sh'), [
      '--domain',
      'not a domain',
      '--no-start',
      '--dir',
      pathStack,
    ]);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain('is not a DNS name');
  });

  it('has a doctor that checks DNS, ports and the machine, and warns that server_name is permanent', async () => {
    // In the test network: no DNS server answers there, like a domain whose records are missing.
    const doctor = await network.exec(['sh', path.join(stack, 'doctor.sh')], { timeoutMs: 60_000 });
    const report = doctor.stdout;
    expect(doctor.code).toBe(1);
    expect(report).toContain('FAIL  example.test has no A record: point it at this machine');
    expect(report).toContain('element.example.test has no A record');
    expect(report).toContain('directory.example.test has no A record');
    expect(report).toMatch(/tcp 443 is free/);
    expect(report).toContain('udp 3478, 5349 and 49152-50151 (TURN relays)');
    expect(report).toMatch(/memory: \d+ MiB/);
    expect(report).toContain('server_name is example.test, and it is PERMANENT');
    expect(report).toMatch(/doctor: \d+ problem\(s\) found/);
  });

  it.each([
    [
      'Debian 12',
      'NAME="Debian GNU/Linux"\nVERSION_ID="12"\nVERSION_CODENAME=bookworm\nID=debian\n',
      "FAIL  docker compose (v2) is missing: Debian's docker.io has no Compose v2: install docker-ce and docker-compose-plugin from Docker's apt repository, as deploy/README.md step 1 shows",
    ],
    [
      'Ubuntu 24.04',
      'NAME="Ubuntu"\nVERSION_ID="24.04"\nVERSION_CODENAME=noble\nID=ubuntu\nID_LIKE=debian\n',
      "FAIL  docker compose (v2) is missing: apt-get install docker-compose-v2 (Ubuntu's package of Compose v2)",
    ],
  ])('has a doctor that names the Compose v2 package of %s', async (_system, osRelease, expected) => {
    // Distribution's docker without Compose v2: `docker compose` is an unknown command.
    const bin = await mkdtemp(path.join(tmpdir(), 'atlas-doctor-bin-'));
    try {
      await writeFile(path.join(bin, 'os-release'), osRelease);
      await writeFile(
        path.join(bin, 'docker'),
        '#!/bin/sh\necho "docker: \'$1\' is not a docker command." >&2\nexit 1\n',
        { mode: 0o755 },
      );
      await writeFile(path.join(bin, 'dpkg-query'), '#!/bin/sh\nexit 1\n', { mode: 0o755 });
      const doctor = await network.exec(['sh', path.join(stack, 'doctor.sh')], {
        timeoutMs: 60_000,
        env: {
          PATH: `${bin}:${process.env.PATH ?? '/usr/bin:/bin'}`,
          ATLAS_OS_RELEASE: path.join(bin, 'os-release'),
        },
      });
      expect(doctor.stdout).toContain(expected);
    } finally {
      await rm(bin, { recursive: true, force: true });
    }
  });

  it("builds Atlas's image from files that exist, with an entrypoint that runs every compose role", async () => {
    // No image can be built here; check what the build depends on instead.
    const dockerfile = await readFile(path.join(DEPLOY_DIR, 'atlas/Dockerfile'), 'utf8');
    const copies = [...dockerfile.matchAll(/^COPY (?!--from)(.+) (\S+)$/gm)].flatMap((match) =>
      (match[1] ?? '').split(' '),
    );
    expect(copies.length).toBeGreaterThan(5);
    for (const source of copies) expect(existsSync(path.join(REPO_ROOT, source)), source).toBe(true);
    expect(dockerfile).toContain('ENTRYPOINT ["/app/deploy/atlas/entrypoint.sh"]');
    // The roles run as the node user, which cannot write the compiled CLI's cache: built at build time.
    expect(dockerfile).toMatch(/^RUN node apps\/cli\/bin\/atlas\.mjs --help/m);
    expect((await stat(path.join(DEPLOY_DIR, 'atlas/entrypoint.sh'))).mode & 0o111).toBe(0o111);
    const help = spawnSync(process.execPath, [path.join(REPO_ROOT, 'apps/cli/bin/atlas.mjs'), '--help'], {
      encoding: 'utf8',
    });
    const { model } = await loadCompose(stack);
    for (const role of ['migrate', 'atlas-api', 'crawler']) {
      const command = service(model, role).command?.[0] ?? '';
      expect(help.stdout, `atlas ${command}`).toMatch(new RegExp(`^\\s+${command}\\s`, 'm'));
    }
  });

  it('ships shell scripts that shellcheck finds clean', () => {
    const probe = spawnSync('shellcheck', ['--version']);
    if (probe.error || probe.status !== 0) {
      throw new Error(
        'shellcheck is not installed; run scripts/install-system-deps.sh (apt-get install shellcheck)',
      );
    }
    const scripts = [
      'setup.sh',
      'adduser.sh',
      'backup.sh',
      'restore.sh',
      'upgrade.sh',
      'doctor.sh',
      'lib/common.sh',
      'lib/hmac.sh',
      'postgres/init.sh',
      'coturn/entrypoint.sh',
      'acme/renew.sh',
      'atlas/entrypoint.sh',
      'meilisearch/entrypoint.sh',
    ];
    const result = spawnSync('shellcheck', ['-x', '-P', 'SCRIPTDIR', '-s', 'sh', ...scripts], {
      cwd: DEPLOY_DIR,
      encoding: 'utf8',
    });
    expect(result.stdout).toBe('');
    expect(result.status).toBe(0);
  });
});
