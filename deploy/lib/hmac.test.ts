import { execFile } from 'node:child_process';
import { createHmac, randomBytes } from 'node:crypto';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const lib = fileURLToPath(new URL('./hmac.sh', import.meta.url));

// Each watched program logs its command line, then runs the real one: what `ps` would have shown.
const watched = ['openssl', 'od', 'tr', 'cat'];
let bin: string;

beforeAll(async () => {
  bin = await mkdtemp(path.join(tmpdir(), 'atlas-hmac-'));
  for (const program of watched) {
    const wrapper = path.join(bin, program);
    await writeFile(
      wrapper,
      `#!/bin/sh\nprintf '%s\\n' "${program} $*" >> "${bin}/argv.log"\nexec /usr/bin/${program} "$@"\n`,
    );
    await chmod(wrapper, 0o755);
  }
});

afterAll(async () => {
  await rm(bin, { recursive: true, force: true });
});

function shellHmac(key: string, message: Buffer): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      'sh',
      ['-c', `. "${lib}"; hmac_sha1_hex "$ATLAS_TEST_KEY"`],
      { env: { PATH: `${bin}:/usr/bin:/bin`, ATLAS_TEST_KEY: key }, encoding: 'utf8' },
      (error, stdout) => (error ? reject(error) : resolve(stdout.trim())),
    );
    child.stdin?.end(message);
  });
}

// Registration secrets are text on one line; the message is Synapse's NUL-separated fields.
function randomKey(length: number): string {
  const alphabet =
    'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789~!@#$%^&*()_+-=[]{};:\'",.<>/?\\|` 6';
  return Array.from(randomBytes(length), (byte) => alphabet[byte % alphabet.length]).join('');
}

describe("adduser.sh's HMAC-SHA1", () => {
  it('matches HMAC-SHA1 for keys shorter than, equal to and longer than the block, with NULs in the message', async () => {
    for (const length of [0, 1, 20, 32, 63, 64, 65, 100, 200]) {
      const key = randomKey(length);
      const message = Buffer.concat([randomBytes(24), Buffer.from('\0alice\0pass word\0admin')]);
      expect(await shellHmac(key, message), `key of ${length} characters`).toBe(
        createHmac('sha1', key).update(message).digest('hex'),
      );
    }
  });

  it('never puts the key on a command line', async () => {
    const key = `registration-secret-${randomBytes(16).toString('hex')}`;
    await shellHmac(key, Buffer.from('nonce\0bob\0password\0notadmin'));
    const argv = await readFile(path.join(bin, 'argv.log'), 'utf8');
    expect(argv).toContain('openssl dgst -sha1');
    expect(argv).not.toContain(key);
    expect(argv).not.toContain(Buffer.from(key).toString('hex').slice(0, 16));
  });
});
