import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { open, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { freePort } from '../../support/ports.ts';
import type { IssuedCertificate } from '../../support/test-ca.ts';
import { rawRequest } from './https-request.ts';
import { relaxedRateLimits } from './rate-limits.ts';
import { type SynapseVenv, venvEnv } from './venv.ts';

const run = promisify(execFile);

const HOST = '127.0.0.1';
const START_TIMEOUT_MS = 90_000;
const STOP_TIMEOUT_MS = 10_000;

/** Synapse's DEFAULT_IP_RANGE_BLOCKLIST (synapse/config/server.py, 1.163) without 127.0.0.0/8 and ::1. */
const BLOCKLIST_WITHOUT_LOOPBACK = [
  '10.0.0.0/8',
  '172.16.0.0/12',
  '192.168.0.0/16',
  '100.64.0.0/10',
  '192.0.0.0/24',
  '169.254.0.0/16',
  '192.88.99.0/24',
  '198.18.0.0/15',
  '192.0.2.0/24',
  '198.51.100.0/24',
  '203.0.113.0/24',
  '224.0.0.0/4',
  'fe80::/10',
  'fc00::/7',
  '2001:db8::/32',
  'ff00::/8',
  'fec0::/10',
];

/** How one homeserver of the test federation behaves. */
export interface SynapseRole {
  /** Short name in messages and folder names: "A", "B"... */
  label: string;
  /** `allow_public_rooms_over_federation`: the directory answers signed federation requests. */
  publishOverFederation: boolean;
  /** Anyone may register (`POST /register {}` answers 401 with flows), else registration is off (403). */
  openRegistration: boolean;
  /** `allow_public_rooms_without_auth`: the client API's directory answers without a token. */
  publicRoomsWithoutAuth?: boolean;
  /** More top-level settings, merged last. */
  config?: Record<string, unknown>;
}

export interface SynapseInstanceOptions extends SynapseRole {
  venv: SynapseVenv;
  /** Folder of the instance (config, database, logs); created by the caller. */
  dir: string;
  /** PEM file of the CA that every party trusts (`federation_custom_ca_list`). */
  caFile: string;
  caCert: string;
  /** Issues the instance's TLS certificate for its federation listener. */
  issueCertificate: (names: string[]) => Promise<IssuedCertificate>;
}

export interface SynapseInstance {
  label: string;
  /** `127.0.0.1:<federation port>`: an IP literal with an explicit port needs no DNS, no well-known, no SRV. */
  serverName: string;
  /**
   * `https://127.0.0.1:<port>`: federation, keys, the client API and `/.well-known/matrix/client`
   * over TLS, with a certificate from the test CA. `public_baseurl` points here.
   */
  federationUrl: string;
  /** `http://127.0.0.1:<port>`: the client API without TLS, as a reverse proxy would reach it. */
  clientUrl: string;
  registrationSharedSecret: string;
  role: SynapseRole;
  dir: string;
  /** Synapse's own log, and the process's stdout/stderr. */
  logFiles: string[];
  /** The last `lines` lines of each log file. */
  logTail(lines?: number): Promise<string>;
  /** SIGTERM, then SIGKILL after 10 s; resolves once the process is gone. */
  stop(): Promise<void>;
}

/** The overrides Atlas's tests need, merged over the generated `homeserver.yaml` (Synapse merges top-level keys of every `-c` file in order). */
function overrides(
  options: SynapseInstanceOptions,
  ports: { federation: number; client: number },
  files: { cert: string; key: string; logConfig: string },
  secret: string,
): Record<string, unknown> {
  return {
    public_baseurl: `https://${HOST}:${ports.federation}/`,
    listeners: [
      {
        port: ports.federation,
        bind_addresses: [HOST],
        type: 'http',
        tls: true,
        x_forwarded: false,
        resources: [{ names: ['client', 'federation'], compress: false }],
      },
      {
        port: ports.client,
        bind_addresses: [HOST],
        type: 'http',
        tls: false,
        x_forwarded: false,
        resources: [{ names: ['client'], compress: false }],
      },
    ],
    tls_certificate_path: files.cert,
    tls_private_key_path: files.key,
    federation_verify_certificates: true,
    federation_custom_ca_list: [options.caFile],
    // Keys come from each server itself, never from matrix.org.
    trusted_key_servers: [],
    suppress_key_server_warning: true,
    // The whole test federation lives on loopback, which Synapse's outbound blocklist covers.
    // ip_range_whitelist is not enough for server names that are IP literals: Synapse wraps its
    // federation agent in a BlocklistingAgentWrapper built without the allowlist
    // (synapse/http/matrixfederationclient.py), so `127.0.0.1:port` stays blocked ("IP address
    // blocked") unless loopback leaves the blocklist itself.
    ip_range_blacklist: BLOCKLIST_WITHOUT_LOOPBACK,
    ip_range_whitelist: ['127.0.0.0/8', '::1/128'],
    registration_shared_secret: secret,
    report_stats: false,
    enable_registration: options.openRegistration,
    enable_registration_without_verification: options.openRegistration,
    allow_public_rooms_over_federation: options.publishOverFederation,
    allow_public_rooms_without_auth: options.publicRoomsWithoutAuth ?? false,
    // Since Synapse 1.126 an absent or empty list denies every publication (PROTOCOL-NOTES).
    room_list_publication_rules: [{ action: 'allow' }],
    alias_creation_rules: [{ action: 'allow' }],
    presence: { enabled: false },
    enable_metrics: false,
    url_preview_enabled: false,
    log_config: files.logConfig,
    ...relaxedRateLimits(),
    ...options.config,
  };
}

/** Python logging straight to a file, unbuffered, so a failing test can print the tail. */
function logConfig(logFile: string): Record<string, unknown> {
  return {
    version: 1,
    formatters: {
      precise: { format: '%(asctime)s - %(name)s - %(lineno)d - %(levelname)s - %(request)s - %(message)s' },
    },
    handlers: {
      file: { class: 'logging.FileHandler', formatter: 'precise', filename: logFile, encoding: 'utf8' },
    },
    loggers: { 'synapse.storage.SQL': { level: 'INFO' }, twisted: { level: 'WARNING' } },
    root: { level: 'INFO', handlers: ['file'] },
    disable_existing_loggers: false,
  };
}

/** The last `lines` lines of a text file, or a note that it does not exist yet. */
export async function tailOf(file: string, lines: number): Promise<string> {
  try {
    const text = await readFile(file, 'utf8');
    return text
      .split('\n')
      .slice(-lines - 1)
      .join('\n');
  } catch {
    return '(no log yet)';
  }
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

async function isReady(clientUrl: string, federationUrl: string, caCert: string): Promise<boolean> {
  const health = await rawRequest({ origin: clientUrl, path: '/health', timeoutMs: 2_000 });
  if (health.status !== 200) return false;
  // Through TLS with the test CA: proves the certificate and the federation resource are up.
  const version = await rawRequest({
    origin: federationUrl,
    path: '/_matrix/federation/v1/version',
    ca: caCert,
    timeoutMs: 2_000,
  });
  return version.status === 200;
}

/**
 * Generates a config with Synapse's own `--generate-config`, adds Atlas's overrides in a second
 * config file, starts the homeserver and waits until both listeners answer.
 */
export async function startSynapseInstance(options: SynapseInstanceOptions): Promise<SynapseInstance> {
  const { venv, dir, label } = options;
  const env = venvEnv(venv.dir);
  const ports = { federation: await freePort(HOST), client: await freePort(HOST) };
  const serverName = `${HOST}:${ports.federation}`;
  const federationUrl = `https://${serverName}`;
  const clientUrl = `http://${HOST}:${ports.client}`;
  const configFile = path.join(dir, 'homeserver.yaml');
  const overridesFile = path.join(dir, 'atlas-overrides.yaml');
  const logFile = path.join(dir, 'homeserver.log');
  const consoleFile = path.join(dir, 'console.log');
  const files = {
    cert: path.join(dir, 'tls.crt'),
    key: path.join(dir, 'tls.key'),
    logConfig: path.join(dir, 'log.config.yaml'),
  };

  try {
    await run(
      venv.python,
      [
        '-m',
        'synapse.app.homeserver',
        '--server-name',
        serverName,
        '--config-path',
        configFile,
        '--generate-config',
        '--report-stats=no',
        '--data-directory',
        path.join(dir, 'data'),
        '--config-directory',
        dir,
      ],
      { cwd: dir, env, timeout: 120_000 },
    );
  } catch (error) {
    const detail = error as { stderr?: string; message: string };
    throw new Error(
      `Synapse ${label}: --generate-config failed: ${detail.stderr || detail.message}; ` +
        'run: sh scripts/install-synapse.sh',
    );
  }

  const certificate = await options.issueCertificate([HOST]);
  const secret = randomBytes(24).toString('hex');
  // JSON is YAML, so the overrides and the log config need no YAML writer.
  await Promise.all([
    writeFile(files.cert, certificate.cert),
    writeFile(files.key, certificate.key, { mode: 0o600 }),
    writeFile(files.logConfig, JSON.stringify(logConfig(logFile), null, 2)),
    writeFile(overridesFile, JSON.stringify(overrides(options, ports, files, secret), null, 2)),
  ]);

  const consoleLog = await open(consoleFile, 'a');
  const child = spawn(venv.python, ['-m', 'synapse.app.homeserver', '-c', configFile, '-c', overridesFile], {
    cwd: dir,
    env,
    stdio: ['ignore', consoleLog.fd, consoleLog.fd],
  });
  await consoleLog.close();
  // A test process that dies without running afterAll must not leave homeservers behind.
  const killOnExit = (): void => {
    child.kill('SIGKILL');
  };
  process.once('exit', killOnExit);
  let exitNote = '';
  child.once('exit', (code, signal) => {
    exitNote = `exited with ${signal ?? `code ${code}`}`;
    process.removeListener('exit', killOnExit);
  });

  const logFiles = [logFile, consoleFile];
  const logTail = async (lines = 40): Promise<string> => {
    const parts = await Promise.all(
      logFiles.map(
        async (file) => `--- ${label} ${path.basename(file)} (${file}) ---\n${await tailOf(file, lines)}`,
      ),
    );
    return parts.join('\n');
  };
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const killed = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
    await exited(child);
    clearTimeout(killed);
  };

  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    if (exitNote) {
      throw new Error(`Synapse ${label} (${serverName}) ${exitNote} during startup\n${await logTail(60)}`);
    }
    if (await isReady(clientUrl, federationUrl, options.caCert).catch(() => false)) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(
        `Synapse ${label} (${serverName}) did not answer within ${START_TIMEOUT_MS / 1000} s\n${await logTail(60)}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }

  return {
    label,
    serverName,
    federationUrl,
    clientUrl,
    registrationSharedSecret: secret,
    role: {
      label,
      publishOverFederation: options.publishOverFederation,
      openRegistration: options.openRegistration,
      publicRoomsWithoutAuth: options.publicRoomsWithoutAuth ?? false,
      ...(options.config ? { config: options.config } : {}),
    },
    dir,
    logFiles,
    logTail,
    stop,
  };
}
