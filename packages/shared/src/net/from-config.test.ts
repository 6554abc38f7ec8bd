import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../config/index.ts';
import { USER_AGENT } from '../version.ts';
import { httpClientOptionsFromConfig } from './from-config.ts';

let dir: string;
const PEM = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'atlas-ca-'));
  await writeFile(path.join(dir, 'ca.pem'), PEM);
  await writeFile(path.join(dir, 'not-a-cert.pem'), 'hello');
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('httpClientOptionsFromConfig', () => {
  it('carries DNS servers, allowed networks and the CA file contents', async () => {
    const options = await httpClientOptionsFromConfig(
      {
        dnsServers: [{ host: '127.0.0.1', port: 5353 }],
        allowNetworks: ['127.0.0.0/8'],
        caFile: path.join(dir, 'ca.pem'),
      },
      { maxInFlight: 16 },
    );
    expect(options).toEqual({
      dnsServers: [{ host: '127.0.0.1', port: 5353 }],
      ca: PEM,
      allowNetworks: ['127.0.0.0/8'],
      userAgent: USER_AGENT,
      maxInFlight: 16,
    });
  });

  it('names ATLAS_CA_FILE when the file is missing or holds no certificate', async () => {
    for (const file of [path.join(dir, 'missing.pem'), path.join(dir, 'not-a-cert.pem')]) {
      const attempt = httpClientOptionsFromConfig(
        { dnsServers: undefined, allowNetworks: [], caFile: file },
        { maxInFlight: 1 },
      );
      await expect(attempt).rejects.toBeInstanceOf(ConfigError);
      await expect(attempt).rejects.toThrow(/ATLAS_CA_FILE/);
    }
  });
});
