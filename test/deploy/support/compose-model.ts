import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parse } from 'yaml';
import { z } from 'zod';
import { DEPLOY_DIR } from './render.ts';
import type { Mount } from './sandbox.ts';

/** KEY=value lines of a .env file, as compose reads them (no quotes are used by setup.sh). */
export async function readEnvFile(file: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const line of (await readFile(file, 'utf8')).split('\n')) {
    const match = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
    if (match?.[1]) out[match[1]] = match[2] ?? '';
  }
  return out;
}

/**
 * Compose interpolation (Compose Specification, "Interpolation"): `${VAR}`, `${VAR:-default}`,
 * `${VAR-default}`, `${VAR:?error}`, and `$$` for a literal `$`.
 */
export function interpolate(text: string, env: Record<string, string>): string {
  return text.replace(/\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}/g, (all, name, op, arg) => {
    if (all === '$$') return '$';
    const value = env[name as string];
    const unsetOrEmpty = value === undefined || (op?.startsWith(':') && value === '');
    if (op === ':-' || op === '-') return unsetOrEmpty ? (arg as string) : (value ?? '');
    if (op === ':?' || op === '?') {
      if (unsetOrEmpty) throw new Error(`compose: ${name} is required: ${arg}`);
      return value ?? '';
    }
    return value ?? '';
  });
}

const stringList = z.array(z.string());
const serviceSchema = z.looseObject({
  image: z.string().optional(),
  command: stringList.optional(),
  entrypoint: stringList.optional(),
  environment: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).optional(),
  volumes: stringList.optional(),
  secrets: z
    .array(z.union([z.string(), z.looseObject({ source: z.string(), target: z.string().optional() })]))
    .optional(),
  tmpfs: stringList.optional(),
  user: z.string().optional(),
  profiles: stringList.optional(),
  ports: stringList.optional(),
  network_mode: z.string().optional(),
});
export type ComposeService = z.infer<typeof serviceSchema>;

const composeSchema = z.looseObject({
  services: z.record(z.string(), serviceSchema),
  volumes: z.record(z.string(), z.unknown()).optional(),
  secrets: z.record(z.string(), z.looseObject({ file: z.string() })).optional(),
});
export type ComposeFile = z.infer<typeof composeSchema>;

/** The stack's compose file, parsed as compose does: YAML merge keys resolved, then interpolated. */
export async function loadCompose(stackDir: string): Promise<{ raw: unknown; model: ComposeFile }> {
  const env = await readEnvFile(path.join(stackDir, '.env'));
  const text = await readFile(path.join(stackDir, 'compose.yaml'), 'utf8');
  const raw: unknown = parse(text, { merge: true });
  const interpolated = JSON.parse(
    JSON.stringify(raw, (_key, value: unknown) =>
      typeof value === 'string' ? interpolate(value, env) : value,
    ),
  ) as unknown;
  return { raw: interpolated, model: composeSchema.parse(interpolated) };
}

export function service(model: ComposeFile, name: string): ComposeService {
  const found = model.services[name];
  if (!found) throw new Error(`compose.yaml has no service "${name}"`);
  return found;
}

export function environmentOf(svc: ComposeService): Record<string, string> {
  return Object.fromEntries(
    Object.entries(svc.environment ?? {}).map(([key, value]) => [key, String(value)]),
  );
}

/**
 * The service's mounts as compose makes them: bind mounts relative to the stack folder, named
 * volumes from `volumeDirs` (the test's stand-in for Docker's volumes), and each secret as a
 * read-only file at /run/secrets/<name>.
 */
export function mountsOf(
  model: ComposeFile,
  svc: ComposeService,
  stackDir: string,
  volumeDirs: Record<string, string>,
): Mount[] {
  const mounts: Mount[] = [];
  for (const spec of svc.volumes ?? []) {
    const [source = '', target = '', mode] = spec.split(':');
    const readOnly = mode === 'ro';
    if (source.startsWith('.') || source.startsWith('/')) {
      mounts.push({ source: path.resolve(stackDir, source), target, readOnly });
    } else {
      const dir = volumeDirs[source];
      if (!dir) throw new Error(`the test gave no folder for the named volume "${source}"`);
      mounts.push({ source: dir, target, readOnly });
    }
  }
  for (const entry of svc.secrets ?? []) {
    const name = typeof entry === 'string' ? entry : entry.source;
    const target = typeof entry === 'string' ? name : (entry.target ?? name);
    const file = model.secrets?.[name]?.file;
    if (!file) throw new Error(`secret "${name}" is not declared at the top of compose.yaml`);
    mounts.push({ source: path.resolve(stackDir, file), target: `/run/secrets/${target}`, readOnly: true });
  }
  return mounts;
}

/**
 * What the repository's compose.yaml gives a service's variable when .env does not set it (the
 * default of its `${VARIABLE:-default}`), for tests that run the service's program outside compose.
 */
export async function composeDefault(serviceName: string, variable: string): Promise<string> {
  const text = await readFile(path.join(DEPLOY_DIR, 'compose.yaml'), 'utf8');
  const raw = composeSchema.parse(parse(text, { merge: true }));
  const value = environmentOf(service(raw, serviceName))[variable];
  if (value === undefined) throw new Error(`compose.yaml gives ${serviceName} no ${variable}`);
  return interpolate(value, {});
}
