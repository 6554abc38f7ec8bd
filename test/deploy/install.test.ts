import { execFileSync, spawnSync } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEPLOY_DIR } from './support/render.ts';

// The first step of deploy/README.md, as an operator pastes it on Debian 12 or Ubuntu 24.04. This
// machine runs Debian 12 with no network: the distribution's package names are checked against
// its apt index; Docker's repository cannot be reached, so what is checked of it is the source
// line and key address the step writes for each system, and the package names it installs from
// there (Docker's own names, the same on both systems).

/** Docker's packages as Docker's install guide names them (docs.docker.com/engine/install/debian, /ubuntu). */
const DOCKER_REPOSITORY_PACKAGES = [
  'docker-ce',
  'docker-ce-cli',
  'containerd.io',
  'docker-buildx-plugin',
  'docker-compose-plugin',
];

const OS_RELEASES = {
  'Debian 12': {
    text: 'NAME="Debian GNU/Linux"\nVERSION_ID="12"\nVERSION_CODENAME=bookworm\nID=debian\n',
    id: 'debian',
    codename: 'bookworm',
  },
  'Ubuntu 24.04': {
    text: 'NAME="Ubuntu"\nVERSION_ID="24.04"\nVERSION_CODENAME=noble\nID=ubuntu\nID_LIKE=debian\n',
    id: 'ubuntu',
    codename: 'noble',
  },
} as const;

/** The shell block of README step 1, one command a line. */
async function installStep(): Promise<string[]> {
  const readme = await readFile(path.join(DEPLOY_DIR, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## 1. The machine'), readme.indexOf('## 2.'));
  const block = /```sh\n([\s\S]*?)```/.exec(section)?.[1];
  if (!block) throw new Error('deploy/README.md step 1 has no sh block');
  return block.split('\n').filter((line) => line.trim().length > 0);
}

/** Packages of each `apt-get install -y` in the lines, and whether they come after Docker's source line. */
function installs(lines: string[]): { name: string; fromDocker: boolean }[] {
  const out: { name: string; fromDocker: boolean }[] = [];
  let dockerSource = false;
  for (const line of lines) {
    if (line.includes('/etc/apt/sources.list.d/docker.list')) dockerSource = true;
    for (const match of line.matchAll(/apt-get install -y ([^&;]+)/g)) {
      for (const name of (match[1] ?? '').trim().split(/\s+/)) out.push({ name, fromDocker: dockerSource });
    }
  }
  return out;
}

function isDebian12(): boolean {
  try {
    const release = execFileSync('cat', ['/etc/os-release'], { encoding: 'utf8' });
    return /^ID=debian$/m.test(release) && /^VERSION_ID="?12"?$/m.test(release);
  } catch {
    return false;
  }
}

describe("deploy/README.md's install step", () => {
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'atlas-install-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("installs Docker with Compose v2 from Docker's repository, by the names that repository uses", async () => {
    const packages = installs(await installStep());
    expect(packages.filter((p) => p.fromDocker).map((p) => p.name)).toEqual(DOCKER_REPOSITORY_PACKAGES);
    // Names that exist on one system only are not in the step (Debian 12 has no docker-compose-v2 or
    // docker-compose-plugin of its own; Ubuntu's docker.io would clash with docker-ce).
    const names = packages.map((p) => p.name);
    for (const name of ['docker.io', 'docker-compose-v2', 'docker-compose'])
      expect(names).not.toContain(name);
  });

  it.skipIf(!isDebian12())(
    "names packages Debian 12's apt resolves, for everything not from Docker's repository",
    async () => {
      const distribution = installs(await installStep())
        .filter((p) => !p.fromDocker)
        .map((p) => p.name);
      expect(distribution).toEqual(
        expect.arrayContaining(['curl', 'git', 'openssl', 'dnsutils', 'ca-certificates']),
      );
      const policy = spawnSync('apt-cache', ['policy', ...distribution], { encoding: 'utf8' });
      expect(policy.status, policy.stderr).toBe(0);
      const candidates = new Map(
        [...policy.stdout.matchAll(/^(\S+):\n\s+Installed: .*\n\s+Candidate: (.*)$/gm)].map((m) => [
          m[1],
          m[2],
        ]),
      );
      for (const name of distribution) {
        expect(candidates.get(name), `apt-cache policy ${name}`).toBeDefined();
        expect(candidates.get(name), `apt-cache policy ${name}`).not.toBe('(none)');
      }
      // And the name the old step used is indeed not a Debian 12 package.
      const old = spawnSync('apt-cache', ['policy', 'docker-compose-plugin'], { encoding: 'utf8' });
      expect(old.stdout.includes('Candidate:') && !old.stdout.includes('Candidate: (none)')).toBe(false);
    },
  );

  it.each(Object.entries(OS_RELEASES))(
    "writes the source line and key address of Docker's repository for %s",
    async (system, release) => {
      // The step's own lines, with /etc paths moved into a scratch folder and a dpkg that says amd64.
      const root = path.join(dir, release.id);
      const bin = path.join(root, 'bin');
      await mkdir(bin, { recursive: true });
      // What a Debian or Ubuntu system has already: the folder apt reads sources from.
      await mkdir(path.join(root, 'etc/apt/sources.list.d'), { recursive: true });
      await writeFile(path.join(root, 'os-release'), release.text);
      await writeFile(path.join(bin, 'dpkg'), '#!/bin/sh\n[ "$1" = --print-architecture ] && echo amd64\n');
      await writeFile(path.join(bin, 'curl'), `#!/bin/sh\nprintf '%s\\n' "$*" > "${root}/curl.args"\n`);
      await chmod(path.join(bin, 'dpkg'), 0o755);
      await chmod(path.join(bin, 'curl'), 0o755);
      const lines = (await installStep())
        .filter((line) => !line.startsWith('apt-get') && !line.startsWith('git '))
        .map((line) =>
          line
            .replaceAll('/etc/os-release', `${root}/os-release`)
            .replaceAll('/etc/apt/', `${root}/etc/apt/`),
        );
      const run = spawnSync('sh', ['-e', '-c', lines.join('\n')], {
        encoding: 'utf8',
        env: { PATH: `${bin}:/usr/bin:/bin` },
      });
      expect(run.status, `${system}: ${run.stderr}`).toBe(0);
      const unmoved = (text: string) => text.replaceAll(`${root}/etc/apt/`, '/etc/apt/');
      const source = unmoved(await readFile(path.join(root, 'etc/apt/sources.list.d/docker.list'), 'utf8'));
      expect(source).toBe(
        `deb [arch=amd64 signed-by=/etc/apt/keyrings/docker.asc] https://download.docker.com/linux/${release.id} ${release.codename} stable\n`,
      );
      expect(unmoved(await readFile(path.join(root, 'curl.args'), 'utf8'))).toBe(
        `-fsSL https://download.docker.com/linux/${release.id}/gpg -o /etc/apt/keyrings/docker.asc\n`,
      );
    },
  );
});
