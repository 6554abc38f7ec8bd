import { describe, expect, it } from 'vitest';
import { decodeBase64 } from './base64.ts';
import { canonicalJson } from './canonical-json.ts';
import { parseXMatrixAuthorization, verifyXMatrixRequest, xMatrixAuthorization } from './request-auth.ts';
import { serverKeyDocument, verifyServerKeyDocument } from './server-keys.ts';
import { signJson, verifyJsonSignature } from './signed-json.ts';
import { generateSigningKey, signingKeyFromSeed } from './signing-key.ts';

// Spec appendix "Signing Key" / "JSON signing" test vectors.
const seed = decodeBase64('YJDBA9Xnr2sVqXD9Vj7XVUnmFZcZrlw8Md7kMW+3XA1');
if (!seed) throw new Error('bad seed');
const specKey = signingKeyFromSeed('ed25519:1', seed);

describe('signing test vectors from the spec', () => {
  it('derives the published public key from the seed', () => {
    expect(specKey.publicKeyBase64).toBe('XGX0JRS2Af3be3knz2fBiRbApjm2Dh61gXDJA8kcJNI');
  });

  it('signs the empty object', () => {
    expect(signJson({}, 'domain', specKey)).toEqual({
      signatures: {
        domain: {
          'ed25519:1':
            'K8280/U9SSy9IVtjBuVeLr+HpOB4BQFWbg+UZaADMtTdGYI7Geitb76LTrr5QV/7Xg4ahLwYGYZzuHGZKM5ZAQ',
        },
      },
    });
  });

  it('signs an object with data', () => {
    const signed = signJson({ one: 1, two: 'Two' }, 'domain', specKey);
    expect(signed.signatures).toEqual({
      domain: {
        'ed25519:1': 'KqmLSbO39/Bzb0QIYE82zqLwsA+PDzYIpIRA2sRQ4sL53+sN6/fpNSoqE7BP7vBZhG6kYdD13EIMJpvhJI+6Bw',
      },
    });
    expect(verifyJsonSignature(signed, 'domain', 'ed25519:1', specKey.publicKey)).toBe(true);
    expect(verifyJsonSignature({ ...signed, two: 'two' }, 'domain', 'ed25519:1', specKey.publicKey)).toBe(
      false,
    );
  });
});

describe('canonical JSON', () => {
  it('matches the spec examples', () => {
    expect(canonicalJson({ one: 1, two: 'Two' })).toBe('{"one":1,"two":"Two"}');
    expect(canonicalJson({ b: '2', a: '1' })).toBe('{"a":"1","b":"2"}');
    expect(
      canonicalJson({
        auth: {
          success: true,
          mxid: '@john.doe:example.com',
          profile: {
            display_name: 'John Doe',
            three_pids: [
              { medium: 'email', address: 'john.doe@example.org' },
              { medium: 'msisdn', address: '123456789' },
            ],
          },
        },
      }),
    ).toBe(
      '{"auth":{"mxid":"@john.doe:example.com","profile":{"display_name":"John Doe","three_pids":[{"address":"john.doe@example.org","medium":"email"},{"address":"123456789","medium":"msisdn"}]},"success":true}}',
    );
    expect(canonicalJson({ a: '日本語' })).toBe('{"a":"日本語"}');
    expect(canonicalJson({ 本: 2, 日: 1 })).toBe('{"日":1,"本":2}');
    expect(canonicalJson({ a: '\u65E5' })).toBe('{"a":"日"}');
    expect(canonicalJson({ a: null })).toBe('{"a":null}');
  });

  it('sorts keys by code point, not by UTF-16 unit', () => {
    // U+FF21 sorts before U+1F600 by code point, after it by UTF-16 unit.
    expect(canonicalJson({ '\u{1F600}': 1, '\uFF21': 2 })).toBe('{"\uFF21":2,"\u{1F600}":1}');
  });

  it('refuses floats and unsafe integers', () => {
    expect(() => canonicalJson({ a: 1.5 })).toThrow();
    expect(() => canonicalJson({ a: 2 ** 53 })).toThrow();
  });
});

describe('X-Matrix request signing', () => {
  const key = generateSigningKey();
  const request = {
    method: 'GET',
    uri: '/_matrix/federation/v1/publicRooms?limit=100&since=abc%2Bdef',
    origin: 'atlas.example.org',
    destination: 'matrix.example.com',
  };

  it('produces a header Synapse parses: sig, not signature, no spaces around commas', () => {
    const header = xMatrixAuthorization(request, key);
    expect(header).toMatch(
      /^X-Matrix origin="atlas\.example\.org",destination="matrix\.example\.com",key="ed25519:[^"]+",sig="[^"]+"$/,
    );
  });

  it('round-trips and rejects tampering', () => {
    const creds = parseXMatrixAuthorization(xMatrixAuthorization(request, key));
    expect(creds).not.toBeNull();
    if (!creds) return;
    expect(verifyXMatrixRequest(creds, request, key.publicKey)).toBe(true);
    expect(verifyXMatrixRequest(creds, { ...request, uri: `${request.uri}&x=1` }, key.publicKey)).toBe(false);
    expect(verifyXMatrixRequest(creds, { ...request, destination: 'other.example' }, key.publicKey)).toBe(
      false,
    );
    expect(verifyXMatrixRequest(creds, request, generateSigningKey().publicKey)).toBe(false);
  });

  it('signs the body when there is one', () => {
    const withBody = { ...request, method: 'POST', content: { limit: 5 } };
    const creds = parseXMatrixAuthorization(xMatrixAuthorization(withBody, key));
    if (!creds) throw new Error('unparsed');
    expect(verifyXMatrixRequest(creds, withBody, key.publicKey)).toBe(true);
    expect(verifyXMatrixRequest(creds, { ...withBody, content: { limit: 6 } }, key.publicKey)).toBe(false);
  });

  it('parses bare tokens and rejects junk', () => {
    expect(parseXMatrixAuthorization('X-Matrix origin=a.example,key="ed25519:1",sig="abc"')).toEqual({
      origin: 'a.example',
      destination: undefined,
      keyId: 'ed25519:1',
      sig: 'abc',
    });
    expect(parseXMatrixAuthorization('Bearer abc')).toBeNull();
    expect(parseXMatrixAuthorization('X-Matrix origin="a b",key="ed25519:1",sig="x"')).toBeNull();
    expect(parseXMatrixAuthorization('X-Matrix origin="a.example",key="rsa:1",sig="x"')).toBeNull();
    expect(parseXMatrixAuthorization('X-Matrix origin="a.example" junk key="ed25519:1",sig="x"')).toBeNull();
  });
});

describe('server key document', () => {
  it('is self-signed and verifies', () => {
    const key = generateSigningKey();
    const doc = serverKeyDocument('atlas.example.org', key, 1_000);
    const verified = verifyServerKeyDocument(doc, 'atlas.example.org');
    expect(verified?.keys.get(key.keyId)).toBeDefined();
    expect(verified?.validUntilTs).toBe(1_000 + 24 * 3600 * 1000);
    expect(verifyServerKeyDocument(doc, 'evil.example.org')).toBeNull();
    expect(verifyServerKeyDocument({ ...doc, valid_until_ts: 5 }, 'atlas.example.org')).toBeNull();
  });
});
