import { spawn, spawnSync } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { REPO_ROOT, type RunningAtlas } from './atlas-process.ts';
import { waitFor } from './ports.ts';

// The deploy stack's HAProxy config, run by a real HAProxy in front of real Atlas processes: tests
// take its sections as they are and change only what must differ on one machine (ports, paths,
// the DNS server), each change through replaceOnce, so a template that moves on fails loudly.

export const HAPROXY_TEMPLATE = path.join(REPO_ROOT, 'deploy/templates/haproxy/haproxy.cfg.tmpl');

/** The template as it is, for the sections that hold no placeholder. */
export function readHaproxyTemplate(): Promise<string> {
  return readFile(HAPROXY_TEMPLATE, 'utf8');
}

/** The template as setup.sh renders it (deploy/lib/render.awk): `@@NAME@@` and `#@if NAME` from `values`. */
export function renderHaproxyConfig(values: Record<string, string>): string {
  const result = spawnSync('awk', ['-f', path.join(REPO_ROOT, 'deploy/lib/render.awk'), HAPROXY_TEMPLATE], {
    encoding: 'utf8',
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      ...Object.fromEntries(Object.entries(values).map(([name, value]) => [`R_${name}`, value])),
    },
  });
  if (result.status !== 0) throw new Error(`render.awk failed: ${result.stderr}`);
  return result.stdout;
}

/** A section of a config: its header line and every line under it up to the next section. */
export function templateSection(config: string, header: string): string {
  const lines = config.split('\n');
  const start = lines.indexOf(header);
  if (start < 0) throw new Error(`the HAProxy template has no "${header}" section`);
  const end = lines.findIndex((line, i) => i > start && /^[a-z]/.test(line));
  return lines.slice(start, end < 0 ? undefined : end).join('\n');
}

export function replaceOnce(text: string, from: string, to: string): string {
  if (!text.includes(from)) throw new Error(`the HAProxy template no longer says "${from}"`);
  return text.replace(from, to);
}

/** The template's `resolvers docker`, asking the test's DNS server (`host:port`) instead of resolv.conf's. */
export function resolversAsking(config: string, dnsAddress: string): string {
  return replaceOnce(
    templateSection(config, 'resolvers docker'),
    'parse-resolv-conf',
    `nameserver test ${dnsAddress}`,
  );
}

/** The template's `backend atlas`, with the port the test's replicas listen on. */
export function atlasBackendOn(config: string, apiPort: number): string {
  return replaceOnce(templateSection(config, 'backend atlas'), 'atlas-api:8080', `atlas-api:${apiPort}`);
}

/** Debian's haproxy in the foreground with this config (written into `dir`), logging to its stdout. */
export async function startHaproxy(dir: string, config: string): Promise<RunningAtlas> {
  const probe = spawnSync('haproxy', ['-v'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) {
    throw new Error('haproxy is not installed; run scripts/install-system-deps.sh (apt-get install haproxy)');
  }
  const configFile = path.join(dir, 'haproxy.cfg');
  await writeFile(configFile, config);
  const child = spawn('haproxy', ['-db', '-f', configFile], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const append = (chunk: Buffer) => {
    output += chunk.toString('utf8');
  };
  child.stdout.on('data', append);
  child.stderr.on('data', append);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return { child, output: () => output, exited };
}

/**
 * Polls `check` (every 200 ms, for up to two minutes) until it holds; when HAProxy exits first, or
 * the time runs out, the error carries what HAProxy said.
 */
export async function untilHaproxy(
  proxy: RunningAtlas,
  what: string,
  check: () => Promise<boolean>,
): Promise<void> {
  await waitFor(
    what,
    async () => {
      if (proxy.child.exitCode !== null) throw new Error('haproxy exited');
      return check();
    },
    120_000,
    200,
  ).catch((error: unknown) => {
    throw new Error(`${String(error)}\nHAProxy said:\n${proxy.output()}`);
  });
}
