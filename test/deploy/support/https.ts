import path from 'node:path';
import type { Network } from './sandbox.ts';

export interface HttpAnswer {
  status: number;
  httpVersion: string;
  headers: Record<string, string>;
  body: string;
  json<T = unknown>(): T;
}

/**
 * One HTTPS request from inside the test network with curl, trusting the stack's self-signed
 * certificate, with `host` resolved to 127.0.0.1 (where HAProxy listens in that network).
 */
export async function httpsRequest(
  network: Network,
  stackDir: string,
  url: string,
  options: { method?: string; body?: string; headers?: Record<string, string>; caFile?: string } = {},
): Promise<HttpAnswer> {
  const target = new URL(url);
  const port = target.port || '443';
  const args = [
    'curl',
    '-sS',
    '-i',
    '--http2',
    '--max-time',
    '20',
    '--cacert',
    options.caFile ?? path.join(stackDir, 'certs/fullchain.pem'),
    '--resolve',
    `${target.hostname}:${port}:127.0.0.1`,
    '-w',
    '\n%{http_version}',
    '-X',
    options.method ?? 'GET',
  ];
  for (const [name, value] of Object.entries(options.headers ?? {})) args.push('-H', `${name}: ${value}`);
  if (options.body !== undefined) args.push('-H', 'Content-Type: application/json', '--data-binary', '@-');
  args.push(url);
  const result = await network.exec(args, { input: options.body ?? '' });
  if (result.code !== 0) throw new Error(`curl ${url} failed (${result.code}): ${result.stderr}`);
  const cut = result.stdout.lastIndexOf('\n');
  const httpVersion = result.stdout.slice(cut + 1).trim();
  const raw = result.stdout.slice(0, cut);
  const split = raw.indexOf('\r\n\r\n');
  const head = split >= 0 ? raw.slice(0, split) : raw;
  const body = split >= 0 ? raw.slice(split + 4) : '';
  const [statusLine = '', ...lines] = head.split('\r\n');
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
  }
  return {
    status: Number(statusLine.split(' ')[1]),
    httpVersion,
    headers,
    body,
    json: <T>() => JSON.parse(body) as T,
  };
}
