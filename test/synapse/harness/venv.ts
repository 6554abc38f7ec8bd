import { execFile } from 'node:child_process';
import { access, constants } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const INSTALL_HINT = 'run: sh scripts/install-synapse.sh';

export interface SynapseVenv {
  /** The virtualenv folder. */
  dir: string;
  python: string;
  /** The installed matrix-synapse release, e.g. "1.163.2": what Synapse reports over federation. */
  version: string;
}

/**
 * Finds the Synapse virtualenv (`ATLAS_SYNAPSE_VENV`, exported by scripts/test-all.sh, else
 * `.cache/synapse-venv`) and checks that Synapse imports from it. Throws with the command that
 * fixes it: the Synapse suite fails loudly rather than skipping.
 */
export async function findSynapseVenv(env: NodeJS.ProcessEnv = process.env): Promise<SynapseVenv> {
  const dir = path.resolve(env.ATLAS_SYNAPSE_VENV || path.join(REPO_ROOT, '.cache/synapse-venv'));
  const python = path.join(dir, 'bin/python');
  try {
    await access(python, constants.X_OK);
  } catch {
    throw new Error(`Synapse is not installed: ${python} does not exist; ${INSTALL_HINT}`);
  }
  try {
    const { stdout } = await run(
      python,
      ['-c', 'import importlib.metadata as m, synapse.app.homeserver; print(m.version("matrix-synapse"))'],
      { env: venvEnv(dir, env), timeout: 60_000 },
    );
    const version = stdout.trim();
    if (!/^\d+\.\d+\.\d+/.test(version)) throw new Error(`unexpected version "${version}"`);
    return { dir, python, version };
  } catch (error) {
    throw new Error(
      `Synapse does not load from ${dir} (${error instanceof Error ? error.message : String(error)}); ${INSTALL_HINT}`,
    );
  }
}

/**
 * Environment for Synapse's processes. Synapse appends `git describe` details to its version when
 * its files sit inside a git checkout (the venv lives under the repository's .cache), which would
 * make it report "1.163.2 (b=main,abc123)" instead of the release it is; the ceiling stops git
 * from looking above the venv, so Synapse reports what an installed release reports.
 */
export function venvEnv(dir: string, env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  return {
    PATH: `${path.join(dir, 'bin')}:${env.PATH ?? '/usr/bin:/bin'}`,
    HOME: env.HOME,
    LANG: 'C.UTF-8',
    VIRTUAL_ENV: dir,
    GIT_CEILING_DIRECTORIES: dir,
    PYTHONDONTWRITEBYTECODE: '1',
  };
}
