import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import { isIP } from 'node:net';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto as unknown as ReturnType<typeof x509.cryptoProvider.get>);

type CryptoKeyPair = webcrypto.CryptoKeyPair;

const ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const DAY = 24 * 3600 * 1000;

export interface IssuedCertificate {
  /** PEM certificate (leaf only). */
  cert: string;
  /** PEM PKCS#8 private key. */
  key: string;
  notAfter: Date;
}

export interface TestCa {
  /** PEM CA certificate, for ATLAS_CA_FILE, Synapse's federation_custom_ca_list, and so on. */
  cert: string;
  /** A leaf certificate valid for every DNS name and IP address in `names`. */
  issue(names: string[], options?: { validDays?: number }): Promise<IssuedCertificate>;
}

function pem(label: string, der: ArrayBuffer): string {
  const body = Buffer.from(der).toString('base64').replace(/.{64}/g, '$&\n');
  return `-----BEGIN ${label}-----\n${body}${body.endsWith('\n') ? '' : '\n'}-----END ${label}-----\n`;
}

/**
 * A throwaway certificate authority for tests: every party of a test (Atlas, the simulated
 * federation, Synapse, HAProxy) trusts its certificate, so TLS is verified for real on loopback.
 */
export async function createTestCa(commonName = 'Atlas Test CA'): Promise<TestCa> {
  const caKeys = (await webcrypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify'])) as CryptoKeyPair;
  const now = Date.now();
  const caCert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: Buffer.from(webcrypto.getRandomValues(new Uint8Array(8))).toString('hex'),
    name: `CN=${commonName}`,
    notBefore: new Date(now - DAY),
    notAfter: new Date(now + 365 * DAY),
    keys: caKeys,
    signingAlgorithm: ALGORITHM,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(caKeys.publicKey),
    ],
  });
  const caName = caCert.subject;

  return {
    cert: caCert.toString('pem'),
    async issue(names, options = {}) {
      if (names.length === 0) throw new Error('a certificate needs at least one name');
      const keys = (await webcrypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify'])) as CryptoKeyPair;
      const notAfter = new Date(Date.now() + (options.validDays ?? 90) * DAY);
      const altNames = names.map((name) =>
        isIP(name) ? { type: 'ip' as const, value: name } : { type: 'dns' as const, value: name },
      );
      const cert = await x509.X509CertificateGenerator.create({
        serialNumber: Buffer.from(webcrypto.getRandomValues(new Uint8Array(8))).toString('hex'),
        subject: `CN=${names[0]}`,
        issuer: caName,
        notBefore: new Date(Date.now() - DAY),
        notAfter,
        signingKey: caKeys.privateKey,
        publicKey: keys.publicKey,
        signingAlgorithm: ALGORITHM,
        extensions: [
          new x509.BasicConstraintsExtension(false, undefined, true),
          new x509.KeyUsagesExtension(
            x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment,
            true,
          ),
          new x509.ExtendedKeyUsageExtension([
            x509.ExtendedKeyUsage.serverAuth,
            x509.ExtendedKeyUsage.clientAuth,
          ]),
          new x509.SubjectAlternativeNameExtension(altNames),
          await x509.AuthorityKeyIdentifierExtension.create(caKeys.publicKey),
        ],
      });
      const pkcs8 = await webcrypto.subtle.exportKey('pkcs8', keys.privateKey);
      return { cert: cert.toString('pem'), key: pem('PRIVATE KEY', pkcs8), notAfter };
    },
  };
}
