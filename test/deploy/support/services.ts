import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type ComposeFile, environmentOf, mountsOf, service } from './compose-model.ts';
import { REPO_ROOT } from './render.ts';
import type { ContainerSpec, Mount, Network } from './sandbox.ts';

/**
 * How each compose service runs here, without its image: the same mounts, secrets, environment,
 * user and arguments that compose.yaml gives it, with the image's program replaced by the same
 * program installed on this machine (Debian's PostgreSQL, HAProxy, coturn and Redis, Synapse from
 * PyPI, Meilisearch from ../shared/bin (the version the image pins), Atlas from this repository).
 * What differs from compose is listed here and nowhere else:
 *  - Meilisearch's image starts it under tini; here it starts without (this machine has none);
 *  - PostgreSQL's socket folder is shared between "exec" invocations of the postgres service
 *    (in Docker they are the same container);
 *  - the test passes loopback listening addresses to coturn (coturn will not pick addresses
 *    itself when every address sits on the loopback interface);
 *  - Element Web's image is nginx serving Element's static files and the mounted config.json;
 *    here a static file server (Python's http.server) serves the same /app folder, which holds
 *    only the mounted config.json. It listens on the port the compose file gives it, which in the
 *    one shared network is Atlas's, so it runs only when the test gives it a network of its own;
 *  - the services in NOT_RUN_HERE are not started by the compose stand-in's `up`.
 */

/** Services whose image's program cannot run here, and why (the compose stand-in skips them). */
export const NOT_RUN_HERE: Record<string, string> = {
  element:
    'Element Web listens on 8080 like Atlas, which the shared test network cannot hold twice (given a network of its own, a static file server stands in for its nginx)',
  'synapse-admin': "the admin UI's image is nginx serving static files; no nginx here",
  acme: "acme.sh is not installed here, and Let's Encrypt cannot be reached (its install hook is tested)",
};

/** The signal `docker stop` sends: the image's STOPSIGNAL (PostgreSQL's is SIGINT, a fast shutdown). */
export function stopSignal(service: string): NodeJS.Signals {
  return service === 'postgres' ? 'SIGINT' : 'SIGTERM';
}

export interface StackContext {
  stackDir: string;
  model: ComposeFile;
  network: Network;
  /** Folders standing in for compose's named volumes. */
  volumes: Record<string, string>;
  synapseVenv: string;
  /** Meilisearch's program (from ../shared/bin), the image's `/bin/meilisearch`. */
  meilisearch: string;
}

export const SUPPORT_DIR = fileURLToPath(new URL('.', import.meta.url));

export const TEST_VOLUMES = [
  'postgres-data',
  'postgres-run',
  'synapse-data',
  'redis-data',
  'meili-data',
  'atlas-data',
  'atlas-media',
  'acme-state',
  'haproxy-run',
];

export interface SpecOptions {
  /** Replaces the service's own program (docker compose exec / run --entrypoint). */
  command?: string[];
  /** Label for the container, e.g. "synapse-backup". */
  label?: string;
}

const ATLAS_SERVICES = new Set(['migrate', 'atlas-api', 'crawler', 'element-config']);

export function serviceSpec(ctx: StackContext, name: string, options: SpecOptions = {}): ContainerSpec {
  const svc = service(ctx.model, name);
  const mounts: Mount[] = mountsOf(ctx.model, svc, ctx.stackDir, ctx.volumes);
  const env = environmentOf(svc);
  const args = svc.command ?? [];
  let command: string[];
  let user: string | undefined;
  const passwd: string[] = [];
  const group: string[] = [];

  if (name === 'postgres') {
    mounts.push({
      source: path.join(SUPPORT_DIR, 'postgres-image.sh'),
      target: '/docker-entrypoint.sh',
      readOnly: true,
    });
    command = ['sh', '/docker-entrypoint.sh'];
  } else if (name === 'synapse') {
    // The image's start.py runs `python -m synapse.app.homeserver <args after "run">` as UID:GID.
    if (args[0] !== 'run') throw new Error('the synapse service is expected to use the image\'s "run" mode');
    command = [path.join(ctx.synapseVenv, 'bin/python'), '-m', 'synapse.app.homeserver', ...args.slice(1)];
    // The venv stands in for the image's Python: mounted where it is, since a checkout under /tmp
    // would otherwise be hidden by the container's own /tmp.
    mounts.push({ source: ctx.synapseVenv, target: ctx.synapseVenv, readOnly: true });
    user = `${env.UID ?? '991'}:${env.GID ?? '991'}`;
  } else if (ATLAS_SERVICES.has(name)) {
    // The Atlas image: the repository at /app, the entrypoint from deploy/atlas.
    mounts.push({ source: REPO_ROOT, target: '/app', readOnly: true });
    command = ['/app/deploy/atlas/entrypoint.sh', ...args];
    env.NODE_ENV = 'production';
    passwd.push('node:x:1000:1000::/home/node:/bin/sh');
    group.push('node:x:1000:');
  } else if (name === 'meilisearch') {
    // The image's program, at the image's path: the same Meilisearch version, from ../shared/bin.
    mounts.push({ source: ctx.meilisearch, target: '/bin/meilisearch', readOnly: true });
    const entrypoint = svc.entrypoint ?? [];
    command = [...(entrypoint[0] === '/sbin/tini' ? entrypoint.slice(2) : entrypoint), ...args];
  } else if (name === 'element') {
    // The image's nginx serves /app on ELEMENT_WEB_PORT; a static file server does here.
    command = ['/usr/bin/python3', '-m', 'http.server', env.ELEMENT_WEB_PORT ?? '80', '--directory', '/app'];
    user = '65534:65534';
  } else if (name === 'haproxy') {
    command = ['haproxy', '-W', '-db', '-f', '/usr/local/etc/haproxy/haproxy.cfg'];
  } else if (svc.entrypoint) {
    command = [...svc.entrypoint, ...args];
  } else {
    command = args;
  }
  if (name === 'postgres') {
    mounts.push({ source: requireVolume(ctx, 'postgres-run'), target: '/var/run/postgresql' });
  }
  if (svc.user && svc.user !== 'root') user = svc.user;
  if (options.command) {
    // `docker compose exec` and `run --entrypoint` use the image's user: root for these images.
    command = options.command;
    user = undefined;
  }
  return {
    name: options.label ?? name,
    // The Atlas image's WORKDIR.
    cwd: ATLAS_SERVICES.has(name) ? '/app' : '/',
    network: ctx.network,
    mounts,
    tmpfs: svc.tmpfs ?? [],
    user,
    env,
    command,
    passwd,
    group,
  };
}

function requireVolume(ctx: StackContext, name: string): string {
  const dir = ctx.volumes[name];
  if (!dir) throw new Error(`no folder for volume ${name}`);
  return dir;
}
