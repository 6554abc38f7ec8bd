// Atlas's CLI compiled to plain JavaScript, rebuilt when a source changes.
//
// Why: loading the TypeScript sources through tsx runs tsx's module hooks on a second V8 thread
// for the life of the process, ~40 MB of a crawler's memory before it does any work. esbuild (the
// same compiler tsx uses, with the same tsconfig) bundles the CLI and everything it imports from
// the workspaces into node_modules/.cache/atlas-cli in ~0.2 s; the next start reuses it as long as
// every source file is unchanged (size and modification time). npm packages stay external: they are
// loaded from node_modules as before.
import { constants } from 'node:fs';
import { access, mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const APP_DIR = fileURLToPath(new URL('..', import.meta.url));
const ROOT = path.resolve(APP_DIR, '../..');
const ENTRY = path.join(APP_DIR, 'src/main.ts');
// Under the root node_modules, so the bundle's bare imports resolve to the same packages.
const CACHE_DIR = path.join(ROOT, 'node_modules/.cache/atlas-cli');
const CURRENT = path.join(CACHE_DIR, 'current.json');
/** Older builds stay this long: a process started from one may still load its lazy chunks. */
const KEEP_OLD_BUILDS_MS = 24 * 60 * 60 * 1000;
/** Besides the sources: what changes how they are resolved or compiled. */
const BUILD_INPUTS = [
  fileURLToPath(import.meta.url),
  path.join(ROOT, 'tsconfig.json'),
  path.join(ROOT, 'package-lock.json'),
  path.join(ROOT, 'packages/shared/package.json'),
  path.join(ROOT, 'apps/cli/package.json'),
  path.join(ROOT, 'apps/crawler/package.json'),
  path.join(ROOT, 'apps/api/package.json'),
  path.join(ROOT, 'apps/web/package.json'),
];

/**
 * The CLI's `main`, from the compiled bundle (built first when missing or out of date), or from
 * the TypeScript sources through tsx when the bundle cannot be built or written (a read-only
 * install, a container running as an unprivileged user).
 */
export async function loadMain() {
  let entry;
  try {
    entry = (await currentBuild()) ?? (await build());
  } catch (error) {
    if (!['EACCES', 'EROFS', 'EPERM'].includes(error?.code)) {
      process.stderr.write(
        `atlas: running from the TypeScript sources (compiling the CLI failed: ${error?.message ?? error})\n`,
      );
    }
  }
  if (entry) return (await import(pathToFileURL(entry).href)).main;
  const { register } = await import('tsx/esm/api');
  register();
  return (await import(pathToFileURL(ENTRY).href)).main;
}

/** What a file looked like when a build read it. */
async function fingerprint(file) {
  try {
    const s = await stat(file);
    return `${s.size}:${s.mtimeMs}`;
  } catch {
    return 'missing';
  }
}

/** The entry of the last build when none of its inputs changed since. */
async function currentBuild() {
  let current;
  try {
    current = JSON.parse(await readFile(CURRENT, 'utf8'));
  } catch {
    return undefined;
  }
  const files = Object.keys(current.inputs ?? {});
  if (files.length === 0 || typeof current.entry !== 'string') return undefined;
  const prints = await Promise.all(files.map(fingerprint));
  if (prints.some((print, i) => print !== current.inputs[files[i]])) return undefined;
  return (await fingerprint(current.entry)) === 'missing' ? undefined : current.entry;
}

async function build() {
  // An install this user cannot write to fails here, with the error's code, before esbuild runs.
  await mkdir(CACHE_DIR, { recursive: true });
  await access(CACHE_DIR, constants.W_OK);
  const esbuild = await import('esbuild');
  const started = Date.now();
  const outdir = path.join(CACHE_DIR, `build-${started}-${process.pid}`);
  let result;
  try {
    result = await esbuild.build({
      entryPoints: { main: ENTRY },
      outdir,
      bundle: true,
      splitting: true,
      format: 'esm',
      platform: 'node',
      target: 'node20',
      sourcemap: 'linked',
      metafile: true,
      logLevel: 'silent',
      plugins: [workspaceOnly],
    });
  } finally {
    await esbuild.stop();
  }
  const inputs = {};
  const files = [
    ...Object.keys(result.metafile.inputs).map((input) => path.resolve(ROOT, input)),
    ...BUILD_INPUTS,
  ];
  for (const file of files) inputs[file] = await fingerprint(file);
  const entry = path.join(outdir, 'main.js');
  // A file saved while the build read it may be in the bundle in either version: use this build
  // once, but do not record it, so the next start builds again.
  const changedDuring = await Promise.all(
    files.map((file) =>
      stat(file).then(
        (s) => s.mtimeMs >= started,
        () => true,
      ),
    ),
  );
  if (!changedDuring.some(Boolean)) {
    const temporary = `${CURRENT}.${process.pid}`;
    await writeFile(temporary, JSON.stringify({ entry, inputs }));
    await rename(temporary, CURRENT);
  }
  await removeOldBuilds(outdir);
  return entry;
}

/**
 * Bundles the workspaces' sources and leaves npm packages to Node. A source that asks for its own
 * location (`import.meta.url`, e.g. to find the migrations folder) gets its real one, not the
 * bundle's.
 */
const workspaceOnly = {
  name: 'atlas-workspaces',
  setup(builder) {
    builder.onResolve({ filter: /^[^./]/ }, (args) =>
      args.path.startsWith('@atlas/') || path.isAbsolute(args.path) ? undefined : { external: true },
    );
    builder.onLoad({ filter: /\.ts$/ }, async (args) => {
      const text = await readFile(args.path, 'utf8');
      if (!text.includes('import.meta.url')) return undefined;
      const own = JSON.stringify(pathToFileURL(args.path).href);
      return { contents: text.replaceAll('import.meta.url', own), loader: 'ts' };
    });
  },
};

async function removeOldBuilds(keep) {
  const now = Date.now();
  for (const name of await readdir(CACHE_DIR)) {
    const dir = path.join(CACHE_DIR, name);
    if (!name.startsWith('build-') || dir === keep) continue;
    const built = Number(name.split('-')[1]);
    if (Number.isFinite(built) && now - built > KEEP_OLD_BUILDS_MS) {
      await rm(dir, { recursive: true, force: true });
    }
  }
}
