import { execFile } from 'node:child_process';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const lib = fileURLToPath(new URL('./common.sh', import.meta.url));

/** /etc/os-release as each system ships it (the lines that matter). */
const OS_RELEASES = {
  debian12:
    'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nVERSION_ID="12"\nVERSION_CODENAME=bookworm\nID=debian\n',
  ubuntu2404:
    'PRETTY_NAME="Ubuntu 24.04.1 LTS"\nNAME="Ubuntu"\nVERSION_ID="24.04"\nVERSION_CODENAME=noble\nID=ubuntu\nID_LIKE=debian\n',
  fedora: 'NAME="Fedora Linux"\nVERSION_ID=40\nID=fedora\n',
} as const;

let dir: string;
/** A dpkg-query that knows docker-ce as installed (Docker's packages) and one that knows nothing. */
let withDockerCe: string;
let withoutDockerCe: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'atlas-docker-hint-'));
  for (const [name, text] of Object.entries(OS_RELEASES)) await writeFile(path.join(dir, name), text);
  withDockerCe = path.join(dir, 'ce-bin');
  withoutDockerCe = path.join(dir, 'plain-bin');
  for (const [bin, status] of [
    [withDockerCe, 'install ok installed'],
    [withoutDockerCe, ''],
  ] as const) {
    await execFileText('mkdir', ['-p', bin]);
    const script = path.join(bin, 'dpkg-query');
    await writeFile(
      script,
      status
        ? `#!/bin/sh\nprintf '%s' '${status}'\n`
        : `#!/bin/sh\necho "dpkg-query: no packages found matching docker-ce" >&2\nexit 1\n`,
    );
    await chmod(script, 0o755);
  }
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function execFileText(file: string, args: string[], env?: Record<string, string>): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { env, encoding: 'utf8' }, (error, stdout) =>
      error ? reject(error) : resolve(stdout),
    );
  });
}

function hint(what: 'docker' | 'compose', system: keyof typeof OS_RELEASES, bin: string): Promise<string> {
  return execFileText('sh', ['-c', `. "${lib}"; docker_hint ${what}`], {
    PATH: `${bin}:/usr/bin:/bin`,
    ATLAS_OS_RELEASE: path.join(dir, system),
  }).then((text) => text.trim());
}

describe('docker_hint names what to install on the system it runs on', () => {
  it("on Debian 12: Docker's repository, since Debian's docker.io has no Compose v2", async () => {
    expect(await hint('compose', 'debian12', withoutDockerCe)).toBe(
      "Debian's docker.io has no Compose v2: install docker-ce and docker-compose-plugin from Docker's apt repository, as deploy/README.md step 1 shows",
    );
    expect(await hint('docker', 'debian12', withoutDockerCe)).toContain(
      "install docker-ce and docker-compose-plugin from Docker's apt repository",
    );
  });

  it("on Ubuntu 24.04: Ubuntu's docker-compose-v2", async () => {
    expect(await hint('compose', 'ubuntu2404', withoutDockerCe)).toBe(
      "apt-get install docker-compose-v2 (Ubuntu's package of Compose v2)",
    );
    expect(await hint('docker', 'ubuntu2404', withoutDockerCe)).toMatch(
      /^apt-get install docker\.io docker-compose-v2 docker-buildx /,
    );
  });

  it("where Docker's own docker-ce is installed: its docker-compose-plugin, on either system", async () => {
    for (const system of ['debian12', 'ubuntu2404'] as const) {
      expect(await hint('compose', system, withDockerCe)).toBe(
        "apt-get install docker-compose-plugin (from Docker's apt repository, like your docker-ce)",
      );
    }
  });

  it("elsewhere, or without /etc/os-release: Docker's install guide", async () => {
    expect(await hint('compose', 'fedora', withoutDockerCe)).toBe(
      'install Docker Engine with its Compose v2 plugin: https://docs.docker.com/engine/install/',
    );
    const missing = await execFileText('sh', ['-c', `. "${lib}"; docker_hint docker`], {
      PATH: `${withoutDockerCe}:/usr/bin:/bin`,
      ATLAS_OS_RELEASE: path.join(dir, 'no-such-file'),
    });
    expect(missing.trim()).toContain('https://docs.docker.com/engine/install/');
  });
});
